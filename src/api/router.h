// ApiRouter: the service's request handler. Matches routes, checks path syntax, then
// authenticates and authorizes, then hands over to a resource's handlers — in exactly the
// contract's order: route (404) → method (405) → tenant/id syntax (400) → 401 → 403 →
// the handler's own validation. Also serves /health/live and /health/ready, and
// POST /oauth/token when a token endpoint is set (404 like any unknown path otherwise).
// Thread-safe: Handle may run concurrently on every I/O thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>

#include "api/oauth_token_handler.h"
#include "api/request_context.h"
#include "auth/token_verifier.h"
#include "common/clock.h"
#include "http/message.h"
#include "service/audit_log.h"

namespace ts::api {

inline constexpr std::string_view kReadScope = "ai.agent_read";
inline constexpr std::string_view kManageScope = "ai.agent_manage";

struct ResourceRoute {
  std::string collection;  // path segment, e.g. "tokens"
  std::string id_param;    // name used in 400 messages, e.g. "tokenId"
  ResourceHandlers* handlers;
};

class ApiRouter {
 public:
  ApiRouter(const auth::TokenVerifier& verifier, const Clock& clock, service::AuditLog& audit,
            std::function<bool()> ready);

  void AddResource(ResourceRoute route);
  // Serves POST /oauth/token (client credentials); call before serving. Null: no such route.
  void SetTokenEndpoint(OAuthTokenHandler* token_endpoint) { token_endpoint_ = token_endpoint; }
  http::HttpResponse Handle(http::HttpRequest& request);

 private:
  const auth::TokenVerifier& verifier_;
  const Clock& clock_;
  service::AuditLog& audit_;
  std::function<bool()> ready_;
  std::map<std::string, ResourceRoute, std::less<>> resources_;
  OAuthTokenHandler* token_endpoint_ = nullptr;
};

}  // namespace ts::api
