// HttpServer: HTTP/1.1 on Boost.Beast/Asio. A listener accepts; each connection is a session
// that loops read → handle → write on its own strand. Enforces limits (URL → 414, header
// section → 431, body → 413), header/body read timeouts, an idle keep-alive timeout, a
// connection cap (503 beyond it), and a graceful stop (after the optional drain_delay, stop
// accepting, close idle connections, let in-flight requests finish and answer with
// `Connection: close`, force-close the rest after shutdown_grace). Adds
// `Cache-Control: no-store`, `X-Request-Id` and framing headers to every response; wipes
// request bodies and header values after the handler returns. Reports every answered request
// (OnRequestDone) for the request log and the metrics.
// Pipelining: requests on one connection are handled strictly one at a time, in order; the
// requests queued behind the current one are bounded by the read buffer (about
// max_url_bytes + max_header_bytes + 20 KiB), beyond which TCP flow control pushes back.
// A client that does not read its responses holds no thread and is disconnected once one
// response has taken write_timeout. An exception inside a session never reaches the I/O
// thread: it answers 500 with the request id while a request is being read or handled, and
// closes the connection otherwise.
// Threading: Start, then Run, each once, from one thread; Run blocks until the stop is
// complete. Stop is thread-safe and idempotent; with handle_signals, Run turns the first
// SIGINT/SIGTERM into Stop (a second one during the grace period terminates the process).
// The handler and the callbacks run on the I/O threads, possibly concurrently (the
// handler on a worker thread instead when handler_threads > 0).
// Destroy the server only after Run has returned (or if Run was never called).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "http/message.h"

namespace ts::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 picks a free port
  int io_threads = 0;         // 0: one per core
  std::size_t max_url_bytes = 10 * 1024;
  std::size_t max_header_bytes = 60 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_connections = 10000;
  // To receive a complete header section: counted from the accept for a connection's first
  // request, from the request's first byte on a kept-alive connection.
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{30000};    // to receive the body, after the header
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive wait for a request's first byte
  std::chrono::milliseconds write_timeout{30000};   // to send one response
  std::chrono::milliseconds shutdown_grace{10000};  // in-flight requests get this long
  // Between the start of a graceful stop (OnStopping: readiness fails) and the stop proper,
  // the server keeps accepting and serving for this long, so a load balancer sees the replica
  // unready and takes it out before connections are refused. A second Stop (or signal) ends
  // the delay at once.
  std::chrono::milliseconds drain_delay{0};
  bool handle_signals = true;                       // SIGINT/SIGTERM → graceful stop
  // > 0: handlers run on a pool of this many worker threads instead of the I/O threads, so a
  // handler that blocks (a database round trip) holds a worker, not an I/O thread; the session
  // resumes on its strand with the response. 0: handlers run inline on the I/O threads.
  int handler_threads = 0;
  // With a handler pool: GET and HEAD requests still run inline on the I/O thread. For a store
  // whose reads never wait on the network (SQLite) this saves two thread hand-offs per read,
  // while writes, which wait for their commit, still free the I/O thread.
  bool reads_inline = false;
};

// What the server knows about a request once its response has been written (or failed to
// be), for the request log and the metrics. Views into the session's state: copy what you
// keep. Never a body, a header value or a query string.
struct RequestRecord {
  std::string_view request_id;
  std::string_view method;   // as sent; empty if the request line did not parse
  std::string_view route;    // HttpResponse::route; empty when no route matched
  std::string_view tenant;   // HttpResponse::tenant
  std::string_view subject;  // HttpResponse::subject
  int status = 0;
  // From the request's first byte (from the accept for a refused connection) to the end of
  // the write.
  std::chrono::nanoseconds duration{0};
  bool written = true;  // false: the connection failed while the response was being sent
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, RequestHandler handler, ErrorResponder errors);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens. Returns the bound port (useful with port 0).
  Result<std::uint16_t> Start();
  // Serves until stopped; returns after a graceful stop completes.
  void Run();
  // Begins a graceful stop; during drain_delay, a second call ends the delay. Thread-safe.
  void Stop();

  // Called once when Run has started serving (e.g. to mark readiness).
  void OnServing(std::function<void()> callback);
  // Called once when a graceful stop begins (before idle connections are closed), on an I/O
  // thread.
  void OnStopping(std::function<void()> callback);
  // Called for every answered request (including the server's own 4xx/503 answers) after its
  // response was written, on the I/O thread of its connection; must be cheap and must not
  // throw. Set before Start.
  void OnRequestDone(std::function<void(const RequestRecord&)> callback);

  // Thread-safe snapshots for metrics: connections being served (refused ones not counted),
  // and requests whose first byte has arrived and whose response is not written yet.
  std::size_t OpenConnections() const;
  std::size_t InFlightRequests() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ts::http
