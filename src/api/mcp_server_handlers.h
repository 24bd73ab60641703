// HTTP handlers for /ai-service/{tenant}/agentic/mcp-servers: parse the request, call
// McpServerService, render the answer (with `expand=token`, the referenced token's public
// projection in place of its id). No rules live here beyond request decoding.
// Thread-safe: stateless apart from references to thread-safe services.
#pragma once

#include "api/request_context.h"
#include "service/mcp_server_service.h"

namespace ts::api {

class McpServerHandlers final : public ResourceHandlers {
 public:
  explicit McpServerHandlers(service::McpServerService& servers) : servers_(servers) {}

  http::HttpResponse List(RequestContext& ctx) override;
  http::HttpResponse Search(RequestContext& ctx) override;
  http::HttpResponse Get(RequestContext& ctx) override;
  http::HttpResponse Put(RequestContext& ctx) override;
  http::HttpResponse Patch(RequestContext& ctx) override;
  http::HttpResponse Delete(RequestContext& ctx) override;

 private:
  http::HttpResponse ListWithQuery(RequestContext& ctx, const std::string& q);
  service::McpServerService& servers_;
};

}  // namespace ts::api
