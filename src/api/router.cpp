#include "api/router.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <vector>

#include "api/error_mapping.h"
#include "api/openapi_document.h"
#include "common/log.h"
#include "domain/token.h"

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

http::HttpResponse Health(bool up) {
  http::HttpResponse response;
  response.status = up ? 200 : 503;
  response.SetHeader("Content-Type", "application/json");
  response.body = up ? R"({"status":"UP"})" : R"({"status":"DOWN"})";
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
                     service::AuditLog& audit, std::function<bool()> ready)
    : verifier_(verifier), clock_(clock), audit_(audit), ready_(std::move(ready)) {}

void ApiRouter::AddResource(ResourceRoute route) {
  std::string key = route.collection;
  resources_.emplace(std::move(key), std::move(route));
}

http::HttpResponse ApiRouter::Handle(http::HttpRequest& request) {
  auto parsed = boost::urls::parse_origin_form(request.target);
  if (!parsed) return RenderStatus(400, "Malformed request target");
  const boost::urls::url_view url = *parsed;

  std::vector<std::string> segments;
  for (auto segment : url.segments()) segments.emplace_back(segment);

  const std::string& method = request.method;
  if (segments.size() == 2 && segments[0] == "health" &&
      (segments[1] == "live" || segments[1] == "ready")) {
    if (method != "GET") return MethodNotAllowed("GET");
    return Health(segments[1] == "live" || ready_());
  }
  if (token_endpoint_ != nullptr && segments.size() == 2 && segments[0] == "oauth" &&
      segments[1] == "token") {
    if (method != "POST") return MethodNotAllowed("POST");
    return token_endpoint_->Handle(request);
  }
  if (segments.size() == 2 && segments[0] == "ai-service" && segments[1] == "openapi.yaml") {
    if (method != "GET") return MethodNotAllowed("GET");
    return OpenApiDocumentResponse();
  }

  if (segments.size() < 4 || segments.size() > 5 || segments[0] != "ai-service" ||
      segments[2] != "agentic") {
    return RouteNotFound();
  }
  auto resource = resources_.find(segments[3]);
  if (resource == resources_.end()) return RouteNotFound();
  const ResourceRoute& route = resource->second;

  Operation operation;
  if (segments.size() == 4) {
    if (method != "GET") return MethodNotAllowed("GET");
    operation = Operation::kList;
  } else if (segments[4] == "search" && method == "POST") {
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
