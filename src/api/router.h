// ApiRouter: the service's request handler. Matches routes, checks path syntax, then
// authenticates and authorizes, then hands over to a resource's handlers — in exactly the
// contract's order: route (404) → method (405) → tenant/id syntax (400) → 401 → 403 →
// the handler's own validation. Also serves the operational endpoints, without authentication
// and without tenant data: /health/live, /health/ready and /metrics; GET
// /ai-service/openapi.yaml; and POST /oauth/token when a token endpoint is set (404 like any
// unknown path otherwise).
// Every response carries the route template it matched (HttpResponse::route) and, once known,
// the tenant and the token's subject, for the request log and the metrics.
// Thread-safety: AddResource and SetTokenEndpoint before serving; Handle may run concurrently on
// every I/O thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "api/oauth_token_handler.h"
#include "api/request_context.h"
#include "auth/token_verifier.h"
#include "common/clock.h"
#include "http/message.h"
#include "service/audit_log.h"

namespace ts::api {

inline constexpr std::string_view kReadScope = "ai.agent_read";
inline constexpr std::string_view kManageScope = "ai.agent_manage";

// Route templates of the operational endpoints (metrics labels, logs).
inline constexpr std::string_view kLiveRoute = "/health/live";
inline constexpr std::string_view kReadyRoute = "/health/ready";
inline constexpr std::string_view kMetricsRoute = "/metrics";
inline constexpr std::string_view kOpenApiRoute = "/ai-service/openapi.yaml";
inline constexpr std::string_view kOAuthTokenRoute = "/oauth/token";

// One condition of readiness; `name` appears in /health/ready's body.
struct HealthCheck {
  std::string_view name;
  bool up = false;
};

// Where the operational endpoints get their answers.
struct OperationsEndpoints {
  // Evaluated on every GET /health/ready (so keep each check cheap and bounded in time);
  // 200 when every check is up, else 503. Unset: ready.
  std::function<std::vector<HealthCheck>()> readiness;
  // The Prometheus text exposition for GET /metrics. Unset: /metrics does not exist (404).
  std::function<std::string()> metrics;
};

struct ResourceRoute {
  std::string collection;  // path segment, e.g. "tokens"
  std::string id_param;    // name used in 400 messages, e.g. "tokenId"
  ResourceHandlers* handlers;
};

class ApiRouter {
 public:
  ApiRouter(const auth::TokenVerifier& verifier, const Clock& clock, service::AuditLog& audit,
            OperationsEndpoints operations);

  void AddResource(ResourceRoute route);
  // Serves POST /oauth/token (client credentials); call before serving. Null: no such route.
  void SetTokenEndpoint(OAuthTokenHandler* token_endpoint) { token_endpoint_ = token_endpoint; }
  http::HttpResponse Handle(http::HttpRequest& request);

  // Every route template a response can carry (for metrics), in a stable order.
  std::vector<std::string> RouteTemplates() const;

 private:
  // A resource's route and its three templates, e.g. "/ai-service/{tenant}/agentic/tokens",
  // ".../tokens/{tokenId}" and ".../tokens/search"; responses point into these strings.
  struct ResourceEntry {
    ResourceRoute route;
    std::string list_template;
    std::string item_template;
    std::string search_template;
  };
  // What Handle learns for the request log and the metrics while it routes.
  struct RouteLabels {
    std::string_view route;
    std::string tenant;
    std::string subject;
  };

  http::HttpResponse Route(http::HttpRequest& request, RouteLabels& labels);
  http::HttpResponse Operations(const std::vector<std::string>& segments, const std::string& method,
                                RouteLabels& labels);

  const auth::TokenVerifier& verifier_;
  const Clock& clock_;
  service::AuditLog& audit_;
  OperationsEndpoints operations_;
  std::map<std::string, ResourceEntry, std::less<>> resources_;  // nodes never move
  OAuthTokenHandler* token_endpoint_ = nullptr;
};

}  // namespace ts::api
