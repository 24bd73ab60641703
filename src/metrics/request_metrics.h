// RequestMetrics: what the HTTP side of the service reports to Prometheus — requests answered
// by route template, method and status code (token_service_http_requests_total) and a latency
// histogram per route template (token_service_http_request_duration_seconds).
//
// Cardinality and privacy: labels never carry a tenant, an id or a path as sent. `route` is a
// template given at construction ("/ai-service/{tenant}/agentic/tokens/{tokenId}") or
// "unmatched" for anything else (unknown paths, and requests the server answered before
// routing: malformed, too large, refused at the connection cap); `method` is one of the
// standard methods or "other"; `code` is the status code. The series are bounded by
// routes × methods × codes actually seen, held in a fixed table.
//
// Thread-safe and lock-free: Record is a few relaxed atomic increments (it runs on every
// request); Render may run concurrently with it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/exposition.h"
#include "metrics/latency_histogram.h"

namespace ts::metrics {

inline constexpr std::string_view kUnmatchedRoute = "unmatched";

class RequestMetrics {
 public:
  // The route templates the router can report, in the order they should be rendered.
  explicit RequestMetrics(std::vector<std::string> routes);

  // `route` is one of the templates, or anything else (including empty) for "unmatched".
  void Record(std::string_view route, std::string_view method, int status,
              std::chrono::nanoseconds duration);

  void Render(Exposition& out) const;

  // The label value Record uses for a method as sent.
  static std::string_view MethodLabel(std::string_view method);

 private:
  struct Slot {
    std::atomic<std::uint32_t> key{0};  // 0: free; else EncodeKey(...)
    std::atomic<std::uint64_t> count{0};
  };
  static constexpr std::size_t kSlots = 2048;  // a power of two, far above what is reachable

  std::size_t RouteIndex(std::string_view route) const;
  void Count(std::uint32_t key);

  std::vector<std::string> routes_;              // index 0 is kUnmatchedRoute
  std::unique_ptr<LatencyHistogram[]> latency_;  // per route index
  std::unique_ptr<Slot[]> slots_;                // open addressing, linear probing
  std::atomic<std::uint64_t> overflow_{0};       // requests that found no free slot
};

}  // namespace ts::metrics
