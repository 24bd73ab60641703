// The one place where error codes become HTTP statuses and documented error bodies.
// Public messages only: Error::internal never reaches a response. Pure, thread-safe.
#pragma once

#include <string_view>

#include "common/result.h"
#include "http/message.h"

namespace ts::api {

int StatusFor(ErrorCode code);
std::string_view ReasonPhrase(int status);

// Renders an Error as the contract's body for its status (401 fault bodies, 404 with
// resourceId, the common {code,status,message,details} otherwise).
http::HttpResponse RenderError(const Error& error);

// For the HTTP server's own answers (413, 414, 431, 400, 500, 503): the common body.
http::HttpResponse RenderStatus(int status, std::string_view message);

// Quotes at most 100 characters of client input inside a message.
std::string Quote(std::string_view input);

}  // namespace ts::api
