// Success responses every resource handler shares: a JSON body, and 204 with the new ETag.
// Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "http/message.h"

namespace ts::api {

http::HttpResponse JsonResponse(int status, std::string body);

// 204 No Content after a write, with `ETag: "<version>"`.
http::HttpResponse NoContentResponse(std::int64_t version);

}  // namespace ts::api
