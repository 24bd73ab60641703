// A small synchronous HTTP/1.1 client for the black-box tests. Requests are serialized by hand
// (exact bytes, any size) and responses parsed with Boost.Beast's parser; the transport is a plain
// loopback TCP socket, one connection per exchange (the request carries `Connection: close`), so a
// test never depends on the server's keep-alive behaviour. `SendRaw` writes arbitrary bytes
// (malformed requests, oversized bodies) and still reads whatever response the server sends, even
// when the server answers early and stops reading: the bytes are written from a second thread while
// this one reads. Every complete exchange is also recorded for the OpenAPI response checker
// (response_log.h). Each call is independent; the functions are safe to call from many threads
// at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bb {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  HeaderList headers;               // sent as given, in order
  std::optional<std::string> body;  // nullopt: no body and no Content-Length
};

struct HttpResponse {
  int status = 0;  // 0: no response (see ExchangeResult::error)
  HeaderList headers;
  std::string body;

  // The first header with this name (case-insensitive), if any.
  std::optional<std::string> Header(std::string_view name) const;
  // How many headers carry this name (case-insensitive).
  int HeaderCount(std::string_view name) const;
  // Status line text is not kept; this renders headers and body for leak checks and logs.
  std::string Dump() const;
};

struct ExchangeResult {
  bool ok = false;                       // a complete response was received
  std::string error;                     // why not, when !ok
  bool closed_without_response = false;  // the server closed before sending any byte
  HttpResponse response;
};

struct ClientOptions {
  std::string host = "127.0.0.1";
  std::chrono::milliseconds timeout{30000};  // for the whole exchange
};

// Serializes `request` (adding Host, Content-Length for a body, and Connection: close unless
// given) and exchanges it on a fresh connection.
ExchangeResult Send(std::uint16_t port, const HttpRequest& request,
                    const ClientOptions& options = {});

// Writes `bytes` verbatim on a fresh connection and reads one response (or EOF).
ExchangeResult SendRaw(std::uint16_t port, std::string_view bytes,
                       const ClientOptions& options = {});

// Serializes a request exactly as Send would (for building raw variants).
std::string SerializeRequest(std::uint16_t port, const HttpRequest& request);

// Percent-encodes everything except RFC 3986 unreserved characters.
std::string UrlEncode(std::string_view text);

}  // namespace bb
