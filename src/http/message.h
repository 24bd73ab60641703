// Plain HTTP request/response values exchanged between the server (which owns sockets and
// Beast) and the request handler (which must never touch a socket). Keeping Beast out of
// this header keeps heavy templates in the server's translation unit only.
// Value types; a handler may be called concurrently from several I/O threads.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ts::http {

struct HttpRequest {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // raw request-target, e.g. "/ai-service/t/agentic/tokens?q=x"
  std::vector<std::pair<std::string, std::string>> headers;  // in order, names as sent
  std::string body;
  std::string remote_address;
  std::string request_id;  // assigned by the server

  // Case-insensitive lookup of the first header with this name.
  std::optional<std::string_view> Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The server waits this long before sending, without holding a thread (used to slow down
  // clients that probe secrets).
  std::chrono::milliseconds delay{0};
  // Never sent; what the request log and the metrics say about the request. `route` is the
  // route template the router matched, e.g. "/ai-service/{tenant}/agentic/tokens/{tokenId}"
  // (it must point to storage that outlives the server; empty: no route matched). `tenant`
  // (once the path's tenant is well-formed) and `subject` (the bearer token's `sub`, once
  // verified) are empty when unknown.
  std::string_view route;
  std::string tenant;
  std::string subject;

  void SetHeader(std::string name, std::string value);
};

using RequestHandler = std::function<HttpResponse(HttpRequest&)>;

// Builds the JSON error responses the server itself must send (413, 414, 431, 400 for
// unparsable requests, 500, 503) in the service's documented error format.
using ErrorResponder = std::function<HttpResponse(int status, std::string_view message)>;

}  // namespace ts::http
