#include "blackbox/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <thread>

#include "blackbox/response_log.h"

namespace bb {
namespace {

namespace http = boost::beast::http;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool HasHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return true;
  }
  return false;
}

// Larger requests are written from a second thread, so a server that answers early (413,
// 431) and stops reading cannot deadlock the exchange.
constexpr std::size_t kInlineWriteLimit = 16 * 1024;

class Socket {
 public:
  Socket() = default;
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  bool Connect(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout,
               std::string* error) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      *error = std::string("socket: ") + std::strerror(errno);
      return false;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
      *error = "bad host address " + host;
      return false;
    }
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      *error = std::string("connect: ") + std::strerror(errno);
      return false;
    }
    return true;
  }

  // Writes everything or stops at the first error (the peer may legitimately have closed).
  void WriteAll(std::string_view bytes, std::string* error) const {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        *error = std::string("send: ") + std::strerror(errno);
        return;
      }
      sent += static_cast<std::size_t>(n);
    }
  }

  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

ExchangeResult Exchange(std::uint16_t port, std::string_view bytes, const ClientOptions& options) {
  ExchangeResult result;
  Socket socket;
  if (!socket.Connect(options.host, port, options.timeout, &result.error)) return result;

  std::string write_error;
  std::thread writer;
  if (bytes.size() <= kInlineWriteLimit) {
    socket.WriteAll(bytes, &write_error);
  } else {
    writer = std::thread([&] { socket.WriteAll(bytes, &write_error); });
  }

  http::response_parser<http::string_body> parser;
  parser.header_limit(std::uint32_t{16} * 1024 * 1024);
  parser.body_limit(std::uint64_t{256} * 1024 * 1024);
  parser.eager(true);

  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  std::string pending;
  bool received_any = false;
  std::string read_error;
  char buffer[64 * 1024];
  while (!parser.is_done()) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (remaining.count() <= 0) {
      read_error = "timed out waiting for the response";
      break;
    }
    pollfd pfd{socket.fd(), POLLIN, 0};
    int polled = ::poll(&pfd, 1, static_cast<int>(remaining.count()));
    if (polled < 0) {
      if (errno == EINTR) continue;
      read_error = std::string("poll: ") + std::strerror(errno);
      break;
    }
    if (polled == 0) continue;  // the deadline check above ends the loop
    ssize_t n = ::recv(socket.fd(), buffer, sizeof buffer, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (!received_any) {
        result.closed_without_response = true;
      }
      read_error = std::string("recv: ") + std::strerror(errno);
      break;
    }
    if (n == 0) {
      if (!received_any) {
        result.closed_without_response = true;
        read_error = "connection closed without a response";
        break;
      }
      boost::beast::error_code ec;
      parser.put_eof(ec);
      if (ec || !parser.is_done()) read_error = "connection closed in the middle of a response";
      break;
    }
    received_any = true;
    pending.append(buffer, static_cast<std::size_t>(n));
    while (!pending.empty() && !parser.is_done()) {
      boost::beast::error_code ec;
      std::size_t used = parser.put(boost::asio::buffer(pending.data(), pending.size()), ec);
      pending.erase(0, used);
      if (ec == http::error::need_more) break;
      if (ec) {
        read_error = "unparsable response: " + ec.message();
        break;
      }
      if (used == 0) break;
    }
    if (!read_error.empty()) break;
  }

  ::shutdown(socket.fd(), SHUT_RDWR);
  if (writer.joinable()) writer.join();

  if (parser.is_done()) {
    const auto& message = parser.get();
    result.ok = true;
    result.response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      result.response.headers.emplace_back(std::string(field.name_string()),
                                           std::string(field.value()));
    }
    result.response.body = message.body();
    return result;
  }
  result.error = read_error.empty() ? "no response" : read_error;
  if (!write_error.empty()) result.error += " (after " + write_error + ")";
  return result;
}

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

int HttpResponse::HeaderCount(std::string_view name) const {
  int count = 0;
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) ++count;
  }
  return count;
}

std::string HttpResponse::Dump() const {
  std::string out = "HTTP " + std::to_string(status) + "\n";
  for (const auto& [n, v] : headers) out += n + ": " + v + "\n";
  out += "\n" + body;
  return out;
}

std::string SerializeRequest(std::uint16_t port, const HttpRequest& request) {
  // Written by hand rather than with beast::http::fields, which refuses values over 64 KiB:
  // the tests need exact control of every byte, oversized headers included.
  std::string bytes = request.method + " " + request.target + " HTTP/1.1\r\n";
  if (!HasHeader(request.headers, "Host"))
    bytes += "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
  if (!HasHeader(request.headers, "Connection")) bytes += "Connection: close\r\n";
  for (const auto& [name, value] : request.headers) bytes += name + ": " + value + "\r\n";
  if (request.body && !HasHeader(request.headers, "Content-Length") &&
      !HasHeader(request.headers, "Transfer-Encoding")) {
    bytes += "Content-Length: " + std::to_string(request.body->size()) + "\r\n";
  }
  bytes += "\r\n";
  if (request.body) bytes += *request.body;
  return bytes;
}

ExchangeResult Send(std::uint16_t port, const HttpRequest& request, const ClientOptions& options) {
  ExchangeResult result = Exchange(port, SerializeRequest(port, request), options);
  if (result.ok) RecordExchange(request, result.response);
  return result;
}

ExchangeResult SendRaw(std::uint16_t port, std::string_view bytes, const ClientOptions& options) {
  ExchangeResult result = Exchange(port, bytes, options);
  if (result.ok) RecordRawExchange(bytes, result.response);
  return result;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

}  // namespace bb
