#include "api/router.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <vector>

#include "api/error_mapping.h"
#include "api/openapi_document.h"
#include "common/log.h"
#include "domain/token.h"
#include "metrics/exposition.h"

namespace ts::api {
namespace {

enum class Operation { kList, kSearch, kGet, kPut, kPatch, kDelete };

http::HttpResponse MethodNotAllowed(std::string_view allow) {
  http::HttpResponse response = RenderStatus(405, "Method not allowed; allowed: " + std::string(allow));
  response.SetHeader("Allow", std::string(allow));
  return response;
}

http::HttpResponse RouteNotFound() {
  return RenderStatus(404, "No resource exists at this path");
}

// {"status":"UP"|"DOWN","checks":[{"name":…,"status":…},…]} in the shape of MicroProfile
// Health: the body says which check failed, never why in detail (no URL, no error text).
http::HttpResponse Health(const std::vector<HealthCheck>& checks, bool with_checks) {
  bool up = true;
  boost::json::array list;
  for (const HealthCheck& check : checks) {
    up = up && check.up;
    list.push_back(boost::json::object{{"name", check.name}, {"status", check.up ? "UP" : "DOWN"}});
  }
  boost::json::object body{{"status", up ? "UP" : "DOWN"}};
  if (with_checks) body["checks"] = std::move(list);
  http::HttpResponse response;
  response.status = up ? 200 : 503;
  response.SetHeader("Content-Type", "application/json");
  response.body = boost::json::serialize(body);
  return response;
}

http::HttpResponse OpenApiDocumentResponse() {
  http::HttpResponse response;
  response.status = 200;
  response.SetHeader("Content-Type", "application/yaml");  // RFC 9512
  response.body = std::string(OpenApiDocument());
  return response;
}

}  // namespace

Result<std::optional<std::string>> QueryParams::Single(std::string_view key) const {
  std::optional<std::string> found;
  for (const auto& [k, v] : items_) {
    if (k != key) continue;
    if (found) {
      return Error::InvalidField(std::string(key), "duplicate",
                                 "query parameter " + std::string(key) + " is given more than once");
    }
    found = v;
  }
  return found;
}

ApiRouter::ApiRouter(const auth::TokenVerifier& verifier, const Clock& clock,
                     service::AuditLog& audit, OperationsEndpoints operations)
    : verifier_(verifier), clock_(clock), audit_(audit), operations_(std::move(operations)) {}

void ApiRouter::AddResource(ResourceRoute route) {
  const std::string base = "/ai-service/{tenant}/agentic/" + route.collection;
  std::string item = base + "/{" + route.id_param + "}";
  std::string key = route.collection;
  resources_.emplace(std::move(key),
                     ResourceEntry{std::move(route), base, std::move(item), base + "/search"});
}

std::vector<std::string> ApiRouter::RouteTemplates() const {
  std::vector<std::string> routes{std::string(kLiveRoute), std::string(kReadyRoute)};
  if (operations_.metrics) routes.emplace_back(kMetricsRoute);
  routes.emplace_back(kOpenApiRoute);
  if (token_endpoint_ != nullptr) routes.emplace_back(kOAuthTokenRoute);
  for (const auto& [collection, entry] : resources_) {
    routes.push_back(entry.list_template);
    routes.push_back(entry.item_template);
    routes.push_back(entry.search_template);
  }
  return routes;
}

http::HttpResponse ApiRouter::Handle(http::HttpRequest& request) {
  RouteLabels labels;
  http::HttpResponse response = Route(request, labels);
  response.route = labels.route;
  response.tenant = std::move(labels.tenant);
  response.subject = std::move(labels.subject);
  return response;
}

http::HttpResponse ApiRouter::Operations(const std::vector<std::string>& segments,
                                         const std::string& method, RouteLabels& labels) {
  if (segments.size() == 1) {
    labels.route = kMetricsRoute;
    if (method != "GET") return MethodNotAllowed("GET");
    http::HttpResponse response;
    response.SetHeader("Content-Type", std::string(metrics::kExpositionContentType));
    response.body = operations_.metrics();
    return response;
  }
  const bool live = segments[1] == "live";
  labels.route = live ? kLiveRoute : kReadyRoute;
  if (method != "GET") return MethodNotAllowed("GET");
  if (live || !operations_.readiness) return Health({}, false);
  return Health(operations_.readiness(), true);
}

http::HttpResponse ApiRouter::Route(http::HttpRequest& request, RouteLabels& labels) {
  auto parsed = boost::urls::parse_origin_form(request.target);
  if (!parsed) return RenderStatus(400, "Malformed request target");
  const boost::urls::url_view url = *parsed;

  std::vector<std::string> segments;
  for (auto segment : url.segments()) segments.emplace_back(segment);

  const std::string& method = request.method;
  if ((segments.size() == 2 && segments[0] == "health" &&
       (segments[1] == "live" || segments[1] == "ready")) ||
      (segments.size() == 1 && segments[0] == "metrics" && operations_.metrics)) {
    return Operations(segments, method, labels);
  }
  if (token_endpoint_ != nullptr && segments.size() == 2 && segments[0] == "oauth" &&
      segments[1] == "token") {
    labels.route = kOAuthTokenRoute;
    if (method != "POST") return MethodNotAllowed("POST");
    return token_endpoint_->Handle(request);
  }
  if (segments.size() == 2 && segments[0] == "ai-service" && segments[1] == "openapi.yaml") {
    labels.route = kOpenApiRoute;
    if (method != "GET") return MethodNotAllowed("GET");
    return OpenApiDocumentResponse();
  }

  if (segments.size() < 4 || segments.size() > 5 || segments[0] != "ai-service" ||
      segments[2] != "agentic") {
    return RouteNotFound();
  }
  auto resource = resources_.find(segments[3]);
  if (resource == resources_.end()) return RouteNotFound();
  const ResourceEntry& entry = resource->second;
  const ResourceRoute& route = entry.route;

  Operation operation;
  labels.route = segments.size() == 4 ? entry.list_template : entry.item_template;
  if (segments.size() == 4) {
    if (method != "GET") return MethodNotAllowed("GET");
    operation = Operation::kList;
  } else if (segments[4] == "search" && method == "POST") {
    labels.route = entry.search_template;
    operation = Operation::kSearch;
  } else if (method == "GET") {
    operation = Operation::kGet;
  } else if (method == "PUT") {
    operation = Operation::kPut;
  } else if (method == "PATCH") {
    operation = Operation::kPatch;
  } else if (method == "DELETE") {
    operation = Operation::kDelete;
  } else {
    return MethodNotAllowed(segments[4] == "search" ? "GET, PUT, PATCH, DELETE, POST"
                                                    : "GET, PUT, PATCH, DELETE");
  }

  const std::string& tenant = segments[1];
  if (auto valid = domain::ValidateTenant(tenant); !valid) return RenderError(valid.error());
  labels.tenant = tenant;
  std::string resource_id;
  if (operation != Operation::kList && operation != Operation::kSearch) {
    resource_id = segments[4];
    if (auto valid = domain::ValidateResourceId(resource_id, route.id_param); !valid) {
      return RenderError(valid.error());
    }
  }

  auto principal = verifier_.Verify(request.Header("Authorization"), clock_.NowSeconds());
  if (!principal) {
    audit_.Record({request.request_id, tenant, "", "request.denied", resource_id, "401"});
    return RenderError(principal.error());
  }
  labels.subject = principal->subject;
  const bool reads = operation == Operation::kList || operation == Operation::kSearch ||
                     operation == Operation::kGet;
  const std::string_view scope = reads ? kReadScope : kManageScope;
  std::string denial;
  if (principal->tenant != tenant) {
    denial = "The access token is not valid for tenant " + tenant;
  } else if (!principal->HasScope(scope)) {
    denial = "The access token lacks the scope " + std::string(scope) + " this operation needs";
  }
  if (!denial.empty()) {
    audit_.Record({request.request_id, tenant, principal->subject, "request.denied", resource_id,
                   "403"});
    return RenderError(Error{ErrorCode::kPermissionDenied, std::move(denial), {}, {}, {}});
  }

  RequestContext ctx{request, {}, tenant, std::move(resource_id), std::move(principal).value()};
  for (auto param : url.params(boost::urls::encoding_opts(true))) {
    ctx.params.Add(std::string(param.key), std::string(param.value));
  }
  ResourceHandlers& handlers = *route.handlers;
  switch (operation) {
    case Operation::kList: return handlers.List(ctx);
    case Operation::kSearch: return handlers.Search(ctx);
    case Operation::kGet: return handlers.Get(ctx);
    case Operation::kPut: return handlers.Put(ctx);
    case Operation::kPatch: return handlers.Patch(ctx);
    case Operation::kDelete: return handlers.Delete(ctx);
  }
  return RenderStatus(500, "Internal server error");
}

}  // namespace ts::api
