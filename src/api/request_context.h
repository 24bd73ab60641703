// What a resource handler receives once routing, path validation and authorization have
// passed: the request, its decoded query parameters, the tenant, the resource id (for item
// routes) and the authenticated principal. Plus the ResourceHandlers interface that each
// resource (tokens now; MCP servers and agents later) implements.
// Value types; handlers are called concurrently and must be thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/token_verifier.h"
#include "common/result.h"
#include "http/message.h"

namespace ts::api {

// Decoded query parameters ('+' is a space, as in HTML forms), in order.
class QueryParams {
 public:
  void Add(std::string key, std::string value) { items_.emplace_back(std::move(key), std::move(value)); }
  // The parameter's value, nullopt if absent; 400 if it was given more than once.
  Result<std::optional<std::string>> Single(std::string_view key) const;

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct RequestContext {
  http::HttpRequest& request;
  QueryParams params;
  std::string tenant;
  std::string resource_id;  // item routes only
  auth::Principal principal;
};

class ResourceHandlers {
 public:
  virtual ~ResourceHandlers() = default;
  virtual http::HttpResponse List(RequestContext& ctx) = 0;
  virtual http::HttpResponse Search(RequestContext& ctx) = 0;
  virtual http::HttpResponse Get(RequestContext& ctx) = 0;
  virtual http::HttpResponse Put(RequestContext& ctx) = 0;
  virtual http::HttpResponse Patch(RequestContext& ctx) = 0;
  virtual http::HttpResponse Delete(RequestContext& ctx) = 0;
};

}  // namespace ts::api
