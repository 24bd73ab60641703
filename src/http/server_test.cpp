#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"

namespace ts::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Generous upper bounds: a test fails only if something is really stuck.
constexpr auto kWait = 10s;

bool NameEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

struct ParsedResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (NameEquals(key, name)) return value;
    }
    return std::nullopt;
  }
};

// A deliberately dumb blocking HTTP/1.1 client on raw sockets, so tests control every byte
// (slow senders, garbage, pipelining) and see exactly when the server closes.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one response (header section and, unless it answers HEAD, a Content-Length body).
  std::optional<ParsedResponse> ReadResponse(std::chrono::milliseconds timeout = kWait,
                                             bool answers_head = false) {
    const auto deadline = Clock::now() + timeout;
    std::size_t header_end;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return std::nullopt;
    }
    ParsedResponse response;
    std::string_view head(pending_.data(), header_end);
    std::size_t line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    if (status_line.size() < 12) return std::nullopt;
    response.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
    while (line_end != std::string_view::npos) {
      head.remove_prefix(line_end + 2);
      line_end = head.find("\r\n");
      std::string_view line = head.substr(0, line_end);
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      response.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    pending_.erase(0, header_end + 4);
    std::size_t length = 0;
    if (auto cl = response.Header("Content-Length"); cl && !answers_head) length = std::stoul(*cl);
    while (pending_.size() < length) {
      if (!Fill(deadline)) return std::nullopt;
    }
    response.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return response;
  }

  // True when the server closes the connection (EOF or reset) within the timeout. Any data
  // that arrives meanwhile is discarded.
  bool WaitClosed(std::chrono::milliseconds timeout = kWait) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      int state = Poll(deadline);
      if (state < 0) return true;
      if (state == 0) return false;
      pending_.clear();
    }
  }

  // True when nothing has arrived (and the connection is open) right now.
  bool NothingReceived() {
    pollfd p{fd_, POLLIN, 0};
    return pending_.empty() && ::poll(&p, 1, 0) == 0;
  }

 private:
  // Waits for data until the deadline: 1 data appended, 0 timed out, -1 closed.
  int Poll(Clock::time_point deadline) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return 0;
      pollfd p{fd_, POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return 0;
      char chunk[16384];
      ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return -1;
      pending_.append(chunk, static_cast<std::size_t>(n));
      return 1;
    }
  }
  bool Fill(Clock::time_point deadline) { return Poll(deadline) == 1; }

  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

HttpResponse TestErrors(int status, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.SetHeader("Content-Type", "application/json");
  response.body =
      "{\"code\":" + std::to_string(status) + ",\"message\":\"" + std::string(message) + "\"}";
  return response;
}

HttpResponse Text(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.SetHeader("Content-Type", "text/plain");
  response.body = std::move(body);
  return response;
}

// Echoes the request: "<method> <target> <body size>".
HttpResponse Echo(HttpRequest& request) {
  return Text(200,
              request.method + " " + request.target + " " + std::to_string(request.body.size()));
}

ServerOptions TestOptions() {
  ServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.io_threads = 2;
  options.handle_signals = false;
  options.shutdown_grace = 5s;
  return options;
}

// Runs an HttpServer on a background thread for the duration of a test.
class TestServer {
 public:
  // `before_start` may register callbacks that must be set before Start.
  explicit TestServer(RequestHandler handler, ServerOptions options = TestOptions(),
                      const std::function<void(HttpServer&)>& before_start = {})
      : server_(std::move(options), std::move(handler), TestErrors) {
    if (before_start) before_start(server_);
    auto port = server_.Start();
    if (!port.ok()) throw std::runtime_error(port.error().message);
    port_ = *port;
    std::promise<void> serving;
    auto serving_future = serving.get_future();
    server_.OnServing([&serving] { serving.set_value(); });
    run_ = std::async(std::launch::async, [this] { server_.Run(); });
    if (serving_future.wait_for(kWait) != std::future_status::ready) {
      throw std::runtime_error("server did not start serving");
    }
  }
  ~TestServer() {
    server_.Stop();
    run_.wait();
  }

  std::uint16_t port() const { return port_; }
  HttpServer& server() { return server_; }
  bool WaitStopped(std::chrono::milliseconds timeout = kWait) {
    return run_.wait_for(timeout) == std::future_status::ready;
  }

 private:
  HttpServer server_;
  std::uint16_t port_ = 0;
  std::future<void> run_;
};

// A gate a handler can block on until the test opens it; also tells the test the handler
// was entered.
class Gate {
 public:
  void Enter() {
    std::unique_lock<std::mutex> lock(mutex_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  bool WaitEntered(int count = 1) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, kWait, [&] { return entered_ >= count; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int entered_ = 0;
  bool open_ = false;
};

std::string Get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) +
         "\r\n";
}

TEST(HttpServerTest, ServesTwoRequestsOnOneKeptAliveConnection) {
  TestServer server(Echo);
  RawClient client(server.port());
  ASSERT_TRUE(client.connected());

  ASSERT_TRUE(client.Send(Get("/first")));
  auto first = client.ReadResponse();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "GET /first 0");
  EXPECT_EQ(first->Header("Content-Length"), "12");
  EXPECT_EQ(first->Header("Content-Type"), "text/plain");
  EXPECT_NE(first->Header("Connection"), "close");

  ASSERT_TRUE(client.Send(Get("/second?x=1")));
  auto second = client.ReadResponse();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body, "GET /second?x=1 0");
}

TEST(HttpServerTest, EveryResponseHasCacheControlNoStore) {
  TestServer server([](HttpRequest&) {
    HttpResponse response = Text(200, "x");
    response.SetHeader("Cache-Control", "max-age=3600");  // the server overrides this
    return response;
  });
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/")));
  auto ok = client.ReadResponse();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->Header("Cache-Control"), "no-store");

  RawClient bad(server.port());
  ASSERT_TRUE(bad.Send("NOT HTTP AT ALL\r\n\r\n"));
  auto error = bad.ReadResponse();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->Header("Cache-Control"), "no-store");
}

TEST(HttpServerTest, PassesRequestPartsToHandler) {
  std::mutex mutex;
  HttpRequest seen;
  TestServer server([&](HttpRequest& request) {
    std::lock_guard<std::mutex> lock(mutex);
    seen = request;
    return Text(200, "ok");
  });
  RawClient client(server.port());
  ASSERT_TRUE(
      client.Send("POST /a/b?c=d HTTP/1.1\r\nHost: h\r\nX-First: 1\r\nx-second: 2\r\n"
                  "Content-Length: 5\r\n\r\nhello"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  std::lock_guard<std::mutex> lock(mutex);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/a/b?c=d");
  EXPECT_EQ(seen.body, "hello");
  EXPECT_EQ(seen.remote_address, "127.0.0.1");
  ASSERT_EQ(seen.headers.size(), 4u);
  EXPECT_EQ(seen.headers[1].first, "X-First");
  EXPECT_EQ(seen.headers[2].first, "x-second");
  EXPECT_EQ(seen.Header("X-SECOND"), "2");
}

TEST(HttpServerTest, GeneratesAndEchoesRequestIds) {
  std::mutex mutex;
  std::string handler_saw;
  TestServer server([&](HttpRequest& request) {
    std::lock_guard<std::mutex> lock(mutex);
    handler_saw = request.request_id;
    return Text(200, "ok");
  });
  RawClient client(server.port());

  ASSERT_TRUE(client.Send(Get("/")));
  auto generated = client.ReadResponse();
  ASSERT_TRUE(generated);
  auto id = generated->Header("X-Request-Id");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->size(), 16u);
  EXPECT_EQ(id->find_first_not_of("0123456789abcdef"), std::string::npos);
  {
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_EQ(handler_saw, *id);
  }

  ASSERT_TRUE(client.Send(Get("/", "X-Request-Id: client-id_1.2\r\n")));
  auto adopted = client.ReadResponse();
  ASSERT_TRUE(adopted);
  EXPECT_EQ(adopted->Header("X-Request-Id"), "client-id_1.2");

  ASSERT_TRUE(client.Send(Get("/", "X-Request-Id: has space\r\n")));
  auto replaced = client.ReadResponse();
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->Header("X-Request-Id")->size(), 16u);

  ASSERT_TRUE(client.Send(Get("/", "X-Request-Id: " + std::string(65, 'a') + "\r\n")));
  auto too_long = client.ReadResponse();
  ASSERT_TRUE(too_long);
  EXPECT_EQ(too_long->Header("X-Request-Id")->size(), 16u);
}

TEST(HttpServerTest, ProcessesPipelinedRequestsInOrder) {
  log::SetLevel(log::Level::kDebug);  // also exercises the access log
  TestServer server(Echo);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/1") + Get("/2") + Get("/3")));
  for (const char* expected : {"GET /1 0", "GET /2 0", "GET /3 0"}) {
    auto response = client.ReadResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->body, expected);
  }
  log::SetLevel(log::Level::kInfo);
}

TEST(HttpServerTest, UrlOverLimitIs414AndCloses) {
  std::atomic<int> calls{0};
  TestServer server([&](HttpRequest& request) {
    ++calls;
    return Echo(request);
  });
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/" + std::string(11 * 1024, 'a'))));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 414);
  EXPECT_EQ(response->Header("Connection"), "close");
  EXPECT_EQ(response->Header("Content-Type"), "application/json");
  EXPECT_NE(response->body.find("\"code\":414"), std::string::npos);
  EXPECT_TRUE(response->Header("X-Request-Id"));
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServerTest, HugeUrlBeyondParserLimitIs414) {
  TestServer server(Echo);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/" + std::string(200 * 1024, 'a'))));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 414);
  EXPECT_TRUE(client.WaitClosed());
}

TEST(HttpServerTest, HeadersOverLimitAre431) {
  TestServer server(Echo);
  std::string headers;
  for (int i = 0; i < 61; ++i) {
    headers += "X-Filler-" + std::to_string(i) + ": " + std::string(1024, 'v') + "\r\n";
  }
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/", headers)));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->Header("Connection"), "close");
  EXPECT_TRUE(client.WaitClosed());
}

TEST(HttpServerTest, HeadersBeyondParserLimitAre431) {
  TestServer server(Echo);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/", "X-Huge: " + std::string(200 * 1024, 'v') + "\r\n")));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_TRUE(client.WaitClosed());
}

// Beast's fields container cannot hold a value over 64 KiB and throws from inside the parser;
// within our header limit that must still be a 431, not a dropped connection.
TEST(HttpServerTest, SingleHeaderOver64KiBIs431) {
  std::atomic<int> calls{0};
  TestServer server([&](HttpRequest& request) {
    ++calls;
    return Echo(request);
  });
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/", "X-Big: " + std::string(65600, 'a') + "\r\n")));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->Header("Content-Type"), "application/json");
  EXPECT_EQ(response->Header("Connection"), "close");
  EXPECT_NE(response->body.find("\"code\":431"), std::string::npos);
  EXPECT_TRUE(response->Header("X-Request-Id"));
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_EQ(calls.load(), 0);
  RawClient next(server.port());
  ASSERT_TRUE(next.Send(Get("/after")));
  auto after = next.ReadResponse();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST(HttpServerTest, SingleHeaderOver64KiBArrivingInPiecesIs431) {
  TestServer server(Echo);
  RawClient client(server.port());
  const std::string request = Get("/", "X-Big: " + std::string(65600, 'a') + "\r\n");
  for (std::size_t at = 0; at < request.size(); at += 1000) {
    // The server may answer (and stop reading) before the last piece.
    if (!client.Send(std::string_view(request).substr(at, 1000))) break;
  }
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_TRUE(client.WaitClosed());
}

TEST(HttpServerTest, ChunkedTrailerOver64KiBIs431) {
  TestServer server(Echo);
  RawClient client(server.port());
  client.Send(
      "POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\nX-Trailer: " +
      std::string(66000, 't') + "\r\n\r\n");
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_TRUE(client.WaitClosed());
}

// A header section that never ends is answered (431) once it passes the limit, not left to
// grow until the header timeout.
TEST(HttpServerTest, EndlessHeaderSectionIs431WithoutWaitingForItsEnd) {
  ServerOptions options = TestOptions();
  options.header_timeout = 60s;  // the answer must not come from the timeout
  TestServer server(Echo, options);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: h\r\n"));
  std::optional<ParsedResponse> response;
  for (int i = 0; i < 400 && !response; ++i) {
    if (!client.Send("X-Field-" + std::to_string(i) + ": " + std::string(500, 'f') + "\r\n")) {
      break;
    }
    if (i >= 150 && i % 10 == 0) response = client.ReadResponse(100ms);
  }
  if (!response) response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_TRUE(client.WaitClosed());
}

// Anything thrown while the server turns a handler's response into bytes (here a header value
// too long for Beast's fields) becomes a 500 with the request id, not a silent disconnect.
TEST(HttpServerTest, ExceptionWhileSendingResponseIs500) {
  TestServer server([](HttpRequest& request) -> HttpResponse {
    HttpResponse response = Echo(request);
    if (request.target == "/huge-header") response.SetHeader("X-Huge", std::string(70000, 'h'));
    return response;
  });
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/huge-header", "X-Request-Id: req42\r\n")));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->Header("X-Request-Id"), "req42");
  EXPECT_NE(response->body.find("request id req42"), std::string::npos);
  RawClient next(server.port());
  ASSERT_TRUE(next.Send(Get("/after")));
  auto after = next.ReadResponse();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST(HttpServerTest, BodyAtLimitIsAccepted) {
  TestServer server(Echo);
  RawClient client(server.port());
  const std::size_t size = 1024 * 1024;
  ASSERT_TRUE(client.Send("POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(size) +
                          "\r\n\r\n" + std::string(size, 'b')));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /b " + std::to_string(size));
}

TEST(HttpServerTest, ContentLengthOverLimitIs413WithoutReadingBody) {
  std::atomic<int> calls{0};
  TestServer server([&](HttpRequest& request) {
    ++calls;
    return Echo(request);
  });
  RawClient client(server.port());
  ASSERT_TRUE(client.Send("POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 1048577\r\n\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->Header("Connection"), "close");
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServerTest, ChunkedBodyOverLimitIs413) {
  TestServer server(Echo);
  RawClient client(server.port());
  std::string request = "POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::size_t chunk = 64 * 1024;
  for (int i = 0; i < 16; ++i) {
    char size_line[32];
    std::snprintf(size_line, sizeof(size_line), "%zx\r\n", chunk);
    request += size_line + std::string(chunk, 'c') + "\r\n";
  }
  request += "1\r\nc\r\n0\r\n\r\n";  // 1 MiB + 1 in total
  client.Send(request);              // the server may stop reading early; its answer is what counts
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(client.WaitClosed());
}

TEST(HttpServerTest, ChunkedBodyWithinLimitIsAccepted) {
  TestServer server(Echo);
  RawClient client(server.port());
  ASSERT_TRUE(
      client.Send("POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /b 11");
}

TEST(HttpServerTest, GarbageIs400AndCloses) {
  TestServer server(Echo);
  {
    RawClient client(server.port());
    ASSERT_TRUE(client.Send("\x01\x02 garbage \xff\r\n\r\n"));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400);
    EXPECT_EQ(response->Header("Connection"), "close");
    EXPECT_TRUE(client.WaitClosed());
  }
  {
    RawClient client(server.port());
    ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: h\r\nno colon here\r\n\r\n"));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400);
    EXPECT_TRUE(client.WaitClosed());
  }
}

TEST(HttpServerTest, HeaderTimeoutDisconnectsSlowSender) {
  ServerOptions options = TestOptions();
  options.header_timeout = 500ms;
  TestServer server(Echo, options);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nX-Slow: "));
  const auto start = Clock::now();
  bool closed = false;
  while (!closed && Clock::now() - start < 5s) {
    if (!client.Send("a")) {
      closed = true;
      break;
    }
    closed = client.WaitClosed(200ms);
  }
  EXPECT_TRUE(closed);
}

TEST(HttpServerTest, SilentNewConnectionIsClosedAfterHeaderTimeout) {
  ServerOptions options = TestOptions();
  options.header_timeout = 300ms;
  TestServer server(Echo, options);
  RawClient client(server.port());
  EXPECT_TRUE(client.WaitClosed(5s));
}

TEST(HttpServerTest, IdleKeptAliveConnectionIsClosed) {
  ServerOptions options = TestOptions();
  options.idle_timeout = 300ms;
  TestServer server(Echo, options);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/")));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(client.WaitClosed(5s));
}

TEST(HttpServerTest, ConnectionCloseFromClientIsHonoured) {
  TestServer server(Echo);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/", "Connection: close\r\n")));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->Header("Connection"), "close");
  EXPECT_TRUE(client.WaitClosed());
}

TEST(HttpServerTest, Http10WithoutKeepAliveCloses) {
  TestServer server(Echo);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.0\r\n\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(client.WaitClosed());
}

TEST(HttpServerTest, NoContentHasNoBodyOrContentLength) {
  TestServer server([](HttpRequest&) { return Text(204, "ignored"); });
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/") + Get("/")));
  for (int i = 0; i < 2; ++i) {
    auto response = client.ReadResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 204);
    EXPECT_FALSE(response->Header("Content-Length"));
    EXPECT_EQ(response->body, "");
  }
}

TEST(HttpServerTest, HeadResponseHasLengthButNoBody) {
  TestServer server(Echo);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send("HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n" + Get("/after")));
  auto head = client.ReadResponse(kWait, /*answers_head=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->Header("Content-Length"), "9");  // the length "HEAD /h 0" would have
  auto next = client.ReadResponse();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body, "GET /after 0");
}

TEST(HttpServerTest, HandlerExceptionIs500WithRequestId) {
  TestServer server([](HttpRequest& request) -> HttpResponse {
    if (request.target == "/boom") throw std::runtime_error("secret internals");
    return Echo(request);
  });
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/boom", "X-Request-Id: abc123\r\n")));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->Header("Content-Type"), "application/json");
  EXPECT_NE(response->body.find("request id abc123"), std::string::npos);
  EXPECT_EQ(response->body.find("secret internals"), std::string::npos);
  // The connection itself is fine and stays usable.
  ASSERT_TRUE(client.Send(Get("/after")));
  auto after = client.ReadResponse();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST(HttpServerTest, ResponseDelayIsHonoured) {
  TestServer server([](HttpRequest&) {
    HttpResponse response = Text(200, "late");
    response.delay = 300ms;
    return response;
  });
  RawClient client(server.port());
  const auto start = Clock::now();
  ASSERT_TRUE(client.Send(Get("/")));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "late");
  EXPECT_GE(Clock::now() - start, 300ms);
}

TEST(HttpServerTest, ResponseDelayDoesNotBlockOtherConnections) {
  // One I/O thread: if the delay held it, the second client could not be answered.
  ServerOptions options = TestOptions();
  options.io_threads = 1;
  options.shutdown_grace = 200ms;
  Gate slow_entered;
  slow_entered.Open();
  TestServer server(
      [&](HttpRequest& request) {
        HttpResponse response = Echo(request);
        if (request.target == "/slow") {
          response.delay = std::chrono::hours(1);
          slow_entered.Enter();
        }
        return response;
      },
      options);
  RawClient slow(server.port());
  ASSERT_TRUE(slow.Send(Get("/slow")));
  ASSERT_TRUE(slow_entered.WaitEntered());

  RawClient fast(server.port());
  ASSERT_TRUE(fast.Send(Get("/fast")));
  auto response = fast.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "GET /fast 0");
  EXPECT_TRUE(slow.NothingReceived());

  // A stop does not wait an hour: after the grace period the delayed connection is closed.
  server.server().Stop();
  EXPECT_TRUE(server.WaitStopped());
  EXPECT_TRUE(slow.WaitClosed());
}

TEST(HttpServerTest, ConnectionsBeyondCapAreRefusedWith503) {
  ServerOptions options = TestOptions();
  options.max_connections = 1;
  TestServer server(Echo, options);
  auto first = std::make_unique<RawClient>(server.port());
  ASSERT_TRUE(first->Send(Get("/")));
  ASSERT_TRUE(first->ReadResponse());  // the first connection now holds the only slot

  RawClient refused(server.port());
  auto response = refused.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->Header("Connection"), "close");
  EXPECT_EQ(response->Header("Cache-Control"), "no-store");
  EXPECT_TRUE(refused.WaitClosed());

  // Once the first connection goes, the slot is free again (the server notices the close
  // asynchronously, so retry within a generous bound).
  first.reset();
  const auto deadline = Clock::now() + kWait;
  int status = 0;
  while (Clock::now() < deadline) {
    RawClient next(server.port());
    ASSERT_TRUE(next.Send(Get("/")));
    auto next_response = next.ReadResponse();
    ASSERT_TRUE(next_response);
    status = next_response->status;
    if (status == 200) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(status, 200);
}

TEST(HttpServerTest, GracefulStopFinishesInFlightRequestAndClosesIdleOnes) {
  Gate gate;
  TestServer server([&](HttpRequest& request) {
    if (request.target == "/slow") gate.Enter();
    return Echo(request);
  });
  RawClient idle(server.port());
  ASSERT_TRUE(idle.Send(Get("/fast")));
  ASSERT_TRUE(idle.ReadResponse());

  RawClient busy(server.port());
  ASSERT_TRUE(busy.Send(Get("/slow")));
  ASSERT_TRUE(gate.WaitEntered());

  server.server().Stop();
  server.server().Stop();          // idempotent
  EXPECT_TRUE(idle.WaitClosed());  // closed because it was idle: the stop is under way
  EXPECT_FALSE(server.WaitStopped(0ms));

  gate.Open();
  auto response = busy.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "GET /slow 0");
  EXPECT_EQ(response->Header("Connection"), "close");
  busy.Close();  // a client that got Connection: close hangs up; the server's linger ends
  EXPECT_TRUE(server.WaitStopped());

  RawClient late(server.port());
  EXPECT_FALSE(late.connected());
}

TEST(HttpServerTest, SigtermStopsGracefully) {
  ServerOptions options = TestOptions();
  options.handle_signals = true;
  TestServer server(Echo, options);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/")));
  ASSERT_TRUE(client.ReadResponse());
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_TRUE(server.WaitStopped());
  EXPECT_TRUE(client.WaitClosed());
}

TEST(HttpServerTest, StopBeforeRunReturnsPromptly) {
  HttpServer server(TestOptions(), Echo, TestErrors);
  ASSERT_TRUE(server.Start().ok());
  server.Stop();
  auto run = std::async(std::launch::async, [&] { server.Run(); });
  EXPECT_EQ(run.wait_for(kWait), std::future_status::ready);
}

TEST(HttpServerTest, StartFailsOnBadAddress) {
  ServerOptions options = TestOptions();
  options.address = "not-an-address";
  HttpServer server(options, Echo, TestErrors);
  auto port = server.Start();
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.error().message.find("not-an-address"), std::string::npos);
}

TEST(HttpServerTest, ExpectContinueGetsInterimResponse) {
  TestServer server(Echo);
  RawClient client(server.port());
  const std::string body(2000, 'x');
  ASSERT_TRUE(client.Send("PUT /c HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n"));
  auto interim = client.ReadResponse();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.Send(body));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "PUT /c 2000");
}

TEST(HttpServerTest, ExpectContinueWithOversizedBodyIs413) {
  TestServer server(Echo);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(
      "PUT /c HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(client.WaitClosed());
}

// ---------------------------------------------------------------------------------------------
// Handler worker pool (handler_threads > 0)

TEST(HttpServerTest, HandlerThreadsLetBlockedHandlersOutnumberTheIoThreads) {
  // One I/O thread, four workers: four handlers can all be blocked at once (as on database
  // round trips) while the I/O thread still answers a fifth, handler-free request. Inline
  // handlers could never get a second one in.
  ServerOptions options = TestOptions();
  options.io_threads = 1;
  options.handler_threads = 4;
  Gate gate;
  TestServer server(
      [&](HttpRequest& request) {
        if (request.target == "/block") gate.Enter();
        return Echo(request);
      },
      options);
  std::vector<std::unique_ptr<RawClient>> blocked;
  for (int i = 0; i < 4; ++i) {
    blocked.push_back(std::make_unique<RawClient>(server.port()));
    ASSERT_TRUE(blocked.back()->Send(Get("/block")));
  }
  ASSERT_TRUE(gate.WaitEntered(4));

  RawClient other(server.port());
  ASSERT_TRUE(other.Send("GET /fast HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999\r\n\r\n"));
  auto refused = other.ReadResponse();  // answered by the I/O thread itself (413)
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 413);

  gate.Open();
  for (auto& client : blocked) {
    auto response = client->ReadResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "GET /block 0");
  }
}

TEST(HttpServerTest, ReadsInlineRunsGetsOnTheIoThreadAndWritesOnWorkers) {
  ServerOptions options = TestOptions();
  options.io_threads = 1;
  options.handler_threads = 2;
  options.reads_inline = true;
  std::mutex mu;
  std::map<std::string, std::set<std::thread::id>> threads;  // method → threads that ran it
  TestServer server(
      [&](HttpRequest& request) {
        {
          std::lock_guard lock(mu);
          threads[request.method].insert(std::this_thread::get_id());
        }
        return Echo(request);
      },
      options);
  RawClient client(server.port());
  for (int i = 0; i < 6; ++i) {
    const bool write = i % 2 == 1;
    ASSERT_TRUE(client.Send(write ? "PUT /w HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"
                                  : Get("/r")));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
  std::lock_guard lock(mu);
  ASSERT_EQ(threads["GET"].size(), 1u);  // the one I/O thread
  for (const auto& id : threads["PUT"]) EXPECT_FALSE(threads["GET"].contains(id));
}

TEST(HttpServerTest, HandlerThreadsKeepKeepAliveOrderExceptionsAndHeaders) {
  ServerOptions options = TestOptions();
  options.handler_threads = 2;
  TestServer server(
      [](HttpRequest& request) -> HttpResponse {
        if (request.target == "/boom") throw std::runtime_error("secret internals");
        return Echo(request);
      },
      options);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/a") + Get("/boom", "X-Request-Id: req42\r\n") + Get("/c")));
  auto a = client.ReadResponse();
  auto boom = client.ReadResponse();
  auto c = client.ReadResponse();
  ASSERT_TRUE(a && boom && c);
  EXPECT_EQ(a->body, "GET /a 0");
  EXPECT_EQ(boom->status, 500);
  EXPECT_NE(boom->body.find("request id req42"), std::string::npos);
  EXPECT_EQ(boom->body.find("secret internals"), std::string::npos);
  EXPECT_EQ(c->body, "GET /c 0");
  EXPECT_EQ(c->Header("Cache-Control"), "no-store");
}

TEST(HttpServerTest, GracefulStopWaitsForAHandlerOnAWorker) {
  ServerOptions options = TestOptions();
  options.handler_threads = 2;
  Gate gate;
  TestServer server(
      [&](HttpRequest& request) {
        gate.Enter();
        return Echo(request);
      },
      options);
  RawClient busy(server.port());
  ASSERT_TRUE(busy.Send(Get("/slow")));
  ASSERT_TRUE(gate.WaitEntered());
  server.server().Stop();
  // The I/O loop has nothing else to do, yet it must not return before the worker answers.
  EXPECT_FALSE(server.WaitStopped(200ms));
  gate.Open();
  auto response = busy.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("Connection"), "close");
  busy.Close();
  EXPECT_TRUE(server.WaitStopped());
}

// What OnRequestDone reported, copied out of the views.
struct Reported {
  std::string request_id, method, route, tenant, subject;
  int status = 0;
  bool written = false;
};

class ReportLog {
 public:
  void Add(const RequestRecord& r) {
    std::lock_guard<std::mutex> lock(mutex_);
    reports_.push_back({std::string(r.request_id), std::string(r.method), std::string(r.route),
                        std::string(r.tenant), std::string(r.subject), r.status, r.written});
    cv_.notify_all();
  }
  // The reports once there are at least `count` (a report follows the write, so a client may
  // see its response a moment before the server reports it).
  std::vector<Reported> WaitFor(std::size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_for(lock, kWait, [&] { return reports_.size() >= count; });
    return reports_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Reported> reports_;
};

TEST(HttpServerTest, ReportsEveryRequestWithWhatTheHandlerLabelled) {
  ReportLog reports;
  TestServer server(
      [](HttpRequest&) {
        HttpResponse response = Text(201, "made");
        response.route = "/things/{id}";
        response.tenant = "acme";
        response.subject = "alice";
        return response;
      },
      TestOptions(),
      [&](HttpServer& s) { s.OnRequestDone([&](const RequestRecord& r) { reports.Add(r); }); });
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/things/1?q=secret", "X-Request-Id: my-id\r\n")));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 201);
  // The server's own answers are reported too, without a route.
  ASSERT_TRUE(client.Send("GET /" + std::string(20000, 'u') + " HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto too_long = client.ReadResponse();
  ASSERT_TRUE(too_long);
  EXPECT_EQ(too_long->status, 414);

  const auto got = reports.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].request_id, "my-id");
  EXPECT_EQ(got[0].method, "GET");
  EXPECT_EQ(got[0].route, "/things/{id}");
  EXPECT_EQ(got[0].tenant, "acme");
  EXPECT_EQ(got[0].subject, "alice");
  EXPECT_EQ(got[0].status, 201);
  EXPECT_TRUE(got[0].written);
  EXPECT_EQ(got[1].route, "");
  EXPECT_EQ(got[1].status, 414);
  EXPECT_EQ(got[1].request_id, too_long->Header("X-Request-Id").value_or("?"));
}

// Polls `condition` until it holds or kWait passes (the counters settle right after a write).
template <typename Condition>
bool Eventually(Condition condition) {
  const auto deadline = Clock::now() + kWait;
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(HttpServerTest, CountsInFlightRequestsAndOpenConnections) {
  Gate gate;
  TestServer server([&](HttpRequest& request) {
    if (request.target == "/slow") gate.Enter();
    return Echo(request);
  });
  EXPECT_EQ(server.server().InFlightRequests(), 0u);
  RawClient idle(server.port());
  ASSERT_TRUE(idle.Send(Get("/fast")));
  ASSERT_TRUE(idle.ReadResponse());
  // The request stops counting when the server's write completes, which may come after the
  // client has read the bytes.
  ASSERT_TRUE(Eventually([&] { return server.server().InFlightRequests() == 0; }));
  RawClient busy(server.port());
  ASSERT_TRUE(busy.Send(Get("/slow")));
  ASSERT_TRUE(gate.WaitEntered());
  EXPECT_EQ(server.server().InFlightRequests(), 1u);
  EXPECT_EQ(server.server().OpenConnections(), 2u);
  gate.Open();
  ASSERT_TRUE(busy.ReadResponse());
  EXPECT_TRUE(Eventually([&] { return server.server().InFlightRequests() == 0; }));
  idle.Close();
  EXPECT_TRUE(Eventually([&] { return server.server().OpenConnections() == 1; }));
}

TEST(HttpServerTest, AbandonedRequestIsNoLongerInFlight) {
  TestServer server(Echo);
  {
    RawClient client(server.port());
    ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: h\r\n"));  // header never completes
    EXPECT_TRUE(Eventually([&] { return server.server().InFlightRequests() == 1; }));
  }
  EXPECT_TRUE(Eventually([&] { return server.server().InFlightRequests() == 0; }));
}

TEST(HttpServerTest, OnStoppingRunsWhenAGracefulStopBegins) {
  std::promise<void> stopping;
  TestServer server(Echo, TestOptions(),
                    [&](HttpServer& s) { s.OnStopping([&] { stopping.set_value(); }); });
  server.server().Stop();
  EXPECT_EQ(stopping.get_future().wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(server.WaitStopped());
}

TEST(HttpServerTest, DrainDelayKeepsServingUntilASecondStop) {
  ServerOptions options = TestOptions();
  options.drain_delay = std::chrono::hours(1);
  std::promise<void> stopping;
  TestServer server(Echo, options,
                    [&](HttpServer& s) { s.OnStopping([&] { stopping.set_value(); }); });
  server.server().Stop();
  ASSERT_EQ(stopping.get_future().wait_for(kWait), std::future_status::ready);
  // Draining: readiness failed (OnStopping ran), yet new connections are still served.
  RawClient late(server.port());
  ASSERT_TRUE(late.connected());
  ASSERT_TRUE(late.Send(Get("/during-drain")));
  auto response = late.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_FALSE(server.WaitStopped(0ms));
  server.server().Stop();  // ends the delay: the stop proper follows
  EXPECT_TRUE(late.WaitClosed());
  EXPECT_TRUE(server.WaitStopped());
}

}  // namespace
}  // namespace ts::http
