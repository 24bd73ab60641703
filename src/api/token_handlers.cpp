#include "api/token_handlers.h"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "api/error_mapping.h"
#include "api/json_body.h"
#include "api/list_request.h"
#include "api/responses.h"
#include "api/token_json.h"
#include "domain/token.h"

namespace ts::api {
namespace {

std::string TokenLocation(const RequestContext& ctx) {
  // Ids and tenants are restricted to unreserved characters: no encoding needed.
  return "/ai-service/" + ctx.tenant + "/agentic/tokens/" + ctx.resource_id;
}

}  // namespace

http::HttpResponse TokenHandlers::ListWithQuery(RequestContext& ctx, const std::string& q) {
  auto request = DecodeListRequest(ctx, q, domain::TokenSchema());
  if (!request) return RenderError(request.error());
  auto page = tokens_.List(ToStoreQuery(ctx.tenant, *request));
  if (!page) return RenderError(page.error());
  return ListResponse(RenderTokenPage(page->items, request->projection), page->total);
}

http::HttpResponse TokenHandlers::List(RequestContext& ctx) {
  auto q = ctx.params.Single("q");
  if (!q) return RenderError(q.error());
  return ListWithQuery(ctx, q->value_or(""));
}

http::HttpResponse TokenHandlers::Search(RequestContext& ctx) {
  auto body = ParseJsonBody(ctx.request);
  if (!body) return RenderError(body.error());
  auto q = DecodeSearchBody(*body);
  if (!q) return RenderError(q.error());
  return ListWithQuery(ctx, *q);
}

http::HttpResponse TokenHandlers::Get(RequestContext& ctx) {
  auto projection = DecodeProjection(ctx, domain::TokenSchema());
  if (!projection) return RenderError(projection.error());
  auto token = tokens_.Get(ctx.tenant, ctx.resource_id);
  if (!token) return RenderError(token.error());
  http::HttpResponse response =
      JsonResponse(200, boost::json::serialize(RenderToken(*token, *projection)));
  response.SetHeader("ETag", EntityTag(token->metadata.version));
  return response;
}

http::HttpResponse TokenHandlers::Put(RequestContext& ctx) {
  auto body = ParseJsonBody(ctx.request);
  if (!body) return RenderError(body.error());
  if (!*body) return RenderError(Error::InvalidField("body", "required", "A request body is required"));
  auto command = DecodeTokenPut(**body, ctx.resource_id);
  if (!command) return RenderError(command.error());
  command->if_match = DecodeIfMatch(ctx.request);
  service::Caller caller{ctx.tenant, ctx.principal.subject, ctx.request.request_id};
  auto outcome = tokens_.Upsert(caller, std::move(command).value());
  http::HttpResponse response;
  if (!outcome.result) {
    response = RenderError(outcome.result.error());
  } else if (outcome.result->created) {
    boost::json::object created{{"id", ctx.resource_id}};
    response = JsonResponse(201, boost::json::serialize(created));
    response.SetHeader("Location", TokenLocation(ctx));
    response.SetHeader("ETag", EntityTag(outcome.result->version));
  } else {
    response = NoContentResponse(outcome.result->version);
  }
  response.delay = outcome.delay;
  return response;
}

http::HttpResponse TokenHandlers::Patch(RequestContext& ctx) {
  auto body = ParseJsonBody(ctx.request);
  if (!body) return RenderError(body.error());
  if (!*body) return RenderError(Error::InvalidField("body", "required", "A request body is required"));
  auto ops = DecodePatch(**body);
  if (!ops) return RenderError(ops.error());
  service::Caller caller{ctx.tenant, ctx.principal.subject, ctx.request.request_id};
  auto written = tokens_.Patch(caller, ctx.resource_id, *ops, DecodeIfMatch(ctx.request));
  if (!written) return RenderError(written.error());
  return NoContentResponse(written->version);
}

http::HttpResponse TokenHandlers::Delete(RequestContext& ctx) {
  auto force = DecodeForce(ctx);
  if (!force) return RenderError(force.error());
  service::Caller caller{ctx.tenant, ctx.principal.subject, ctx.request.request_id};
  auto deleted = tokens_.Delete(caller, ctx.resource_id, *force, DecodeIfMatch(ctx.request));
  if (!deleted) return RenderError(deleted.error());
  http::HttpResponse response;
  response.status = 204;
  return response;
}

}  // namespace ts::api
