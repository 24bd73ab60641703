// HTTP handlers for /ai-service/{tenant}/agentic/tokens: parse the request, call
// TokenService, render the answer. No rules live here beyond request decoding.
// Thread-safe: stateless apart from references to thread-safe services.
#pragma once

#include "api/request_context.h"
#include "service/token_service.h"

namespace ts::api {

class TokenHandlers final : public ResourceHandlers {
 public:
  explicit TokenHandlers(service::TokenService& tokens) : tokens_(tokens) {}

  http::HttpResponse List(RequestContext& ctx) override;
  http::HttpResponse Search(RequestContext& ctx) override;
  http::HttpResponse Get(RequestContext& ctx) override;
  http::HttpResponse Put(RequestContext& ctx) override;
  http::HttpResponse Patch(RequestContext& ctx) override;
  http::HttpResponse Delete(RequestContext& ctx) override;

 private:
  http::HttpResponse ListWithQuery(RequestContext& ctx, const std::string& q);
  service::TokenService& tokens_;
};

}  // namespace ts::api
