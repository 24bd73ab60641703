#include "api/mcp_server_handlers.h"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "api/error_mapping.h"
#include "api/json_body.h"
#include "api/list_request.h"
#include "api/mcp_server_json.h"
#include "api/responses.h"
#include "api/token_json.h"  // DecodeSearchBody, DecodePatch: the same for every resource
#include "domain/mcp_server.h"

namespace ts::api {
namespace {

// `expand=token` (the one expandable field of an MCP server); absent: no expansion.
Result<bool> DecodeExpandToken(const RequestContext& ctx) {
  auto expand = ctx.params.Single("expand");
  if (!expand) return std::move(expand).error();
  if (!*expand || (*expand)->empty()) return false;
  if (**expand == "token") return true;
  return Error::InvalidField("expand", "invalid", "expand accepts only token for MCP servers");
}

std::string McpServerLocation(const RequestContext& ctx) {
  // Ids and tenants are restricted to unreserved characters: no encoding needed.
  return "/ai-service/" + ctx.tenant + "/agentic/mcp-servers/" + ctx.resource_id;
}

}  // namespace

http::HttpResponse McpServerHandlers::ListWithQuery(RequestContext& ctx, const std::string& q) {
  auto request = DecodeListRequest(ctx, q, domain::McpServerSchema());
  if (!request) return RenderError(request.error());
  auto expand = DecodeExpandToken(ctx);
  if (!expand) return RenderError(expand.error());
  auto page = servers_.List(ToStoreQuery(ctx.tenant, *request));
  if (!page) return RenderError(page.error());
  std::map<std::string, domain::Token> tokens;
  if (*expand) {
    auto found = servers_.ReferencedTokens(ctx.tenant, page->items);
    if (!found) return RenderError(found.error());
    tokens = std::move(found).value();
  }
  boost::json::array items;
  items.reserve(page->items.size());
  for (const domain::McpServer& server : page->items) {
    items.emplace_back(RenderMcpServer(server, request->projection, *expand ? &tokens : nullptr));
  }
  http::HttpResponse response = JsonResponse(200, boost::json::serialize(items));
  if (page->total) response.SetHeader("X-Total-Count", std::to_string(*page->total));
  return response;
}

http::HttpResponse McpServerHandlers::List(RequestContext& ctx) {
  auto q = ctx.params.Single("q");
  if (!q) return RenderError(q.error());
  return ListWithQuery(ctx, q->value_or(""));
}

http::HttpResponse McpServerHandlers::Search(RequestContext& ctx) {
  auto body = ParseJsonBody(ctx.request);
  if (!body) return RenderError(body.error());
  auto q = DecodeSearchBody(*body);
  if (!q) return RenderError(q.error());
  return ListWithQuery(ctx, *q);
}

http::HttpResponse McpServerHandlers::Get(RequestContext& ctx) {
  auto projection = DecodeProjection(ctx, domain::McpServerSchema());
  if (!projection) return RenderError(projection.error());
  auto expand = DecodeExpandToken(ctx);
  if (!expand) return RenderError(expand.error());
  auto server = servers_.Get(ctx.tenant, ctx.resource_id);
  if (!server) return RenderError(server.error());
  std::map<std::string, domain::Token> tokens;
  if (*expand) {
    auto found = servers_.ReferencedTokens(ctx.tenant, {*server});
    if (!found) return RenderError(found.error());
    tokens = std::move(found).value();
  }
  http::HttpResponse response = JsonResponse(
      200,
      boost::json::serialize(RenderMcpServer(*server, *projection, *expand ? &tokens : nullptr)));
  response.SetHeader("ETag", EntityTag(server->metadata.version));
  return response;
}

http::HttpResponse McpServerHandlers::Put(RequestContext& ctx) {
  auto body = ParseJsonBody(ctx.request);
  if (!body) return RenderError(body.error());
  if (!*body) {
    return RenderError(Error::InvalidField("body", "required", "A request body is required"));
  }
  auto command = DecodeMcpServerPut(**body, ctx.resource_id);
  if (!command) return RenderError(command.error());
  command->if_match = DecodeIfMatch(ctx.request);
  service::Caller caller{ctx.tenant, ctx.principal.subject, ctx.request.request_id};
  auto written = servers_.Upsert(caller, std::move(command).value());
  if (!written) return RenderError(written.error());
  if (!written->created) return NoContentResponse(written->version);
  boost::json::object created{{"id", ctx.resource_id}};
  http::HttpResponse response = JsonResponse(201, boost::json::serialize(created));
  response.SetHeader("Location", McpServerLocation(ctx));
  response.SetHeader("ETag", EntityTag(written->version));
  return response;
}

http::HttpResponse McpServerHandlers::Patch(RequestContext& ctx) {
  auto body = ParseJsonBody(ctx.request);
  if (!body) return RenderError(body.error());
  if (!*body) {
    return RenderError(Error::InvalidField("body", "required", "A request body is required"));
  }
  auto ops = DecodePatch(**body);
  if (!ops) return RenderError(ops.error());
  service::Caller caller{ctx.tenant, ctx.principal.subject, ctx.request.request_id};
  auto written = servers_.Patch(caller, ctx.resource_id, *ops, DecodeIfMatch(ctx.request));
  if (!written) return RenderError(written.error());
  return NoContentResponse(written->version);
}

http::HttpResponse McpServerHandlers::Delete(RequestContext& ctx) {
  auto force = DecodeForce(ctx);
  if (!force) return RenderError(force.error());
  service::Caller caller{ctx.tenant, ctx.principal.subject, ctx.request.request_id};
  auto deleted = servers_.Delete(caller, ctx.resource_id, *force, DecodeIfMatch(ctx.request));
  if (!deleted) return RenderError(deleted.error());
  http::HttpResponse response;
  response.status = 204;
  return response;
}

}  // namespace ts::api
