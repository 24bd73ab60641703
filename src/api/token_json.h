// JSON ⇄ Token: decoding the PUT and PATCH bodies into service commands, and rendering
// tokens with a projection. The value is moved into wiped memory as soon as it is decoded.
// Pure functions, thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "domain/token.h"
#include "query/query.h"
#include "service/token_service.h"

namespace ts::api {

// Decodes a PUT body for `path_id` (the body's `id`, when present, must match it).
// Consumes `body`: the value's bytes are wiped from it.
Result<service::UpsertCommand> DecodeTokenPut(boost::json::value& body,
                                              const std::string& path_id);

// Decodes a PATCH body (a JSON array of operations).
Result<std::vector<domain::PatchOperation>> DecodePatch(const boost::json::value& body);

// Decodes a search body: absent, `{}` or `{"q": "..."}`.
Result<std::string> DecodeSearchBody(const std::optional<boost::json::value>& body);

// {"version", "createdAt", "modifiedAt"} as far as the projection selects them (paths below
// "metadata").
// `sp`: where the JSON values allocate (default: the heap).
boost::json::object RenderMetadata(const domain::ResourceMetadata& metadata,
                                   const query::Projection& projection,
                                   boost::json::storage_ptr sp = {});

boost::json::object RenderToken(const domain::Token& token, const query::Projection& projection,
                                boost::json::storage_ptr sp = {});

// The JSON text of a list page: an array of RenderToken results. Builds the array in a
// monotonic arena (one allocation for a page of 60 instead of several per token).
std::string RenderTokenPage(const std::vector<domain::Token>& tokens,
                            const query::Projection& projection);

}  // namespace ts::api
