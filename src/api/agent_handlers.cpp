#include "api/agent_handlers.h"

#include <boost/json/array.hpp>

#include "api/agent_json.h"
#include "api/json_text.h"
#include "api/resource_requests.h"
#include "domain/agent.h"

namespace ts::api {
namespace {

constexpr std::string_view kExpandable[] = {"token", "mcpServers"};

// What `expand` asked for, looked up for the agents about to be rendered.
class Expansions {
 public:
  Result<void> Load(service::AgentService& agents, const RequestContext& ctx,
                    const std::set<std::string>& expand, const std::vector<domain::Agent>& items) {
    if (expand.contains("token")) {
      auto found = agents.ReferencedTokens(ctx.tenant, items);
      if (!found) return std::move(found).error();
      tokens_ = std::move(found).value();
    }
    if (expand.contains("mcpServers")) {
      auto found = agents.ReferencedMcpServers(ctx.tenant, items);
      if (!found) return std::move(found).error();
      mcp_servers_ = std::move(found).value();
    }
    return Ok();
  }

  boost::json::object Render(const domain::Agent& agent,
                             const query::Projection& projection) const {
    return RenderAgent(agent, projection, tokens_ ? &*tokens_ : nullptr,
                       mcp_servers_ ? &*mcp_servers_ : nullptr);
  }

 private:
  std::optional<std::map<std::string, domain::Token>> tokens_;
  std::optional<std::map<std::string, domain::McpServer>> mcp_servers_;
};

}  // namespace

http::HttpResponse AgentHandlers::ListWithQuery(RequestContext& ctx, const std::string& q) {
  auto request = DecodeListRequest(ctx, q, domain::AgentSchema());
  if (!request) return RenderError(request.error());
  auto expand = DecodeExpand(ctx, kExpandable, "agents");
  if (!expand) return RenderError(expand.error());
  auto page = agents_.List(ToStoreQuery(ctx.tenant, *request));
  if (!page) return RenderError(page.error());
  Expansions expansions;
  if (auto loaded = expansions.Load(agents_, ctx, *expand, page->items); !loaded) {
    return RenderError(loaded.error());
  }
  boost::json::array items;
  items.reserve(page->items.size());
  for (const domain::Agent& agent : page->items) {
    items.emplace_back(expansions.Render(agent, request->projection));
  }
  return ListResponse(SerializeJson(items), page->total);
}

http::HttpResponse AgentHandlers::List(RequestContext& ctx) {
  auto q = ListQueryText(ctx);
  if (!q) return RenderError(q.error());
  return ListWithQuery(ctx, *q);
}

http::HttpResponse AgentHandlers::Search(RequestContext& ctx) {
  auto q = SearchQueryText(ctx);
  if (!q) return RenderError(q.error());
  return ListWithQuery(ctx, *q);
}

http::HttpResponse AgentHandlers::Get(RequestContext& ctx) {
  auto projection = DecodeProjection(ctx, domain::AgentSchema());
  if (!projection) return RenderError(projection.error());
  auto expand = DecodeExpand(ctx, kExpandable, "agents");
  if (!expand) return RenderError(expand.error());
  auto agent = agents_.Get(ctx.tenant, ctx.resource_id);
  if (!agent) return RenderError(agent.error());
  Expansions expansions;
  if (auto loaded = expansions.Load(agents_, ctx, *expand, {*agent}); !loaded) {
    return RenderError(loaded.error());
  }
  http::HttpResponse response =
      JsonResponse(200, SerializeJson(expansions.Render(*agent, *projection)));
  response.SetHeader("ETag", EntityTag(agent->metadata.version));
  return response;
}

http::HttpResponse AgentHandlers::Put(RequestContext& ctx) {
  return PutResource(ctx, agents_, "agents", DecodeAgentPut);
}

http::HttpResponse AgentHandlers::Patch(RequestContext& ctx) { return PatchResource(ctx, agents_); }

http::HttpResponse AgentHandlers::Delete(RequestContext& ctx) {
  return DeleteResource(ctx, agents_);
}

}  // namespace ts::api
