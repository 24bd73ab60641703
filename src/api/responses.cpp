#include "api/responses.h"

#include <utility>

#include "api/list_request.h"

namespace ts::api {

http::HttpResponse JsonResponse(int status, std::string body) {
  http::HttpResponse response;
  response.status = status;
  response.SetHeader("Content-Type", "application/json");
  response.body = std::move(body);
  return response;
}

http::HttpResponse ListResponse(std::string body, std::optional<std::int64_t> total) {
  http::HttpResponse response = JsonResponse(200, std::move(body));
  if (total) response.SetHeader("X-Total-Count", std::to_string(*total));
  return response;
}

http::HttpResponse NoContentResponse(std::int64_t version) {
  http::HttpResponse response;
  response.status = 204;
  response.SetHeader("ETag", EntityTag(version));
  return response;
}

}  // namespace ts::api
