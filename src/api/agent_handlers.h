// HTTP handlers for /ai-service/{tenant}/agentic/agents: parse the request, call AgentService,
// render the answer (with `expand=token` the referenced tokens' public projection, with
// `expand=mcpServers` the referenced MCP servers, in place of their ids). No rules live here
// beyond request decoding. Thread-safe: stateless apart from references to thread-safe
// services.
#pragma once

#include "api/request_context.h"
#include "service/agent_service.h"

namespace ts::api {

class AgentHandlers final : public ResourceHandlers {
 public:
  explicit AgentHandlers(service::AgentService& agents) : agents_(agents) {}

  http::HttpResponse List(RequestContext& ctx) override;
  http::HttpResponse Search(RequestContext& ctx) override;
  http::HttpResponse Get(RequestContext& ctx) override;
  http::HttpResponse Put(RequestContext& ctx) override;
  http::HttpResponse Patch(RequestContext& ctx) override;
  http::HttpResponse Delete(RequestContext& ctx) override;

 private:
  http::HttpResponse ListWithQuery(RequestContext& ctx, const std::string& q);
  service::AgentService& agents_;
};

}  // namespace ts::api
