#include "api/resource_requests.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "api/json_body.h"
#include "api/token_json.h"  // DecodePatch, DecodeSearchBody: the same for every resource

namespace ts::api {

Result<boost::json::value> RequiredJsonBody(const RequestContext& ctx) {
  auto body = ParseJsonBody(ctx.request);
  if (!body) return std::move(body).error();
  if (!*body) return Error::InvalidField("body", "required", "A request body is required");
  return std::move(**body);
}

Result<std::string> ListQueryText(const RequestContext& ctx) {
  auto q = ctx.params.Single("q");
  if (!q) return std::move(q).error();
  return q->value_or("");
}

Result<std::string> SearchQueryText(const RequestContext& ctx) {
  auto body = ParseJsonBody(ctx.request);
  if (!body) return std::move(body).error();
  return DecodeSearchBody(*body);
}

service::Caller CallerOf(const RequestContext& ctx) {
  return service::Caller{ctx.tenant, ctx.principal.subject, ctx.request.request_id};
}

http::HttpResponse WrittenResponse(const RequestContext& ctx, std::string_view collection,
                                   const service::WriteResult& written) {
  if (!written.created) return NoContentResponse(written.version);
  boost::json::object created{{"id", ctx.resource_id}};
  http::HttpResponse response = JsonResponse(201, boost::json::serialize(created));
  // Ids and tenants are restricted to unreserved characters: no encoding needed.
  response.SetHeader("Location", "/ai-service/" + ctx.tenant + "/agentic/" +
                                     std::string(collection) + "/" + ctx.resource_id);
  response.SetHeader("ETag", EntityTag(written.version));
  return response;
}

http::HttpResponse DeletedResponse() {
  http::HttpResponse response;
  response.status = 204;
  return response;
}

Result<std::vector<domain::PatchOperation>> DecodePatchBody(const RequestContext& ctx) {
  auto body = RequiredJsonBody(ctx);
  if (!body) return std::move(body).error();
  return DecodePatch(*body);
}

}  // namespace ts::api
