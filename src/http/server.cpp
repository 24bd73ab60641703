#include "http/server.h"

#include <string.h>  // explicit_bzero

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <csignal>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/log.h"
#include "http/request_checks.h"

namespace ts::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

// A connection we answer with Connection: close is half-closed and drained for this long, so
// request bytes the client already sent do not turn our close into a reset that destroys the
// response before the client reads it.
constexpr std::chrono::seconds kLingerTimeout{2};
// Refusals (503 at the connection cap) are cheap but still hold a descriptor; past this many
// in flight we close new connections without a word rather than grow without bound.
constexpr std::size_t kMaxRefusalsInFlight = 64;
// Room in the parser's header limit for the method, the version and line ends, so our own
// URL and field checks (which give precise 414/431 answers) normally decide first.
constexpr std::size_t kHeaderLimitSlack = 4096;
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

void Wipe(void* data, std::size_t size) {
  if (size > 0) explicit_bzero(data, size);
}

// Request bytes (bodies with secret values, Authorization headers) pass through the read
// buffer, the parser's fields and its body string; Beast reallocates these as they grow. This
// allocator zeroes every block it frees so no stale copy survives in the heap.
template <class T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() = default;
  template <class U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}  // NOLINT: allocator rebinding
  T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    Wipe(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }
  template <class U>
  bool operator==(const WipingAllocator<U>&) const noexcept {
    return true;
  }
};

using RequestBody = bhttp::basic_string_body<char, std::char_traits<char>, WipingAllocator<char>>;
using RequestParser = bhttp::request_parser<RequestBody, WipingAllocator<char>>;
using ReadBuffer = beast::basic_flat_buffer<WipingAllocator<char>>;
using Response = bhttp::response<bhttp::string_body>;

std::string ToString(beast::string_view s) { return std::string(s.data(), s.size()); }

bool HasUnsafeHeaderChars(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// Errors of the HTTP grammar deserve a 400; a peer that merely went away, a timeout, or a
// socket error gets a silent close (nobody is listening for an answer).
bool IsMalformedRequest(const error_code& ec) {
  if (ec.category() != bhttp::make_error_code(bhttp::error::bad_method).category()) return false;
  return ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
         ec != bhttp::error::need_more && ec != bhttp::error::need_buffer;
}

class Session;

// Accepts connections, owns the io_context and the session registry, and orchestrates the
// graceful stop. Its own state is touched only on `control_` (a strand); counters are atomic.
class Listener {
 public:
  Listener(ServerOptions options, RequestHandler handler, ErrorResponder errors);
  ~Listener();

  Result<std::uint16_t> Start();
  void Run();
  void Stop();
  void SetOnServing(std::function<void()> callback) { on_serving_ = std::move(callback); }
  void SetOnStopping(std::function<void()> callback) { on_stopping_ = std::move(callback); }
  void SetOnRequestDone(std::function<void(const RequestRecord&)> callback) {
    on_request_done_ = std::move(callback);
  }
  std::size_t open_connections() const { return sessions_.load(std::memory_order_relaxed); }
  std::size_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  void RequestBegan() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void RequestEnded() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  void ReportRequest(const RequestRecord& record) const;

  const ServerOptions& options() const { return options_; }
  bool stopping() const { return stopping_.load(); }
  std::uint32_t header_limit() const { return header_limit_; }
  std::size_t read_buffer_limit() const { return read_buffer_limit_; }
  HttpResponse CallHandler(HttpRequest& request) const { return handler_(request); }
  // The handler worker pool, or nullptr when handlers run on the I/O threads.
  asio::thread_pool* handler_pool() { return handler_pool_ ? &*handler_pool_ : nullptr; }
  HttpResponse ErrorResponse(int status, std::string_view message) const;
  void OnSessionClosed(Session* session, bool refusal);

 private:
  void Accept();
  void OnAccept(const error_code& ec, tcp::socket socket);
  void HandleAccepted(const error_code& ec, tcp::socket socket);
  void BeginStop();
  void DoStop();
  void ForceClose();
  void RunIoLoop();
  std::vector<std::shared_ptr<Session>> LiveSessions();

  const ServerOptions options_;
  const RequestHandler handler_;
  const ErrorResponder errors_;
  std::function<void()> on_serving_;
  std::function<void()> on_stopping_;
  std::function<void(const RequestRecord&)> on_request_done_;
  const unsigned threads_;
  const std::uint32_t header_limit_;
  const std::size_t read_buffer_limit_;

  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> destroying_{false};
  std::atomic<std::size_t> sessions_{0};  // served connections, counted against the cap
  std::atomic<std::size_t> refusals_{0};  // connections being told 503
  std::atomic<std::size_t> live_{0};      // both; the stop waits for this to reach zero
  std::atomic<bool> cap_warned_{false};
  std::atomic<std::size_t> in_flight_{0};  // requests between first byte and written response

  std::mutex registry_mutex_;
  std::unordered_map<Session*, std::weak_ptr<Session>> registry_;  // guarded by registry_mutex_

  // Declared after everything a session's destructor touches: destroying the io_context
  // destroys queued handlers, which may hold the last reference to a session.
  asio::io_context ioc_;
  asio::strand<asio::io_context::executor_type> control_;
  tcp::acceptor acceptor_;
  asio::steady_timer grace_timer_;
  asio::steady_timer drain_timer_;
  asio::steady_timer accept_retry_timer_;
  std::optional<asio::signal_set> signals_;
  bool started_ = false;
  // Declared last, destroyed first: joining its threads releases the sessions their queued
  // jobs still hold, while everything a session's destructor touches is alive.
  std::optional<asio::thread_pool> handler_pool_;
};

// One connection: read → handle → (delay) → write, one request at a time, on its own strand,
// so it needs no locks. Pipelined requests wait in the read buffer (bounded) and are served
// strictly in order.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Listener& listener, tcp::socket socket, bool refusal)
      : listener_(listener),
        stream_(std::move(socket)),
        buffer_(listener.read_buffer_limit()),
        delay_timer_(stream_.get_executor()),
        refusal_(refusal) {
    error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_address_ = endpoint.address().to_string();
  }

  ~Session() {
    EndInFlight();
    listener_.OnSessionClosed(this, refusal_);
  }

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->Guarded([&] {
        if (self->refusal_) {
          self->request_id_ = GenerateRequestId();
          self->SendError(503, "Too many connections; retry later");
        } else {
          self->AwaitRequest();
        }
      });
    });
  }

  // Called on the session's strand when the server begins to stop. An idle connection is
  // closed now; one inside a request finishes it and answers with Connection: close.
  void OnServerStopping() {
    Guarded([&] {
      if (phase_ == Phase::kAwaitingRequest) Close();
    });
  }

  // Called on the session's strand when the shutdown grace period has run out.
  void ForceClose() {
    Guarded([&] {
      delay_timer_.cancel();
      Close();
    });
  }

  asio::any_io_executor executor() { return stream_.get_executor(); }

 private:
  enum class Phase { kAwaitingRequest, kInRequest, kClosing };
  enum class ReadGoal { kHeader, kMessage };

  // Runs one step of the session (every completion handler is one). Nothing may escape to
  // the I/O thread: there it would only be logged, and the client would get no answer. A
  // failure while a request is being read or handled answers 500 (with the request id, like
  // a handler's exception); any other closes the connection.
  template <class Step>
  void Guarded(Step&& step) noexcept {
    const char* exception = "unknown";
    try {
      step();
      return;
    } catch (const std::exception& e) {
      exception = typeid(e).name();  // the text may quote request data
    } catch (...) {
    }
    try {
      log::Error("http.session_exception", {{"request_id", request_id_}, {"exception", exception}});
      if (phase_ == Phase::kInRequest && !responding_ && !refusal_) {
        if (request_id_.empty()) request_id_ = GenerateRequestId();
        SendError(500, "Internal server error (request id " + request_id_ + ")");
        return;
      }
    } catch (...) {
    }
    try {
      Close();
    } catch (...) {
    }
  }

  void AwaitRequest() {
    if (listener_.stopping()) {
      Close();
      return;
    }
    const ServerOptions& options = listener_.options();
    responding_ = false;
    parser_.emplace();
    parser_->header_limit(listener_.header_limit());
    parser_->body_limit(static_cast<std::uint64_t>(options.max_body_bytes));
    request_id_.clear();
    if (buffer_.size() > 0) {
      // A pipelined request is already (partly) here: no idle wait.
      header_deadline_ = Clock::now() + options.header_timeout;
      BeginRequest();
      return;
    }
    phase_ = Phase::kAwaitingRequest;
    if (first_request_) {
      // A new connection must deliver its whole first header within header_timeout.
      header_deadline_ = Clock::now() + options.header_timeout;
      stream_.expires_at(header_deadline_);
    } else {
      stream_.expires_after(options.idle_timeout);
    }
    const std::size_t room = std::min(kReadChunk, buffer_.max_size() - buffer_.size());
    stream_.async_read_some(buffer_.prepare(room),
                            [self = shared_from_this()](error_code ec, std::size_t n) {
                              self->Guarded([&] { self->OnFirstBytes(ec, n); });
                            });
  }

  void OnFirstBytes(const error_code& ec, std::size_t n) {
    if (ec || phase_ == Phase::kClosing) {
      Close();
      return;
    }
    buffer_.commit(n);
    // On a kept-alive connection the header clock starts with the request's first byte.
    if (!first_request_) header_deadline_ = Clock::now() + listener_.options().header_timeout;
    BeginRequest();
  }

  void BeginRequest() {
    phase_ = Phase::kInRequest;
    started_ = Clock::now();
    if (!in_flight_) {
      in_flight_ = true;
      listener_.RequestBegan();
    }
    stream_.expires_at(header_deadline_);
    header_consumed_ = 0;
    parser_->eager(false);  // stop after the header: 100-continue and the limits come first
    ContinueRead(ReadGoal::kHeader);
  }

  // Reads and parses until the goal is reached, like Beast's async_read_header/async_read,
  // which we cannot use: Beast's fields container throws std::length_error for a field over
  // 64 KiB (well within our header limit) from inside the parser, and from inside Beast's
  // read operation that exception escapes to the I/O thread and the client gets no answer.
  // The stream's deadline (header or body timeout) spans every read of the loop.
  void ContinueRead(ReadGoal goal) {
    error_code ec;
    for (;;) {
      if (GoalReached(goal)) break;
      std::size_t used = 0;
      if (buffer_.size() > 0) {
        used = Put(ec);
        buffer_.consume(used);
        if (ec && ec != bhttp::error::need_more) break;
        if (GoalReached(goal)) {
          ec = {};
          break;
        }
      }
      if (!parser_->is_header_done()) {
        // Beast applies header_limit to the bytes it has not consumed yet; fields it parsed
        // on an earlier put no longer count. This bounds the whole section, however it
        // arrives.
        header_consumed_ += used;
        if (header_consumed_ + buffer_.size() > listener_.header_limit()) {
          ec = bhttp::error::header_limit;
          break;
        }
      }
      if (used > 0 && buffer_.size() > 0 && !ec) continue;  // progress: parse the rest
      const std::size_t room = std::min(kReadChunk, buffer_.max_size() - buffer_.size());
      if (room == 0) {
        ec = bhttp::error::buffer_overflow;
        break;
      }
      stream_.async_read_some(buffer_.prepare(room),
                              [self = shared_from_this(), goal](error_code read_ec, std::size_t n) {
                                self->Guarded([&] { self->OnRead(goal, read_ec, n); });
                              });
      return;
    }
    FinishRead(goal, ec);
  }

  bool GoalReached(ReadGoal goal) const {
    return goal == ReadGoal::kHeader ? parser_->is_header_done() : parser_->is_done();
  }

  std::size_t Put(error_code& ec) {
    try {
      return parser_->put(buffer_.data(), ec);
    } catch (const std::length_error&) {
      // basic_fields keeps field sizes in 16 bits. Nothing was consumed, and the session
      // answers and closes, so the parser's state after the throw does not matter.
      ec = bhttp::error::header_limit;
      return 0;
    }
  }

  void OnRead(ReadGoal goal, error_code ec, std::size_t n) {
    if (ec == asio::error::eof) {
      if (parser_->got_some()) {
        parser_->put_eof(ec);
        if (!ec && !GoalReached(goal)) ec = bhttp::error::partial_message;
      } else {
        ec = bhttp::error::end_of_stream;
      }
      FinishRead(goal, ec);
      return;
    }
    if (ec) {
      FinishRead(goal, ec);
      return;
    }
    buffer_.commit(n);
    ContinueRead(goal);
  }

  void FinishRead(ReadGoal goal, const error_code& ec) {
    if (goal == ReadGoal::kHeader) {
      OnHeader(ec);
    } else {
      OnBody(ec);
    }
  }

  void OnHeader(const error_code& ec) {
    if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
      AdoptRequestId();
      // Beast consumes the request line (and each complete field) from the buffer as it
      // parses, so once the line is through, the parsed target is what to measure.
      const std::size_t max_url = listener_.options().max_url_bytes;
      const auto target = parser_->get().target();
      bool url_too_long = target.size() > max_url;
      if (target.empty()) {
        const auto data = buffer_.data();
        const std::string_view buffered(static_cast<const char*>(data.data()), data.size());
        url_too_long = ClassifyOversizedHeader(buffered, max_url) == OversizedHeader::kUrlTooLong;
      }
      if (url_too_long) {
        SendError(414, "Request URL too long");
      } else {
        SendError(431, "Request header fields too large");
      }
      return;
    }
    if (ec == bhttp::error::body_limit) {
      // Beast rejects an oversized Content-Length once the header is complete, so the header
      // checks still get their say first.
      AdoptRequestId();
      if (!RejectHeader()) SendError(413, "Request body too large");
      return;
    }
    if (ec) {
      FailRead(ec);
      return;
    }
    AdoptRequestId();
    if (RejectHeader()) return;
    if (parser_->is_done()) {
      Dispatch();
      return;
    }
    const auto& request = parser_->get();
    auto expect = request.find(bhttp::field::expect);
    if (expect != request.end() && request.version() == 11 &&
        beast::iequals(expect->value(), "100-continue")) {
      // The body is acceptable (its declared size passed the limit), so invite it now rather
      // than let the client wait for its own timeout.
      stream_.expires_after(listener_.options().write_timeout);
      asio::async_write(stream_, asio::buffer(kContinue, sizeof(kContinue) - 1),
                        [self = shared_from_this()](error_code write_ec, std::size_t) {
                          self->Guarded([&] {
                            if (write_ec) {
                              self->Close();
                              return;
                            }
                            self->ReadBody();
                          });
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    stream_.expires_after(listener_.options().body_timeout);
    parser_->eager(true);
    ContinueRead(ReadGoal::kMessage);
  }

  void OnBody(const error_code& ec) {
    if (ec == bhttp::error::body_limit) {
      SendError(413, "Request body too large");
      return;
    }
    if (ec == bhttp::error::header_limit) {
      // A chunked body's trailer fields go through the same container as the header's.
      SendError(431, "Request header fields too large");
      return;
    }
    if (ec) {
      FailRead(ec);
      return;
    }
    Dispatch();
  }

  void FailRead(const error_code& ec) {
    if (IsMalformedRequest(ec)) {
      if (request_id_.empty()) request_id_ = GenerateRequestId();
      SendError(400, "Malformed HTTP request");
    } else {
      Close();
    }
  }

  void AdoptRequestId() {
    const auto& request = parser_->get();
    auto it = request.find("X-Request-Id");
    if (it != request.end() && IsValidRequestId(it->value())) {
      request_id_ = ToString(it->value());
    } else {
      request_id_ = GenerateRequestId();
    }
  }

  // Applies the URL and header-section limits to a complete header. Returns true when it has
  // answered the request itself.
  bool RejectHeader() {
    const ServerOptions& options = listener_.options();
    const auto& request = parser_->get();
    if (request.target().size() > options.max_url_bytes) {
      SendError(414, "Request URL too long");
      return true;
    }
    std::size_t header_bytes = 0;
    for (const auto& field : request) {
      header_bytes += field.name_string().size() + field.value().size() + 4;  // ": " CRLF
    }
    if (header_bytes > options.max_header_bytes) {
      SendError(431, "Request header fields too large");
      return true;
    }
    if (request.version() != 10 && request.version() != 11) {
      SendError(505, "HTTP version not supported");
      return true;
    }
    return false;
  }

  void Dispatch() {
    bool keep_alive = false;
    HttpRequest request;
    {
      auto message = parser_->release();
      parser_.reset();
      keep_alive = message.keep_alive();
      version_ = message.version();
      head_request_ = message.method() == bhttp::verb::head;
      request.method = ToString(message.method_string());
      request.target = ToString(message.target());
      for (const auto& field : message) {
        request.headers.emplace_back(ToString(field.name_string()), ToString(field.value()));
      }
      auto& body = message.body();
      request.body.reserve(body.size());
      request.body.assign(body.data(), body.size());
      Wipe(body.data(), body.size());
    }
    request.remote_address = remote_address_;
    request.request_id = request_id_;
    method_ = request.method;

    asio::thread_pool* workers = listener_.handler_pool();
    if (workers == nullptr ||
        (listener_.options().reads_inline && (request.method == "GET" || request.method == "HEAD"))) {
      HttpResponse response = CallHandler(request);
      Respond(std::move(response), keep_alive);
      return;
    }
    // The handler may block for a database round trip: it runs on a worker, and the session
    // (which keeps no other operation pending meanwhile) resumes on its strand with the
    // response. The tracked executor counts as work, so the I/O loop (and a graceful stop)
    // waits for the answer. Off the strand, only the request (moved into the job) and the
    // listener's immutable parts are touched.
    auto strand = asio::prefer(stream_.get_executor(), asio::execution::outstanding_work.tracked);
    asio::post(*workers, [self = shared_from_this(), strand = std::move(strand),
                          request = std::move(request), keep_alive]() mutable {
      try {
        HttpResponse response = self->CallHandler(request);
        asio::post(strand, [self, response = std::move(response), keep_alive]() mutable {
          self->Guarded([&] { self->Respond(std::move(response), keep_alive); });
        });
      } catch (...) {
        // Only posting can throw here (out of memory). Dropping the session's last reference
        // closes the connection; nothing may escape into the worker thread.
        log::Error("http.handler_dispatch_failed", {{"request_id", request.request_id}});
      }
    });
  }

  // Runs the handler; never throws. May run on a worker thread: it uses only `request`.
  HttpResponse CallHandler(HttpRequest& request) const {
    HttpResponse response;
    try {
      response = listener_.CallHandler(request);
    } catch (const std::exception& e) {
      // The exception's text may quote request data, so only its type is logged.
      log::Error("http.handler_exception",
                 {{"request_id", request.request_id}, {"exception", typeid(e).name()}});
      response = listener_.ErrorResponse(
          500, "Internal server error (request id " + request.request_id + ")");
    } catch (...) {
      log::Error("http.handler_exception",
                 {{"request_id", request.request_id}, {"exception", "unknown"}});
      response = listener_.ErrorResponse(
          500, "Internal server error (request id " + request.request_id + ")");
    }
    WipeRequest(request);
    return response;
  }

  void Respond(HttpResponse response, bool keep_alive) {
    bool close = !keep_alive || listener_.stopping();
    for (const auto& [name, value] : response.headers) {
      if (beast::iequals(name, "Connection") && HeaderListHasToken(value, "close")) close = true;
    }
    const auto delay = response.delay;
    PrepareResponse(std::move(response), close);
    if (delay > std::chrono::milliseconds::zero()) {
      // Waiting on a timer keeps the I/O thread free for other connections.
      delay_timer_.expires_after(delay);
      delay_timer_.async_wait([self = shared_from_this()](error_code ec) {
        self->Guarded([&] {
          if (ec) {
            self->Close();
            return;
          }
          self->Write();
        });
      });
      return;
    }
    Write();
  }

  HttpResponse InternalError() const {
    return listener_.ErrorResponse(500, "Internal server error (request id " + request_id_ + ")");
  }

  static void WipeRequest(HttpRequest& request) {
    Wipe(request.body.data(), request.body.size());
    request.body.clear();
    for (auto& header : request.headers) Wipe(header.second.data(), header.second.size());
  }

  // Overwrites every byte of the read buffer that is not an unread (pipelined) request.
  void WipeReadBuffer() {
    const std::size_t spare = std::min(buffer_.capacity(), buffer_.max_size()) - buffer_.size();
    if (spare == 0) return;
    auto region = buffer_.prepare(spare);
    Wipe(region.data(), region.size());
  }

  void SendError(int status, std::string_view message) {
    if (request_id_.empty()) request_id_ = GenerateRequestId();
    if (parser_ && parser_->is_header_done()) {
      const auto& request = parser_->get();
      version_ = request.version();
      head_request_ = request.method() == bhttp::verb::head;
      method_ = ToString(request.method_string());
    } else {
      head_request_ = false;
    }
    parser_.reset();
    PrepareResponse(listener_.ErrorResponse(status, message), /*close=*/true);
    Write();
  }

  void PrepareResponse(HttpResponse source, bool close) {
    int status = source.status;
    if (status < 200 || status > 999) {
      // An informational or out-of-range status from a handler would break message framing.
      log::Error("http.invalid_status",
                 {{"request_id", request_id_}, {"status", std::to_string(status)}});
      source = InternalError();
      status = source.status;
    }
    response_ = Response{};
    response_.version(version_ == 10 ? 10 : 11);
    response_.result(static_cast<unsigned>(status));
    for (auto& [name, value] : source.headers) {
      if (beast::iequals(name, "Content-Length") || beast::iequals(name, "Transfer-Encoding") ||
          beast::iequals(name, "Connection") || beast::iequals(name, "Cache-Control") ||
          beast::iequals(name, "X-Request-Id")) {
        continue;  // framing and these two are the server's to set
      }
      if (name.empty() || HasUnsafeHeaderChars(name) || HasUnsafeHeaderChars(value)) {
        log::Error("http.unsafe_response_header", {{"request_id", request_id_}});
        continue;
      }
      response_.insert(name, value);
    }
    response_.set(bhttp::field::cache_control, "no-store");
    response_.set("X-Request-Id", request_id_);
    if (status == 204 || status == 304) {
      response_.body().clear();  // no body and no Content-Length (RFC 9110 8.6)
    } else {
      response_.body() = std::move(source.body);
      response_.prepare_payload();
      // A HEAD response announces the length but carries no body; sending one would be read
      // as the start of the next response on a kept-alive connection.
      if (head_request_) response_.body().clear();
    }
    response_.keep_alive(!close);
    close_after_write_ = close;
    status_ = status;
    route_ = source.route;
    tenant_ = std::move(source.tenant);
    subject_ = std::move(source.subject);
  }

  void Write() {
    responding_ = true;
    // One deadline for the whole response: a client that does not read cannot hold the
    // session (and, through the read buffer it stops draining, its pipelined requests) longer.
    stream_.expires_after(listener_.options().write_timeout);
    bhttp::async_write(stream_, response_, [self = shared_from_this()](error_code ec, std::size_t) {
      self->Guarded([&] { self->OnWrite(ec); });
    });
  }

  void OnWrite(const error_code& ec) {
    listener_.ReportRequest(
        {request_id_, method_, route_, tenant_, subject_, status_, Clock::now() - started_, !ec});
    EndInFlight();
    response_ = Response{};
    method_.clear();
    route_ = {};
    tenant_.clear();
    subject_.clear();
    if (ec) {
      Close();
      return;
    }
    WipeReadBuffer();
    if (close_after_write_) {
      Linger();
      return;
    }
    first_request_ = false;
    AwaitRequest();
  }

  void Linger() {
    phase_ = Phase::kClosing;
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      Close();
      return;
    }
    stream_.expires_after(kLingerTimeout);
    Drain();
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](error_code ec, std::size_t n) {
                              Wipe(self->drain_.data(), n);
                              self->Guarded([&] {
                                if (ec) {
                                  self->Close();
                                  return;
                                }
                                self->Drain();
                              });
                            });
  }

  // A request that ends without a written response (the peer left, a timeout) is no longer in
  // flight either.
  void EndInFlight() {
    if (!in_flight_) return;
    in_flight_ = false;
    listener_.RequestEnded();
  }

  void Close() {
    EndInFlight();
    phase_ = Phase::kClosing;
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  Listener& listener_;
  beast::tcp_stream stream_;
  ReadBuffer buffer_;
  std::optional<RequestParser> parser_;
  asio::steady_timer delay_timer_;
  Response response_;
  const bool refusal_;
  Phase phase_ = Phase::kInRequest;
  bool first_request_ = true;
  bool close_after_write_ = false;
  bool responding_ = false;          // a response is being written for the current request
  std::size_t header_consumed_ = 0;  // header bytes the parser consumed for this request
  unsigned version_ = 11;
  bool head_request_ = false;
  int status_ = 0;
  Clock::time_point header_deadline_{};
  Clock::time_point started_ = Clock::now();
  std::string remote_address_;
  std::string request_id_;
  std::string method_;
  std::string_view route_;  // static storage (HttpResponse::route)
  std::string tenant_;
  std::string subject_;
  bool in_flight_ = false;  // counted in the listener's in-flight requests
  std::array<char, 4096> drain_{};
};

unsigned ThreadCount(int requested) {
  if (requested > 0) return static_cast<unsigned>(requested);
  return std::max(1u, std::thread::hardware_concurrency());
}

Listener::Listener(ServerOptions options, RequestHandler handler, ErrorResponder errors)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      errors_(std::move(errors)),
      threads_(ThreadCount(options_.io_threads)),
      header_limit_(static_cast<std::uint32_t>(std::min<std::size_t>(
          options_.max_url_bytes + options_.max_header_bytes + kHeaderLimitSlack,
          std::numeric_limits<std::uint32_t>::max()))),
      // A whole header section plus one read's worth of the next pipelined request.
      read_buffer_limit_(header_limit_ + kReadChunk),
      ioc_(static_cast<int>(threads_)),
      control_(asio::make_strand(ioc_)),
      acceptor_(control_),
      grace_timer_(control_),
      drain_timer_(control_),
      accept_retry_timer_(control_) {
  if (options_.handler_threads > 0) {
    handler_pool_.emplace(static_cast<std::size_t>(options_.handler_threads));
  }
}

Listener::~Listener() {
  // Queued handlers destroyed with the io_context release sessions; those must not post.
  destroying_.store(true);
}

void Listener::ReportRequest(const RequestRecord& record) const {
  if (!on_request_done_) return;
  try {
    on_request_done_(record);
  } catch (...) {
    // A report must never cost the client its response or the session its state.
  }
}

HttpResponse Listener::ErrorResponse(int status, std::string_view message) const {
  try {
    if (errors_) return errors_(status, message);
  } catch (...) {
    log::Error("http.error_responder_failed", {{"status", std::to_string(status)}});
  }
  HttpResponse fallback;
  fallback.status = status;
  fallback.SetHeader("Content-Type", "application/json");
  fallback.body = "{\"code\":" + std::to_string(status) + "}";
  return fallback;
}

Result<std::uint16_t> Listener::Start() {
  auto fail = [&](std::string what, const error_code& ec) -> Error {
    std::string text =
        "cannot listen on " + options_.address + ":" + std::to_string(options_.port) + ": " + what;
    if (ec) text += ": " + ec.message();
    return Error{ErrorCode::kInternal, text, {}, text, {}};
  };
  if (started_) return fail("already started", {});
  error_code ec;
  const auto address = asio::ip::make_address(options_.address, ec);
  if (ec) return fail("not an IP address", ec);
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("open", ec);
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("set SO_REUSEADDR", ec);
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("bind", ec);
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen", ec);
  const std::uint16_t port = acceptor_.local_endpoint(ec).port();
  if (ec) return fail("local endpoint", ec);
  started_ = true;
  log::Info("http.listening", {{"address", address.to_string()},
                               {"port", std::to_string(port)},
                               {"io_threads", std::to_string(threads_)},
                               {"handler_threads", std::to_string(options_.handler_threads)},
                               {"max_connections", std::to_string(options_.max_connections)}});
  Accept();  // queued; nothing runs until Run
  return port;
}

void Listener::Run() {
  if (!started_) {
    log::Error("http.run_without_start");
    return;
  }
  if (options_.handle_signals) {
    signals_.emplace(control_, SIGINT, SIGTERM);
    signals_->async_wait([this](const error_code& ec, int signal_number) {
      if (ec) return;
      log::Info("http.signal", {{"signal", std::to_string(signal_number)}});
      Stop();
    });
  }
  asio::post(control_, [this] {
    if (!stopping_.load() && on_serving_) on_serving_();
  });
  std::vector<std::thread> extra;
  extra.reserve(threads_ - 1);
  for (unsigned i = 1; i < threads_; ++i) extra.emplace_back([this] { RunIoLoop(); });
  RunIoLoop();
  for (auto& thread : extra) thread.join();
  // Every handler has answered (the I/O loop waited for them); let the workers wind down.
  if (handler_pool_) handler_pool_->join();
  log::Info("http.stopped");
}

void Listener::RunIoLoop() {
  // No work guard: run() returns once the acceptor is closed and every session is gone,
  // which is exactly when a graceful stop is complete.
  for (;;) {
    try {
      ioc_.run();
      return;
    } catch (const std::exception& e) {
      log::Error("http.io_exception", {{"exception", typeid(e).name()}});
    }
  }
}

void Listener::Stop() {
  if (stop_requested_.exchange(true)) {
    // Ends a drain delay (a no-op otherwise: the timer is not waiting).
    asio::post(control_, [this] { drain_timer_.cancel(); });
    return;
  }
  asio::post(control_, [this] { BeginStop(); });
}

void Listener::BeginStop() {
  if (on_stopping_) {
    try {
      on_stopping_();
    } catch (...) {
      log::Error("http.on_stopping_failed");
    }
  }
  if (options_.drain_delay <= std::chrono::milliseconds::zero()) {
    DoStop();
    return;
  }
  log::Info("http.draining", {{"drain_delay_ms", std::to_string(options_.drain_delay.count())}});
  if (signals_) {
    // The first signal started this; another one ends the delay (and the DoStop that follows
    // restores the default dispositions, so a third one ends the process).
    signals_->async_wait([this](const error_code& ec, int signal_number) {
      if (ec) return;
      log::Info("http.signal", {{"signal", std::to_string(signal_number)}});
      drain_timer_.cancel();
    });
  }
  // Runs on expiry and on cancellation alike.
  drain_timer_.expires_after(options_.drain_delay);
  drain_timer_.async_wait([this](const error_code&) { DoStop(); });
}

void Listener::DoStop() {
  if (stopping_.load()) return;
  stopping_.store(true);
  log::Info("http.stopping", {{"connections", std::to_string(live_.load())}});
  error_code ignored;
  acceptor_.close(ignored);
  accept_retry_timer_.cancel();
  if (signals_) {
    // Restores the default dispositions: a second SIGINT/SIGTERM during the grace period
    // ends the process at once, as an operator pressing Ctrl-C twice expects.
    signals_->cancel(ignored);
    signals_->clear(ignored);
  }
  for (auto& session : LiveSessions()) {
    asio::post(session->executor(), [session] { session->OnServerStopping(); });
  }
  if (live_.load() > 0) {
    grace_timer_.expires_after(options_.shutdown_grace);
    grace_timer_.async_wait([this](const error_code& ec) {
      if (!ec) ForceClose();
    });
  }
}

void Listener::ForceClose() {
  auto sessions = LiveSessions();
  log::Warn("http.force_close", {{"connections", std::to_string(sessions.size())}});
  for (auto& session : sessions) {
    asio::post(session->executor(), [session] { session->ForceClose(); });
  }
}

std::vector<std::shared_ptr<Session>> Listener::LiveSessions() {
  std::vector<std::shared_ptr<Session>> sessions;
  std::lock_guard<std::mutex> lock(registry_mutex_);
  sessions.reserve(registry_.size());
  for (auto& [raw, weak] : registry_) {
    if (auto session = weak.lock()) sessions.push_back(std::move(session));
  }
  return sessions;
}

void Listener::Accept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void Listener::OnAccept(const error_code& ec, tcp::socket socket) {
  // An exception here (bad_alloc making a session) would otherwise end accepting for good:
  // the next async_accept is only started at the end of this handler.
  try {
    HandleAccepted(ec, std::move(socket));
    return;
  } catch (const std::exception& e) {
    log::Error("http.accept_exception", {{"exception", typeid(e).name()}});
  } catch (...) {
    log::Error("http.accept_exception", {{"exception", "unknown"}});
  }
  if (stopping_.load()) return;
  accept_retry_timer_.expires_after(kAcceptRetryDelay);
  accept_retry_timer_.async_wait([this](const error_code& timer_ec) {
    if (!timer_ec && !stopping_.load()) Accept();
  });
}

void Listener::HandleAccepted(const error_code& ec, tcp::socket socket) {
  if (stopping_.load()) {
    error_code ignored;
    socket.close(ignored);
    return;
  }
  if (ec == asio::error::operation_aborted) return;
  if (ec) {
    if (ec == asio::error::connection_aborted) {
      Accept();
      return;
    }
    // Typically out of descriptors: back off briefly instead of spinning.
    log::Warn("http.accept_failed", {{"error", ec.message()}});
    accept_retry_timer_.expires_after(kAcceptRetryDelay);
    accept_retry_timer_.async_wait([this](const error_code& timer_ec) {
      if (!timer_ec && !stopping_.load()) Accept();
    });
    return;
  }
  bool refusal = false;
  if (sessions_.load() >= options_.max_connections) {
    if (!cap_warned_.exchange(true)) {
      log::Warn("http.connection_cap_reached",
                {{"max_connections", std::to_string(options_.max_connections)}});
    }
    if (refusals_.load() >= kMaxRefusalsInFlight) {
      error_code ignored;
      socket.close(ignored);
      Accept();
      return;
    }
    refusal = true;
  }
  (refusal ? refusals_ : sessions_).fetch_add(1);
  live_.fetch_add(1);
  std::shared_ptr<Session> session;
  try {
    session = std::make_shared<Session>(*this, std::move(socket), refusal);
  } catch (...) {
    // No session, so its destructor will not give these back.
    (refusal ? refusals_ : sessions_).fetch_sub(1);
    live_.fetch_sub(1);
    throw;
  }
  {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    registry_.emplace(session.get(), session);
  }
  session->Start();
  Accept();
}

void Listener::OnSessionClosed(Session* session, bool refusal) {
  {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    registry_.erase(session);
  }
  if (refusal) {
    refusals_.fetch_sub(1);
  } else if (sessions_.fetch_sub(1) <= options_.max_connections) {
    cap_warned_.store(false);
  }
  // The last connection of a stopping server ends the grace period early. DoStop sets
  // stopping_ before it reads live_, so one of the two always sees the other.
  if (live_.fetch_sub(1) == 1 && stopping_.load() && !destroying_.load()) {
    asio::post(control_, [this] { grace_timer_.cancel(); });
  }
}

}  // namespace

struct HttpServer::Impl {
  Impl(ServerOptions options, RequestHandler handler, ErrorResponder errors)
      : listener(std::move(options), std::move(handler), std::move(errors)) {}
  Listener listener;
};

HttpServer::HttpServer(ServerOptions options, RequestHandler handler, ErrorResponder errors)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(errors))) {}

HttpServer::~HttpServer() = default;

Result<std::uint16_t> HttpServer::Start() { return impl_->listener.Start(); }

void HttpServer::Run() { impl_->listener.Run(); }

void HttpServer::Stop() { impl_->listener.Stop(); }

void HttpServer::OnServing(std::function<void()> callback) {
  impl_->listener.SetOnServing(std::move(callback));
}

void HttpServer::OnStopping(std::function<void()> callback) {
  impl_->listener.SetOnStopping(std::move(callback));
}

void HttpServer::OnRequestDone(std::function<void(const RequestRecord&)> callback) {
  impl_->listener.SetOnRequestDone(std::move(callback));
}

std::size_t HttpServer::OpenConnections() const { return impl_->listener.open_connections(); }

std::size_t HttpServer::InFlightRequests() const { return impl_->listener.in_flight(); }

}  // namespace ts::http
