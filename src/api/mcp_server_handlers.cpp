#include "api/mcp_server_handlers.h"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "api/mcp_server_json.h"
#include "api/resource_requests.h"
#include "domain/mcp_server.h"

namespace ts::api {
namespace {

constexpr std::string_view kExpandable[] = {"token"};

Result<bool> DecodeExpandToken(const RequestContext& ctx) {
  auto expand = DecodeExpand(ctx, kExpandable, "MCP servers");
  if (!expand) return std::move(expand).error();
  return expand->contains("token");
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
  return ListResponse(boost::json::serialize(items), page->total);
}

http::HttpResponse McpServerHandlers::List(RequestContext& ctx) {
  auto q = ListQueryText(ctx);
  if (!q) return RenderError(q.error());
  return ListWithQuery(ctx, *q);
}

http::HttpResponse McpServerHandlers::Search(RequestContext& ctx) {
  auto q = SearchQueryText(ctx);
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

// PUT and PATCH take the vendor's `force`: disabling a server that enabled agents use disables
// them too, instead of a 400.
http::HttpResponse McpServerHandlers::Put(RequestContext& ctx) {
  auto force = DecodeForce(ctx);
  if (!force) return RenderError(force.error());
  return PutResource(ctx, servers_, "mcp-servers",
                     [&](const boost::json::value& body, const std::string& id) {
                       auto command = DecodeMcpServerPut(body, id);
                       if (command) command->force = *force;
                       return command;
                     });
}

http::HttpResponse McpServerHandlers::Patch(RequestContext& ctx) {
  auto force = DecodeForce(ctx);
  if (!force) return RenderError(force.error());
  return PatchResource(ctx, servers_, *force);
}

http::HttpResponse McpServerHandlers::Delete(RequestContext& ctx) {
  return DeleteResource(ctx, servers_);
}

}  // namespace ts::api
