// Request-body decoding shared by every resource handler: media-type check (415), JSON
// parsing with the nesting limit (400), and small typed accessors that produce the
// contract's 400 details. Pure functions, thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/result.h"
#include "http/message.h"

namespace ts::api {

inline constexpr int kMaxJsonDepth = 64;

// True when the request carries a JSON media type (application/json or application/*+json).
bool HasJsonContentType(const http::HttpRequest& request);

// Parses the body as JSON. An empty body gives nullopt (the caller decides if that is OK).
// Errors: 415 for a body with a non-JSON media type, 400 for invalid or too deep JSON.
Result<std::optional<boost::json::value>> ParseJsonBody(const http::HttpRequest& request);

// A JSON integer ≥ 1 that fits int64 (not a float, not a string).
Result<std::int64_t> PositiveInteger(const boost::json::value& v, std::string_view field);

// "string", "number", ... for messages.
std::string_view JsonKindName(const boost::json::value& v);

}  // namespace ts::api
