// Success responses every resource handler shares: a JSON body, a list with its total, and
// 204 with the new ETag.
// Pure, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "http/message.h"

namespace ts::api {

http::HttpResponse JsonResponse(int status, std::string body);

// 200 with a rendered list, and `X-Total-Count` when the total was counted.
http::HttpResponse ListResponse(std::string body, std::optional<std::int64_t> total);

// 204 No Content after a write, with `ETag: "<version>"`.
http::HttpResponse NoContentResponse(std::int64_t version);

}  // namespace ts::api
