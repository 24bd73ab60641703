#include "metrics/request_metrics.h"

#include <algorithm>

namespace ts::metrics {
namespace {

constexpr std::array<std::string_view, 8> kMethods = {"GET",   "HEAD",   "POST",    "PUT",
                                                      "PATCH", "DELETE", "OPTIONS", "other"};

std::uint32_t MethodIndex(std::string_view method) {
  for (std::uint32_t i = 0; i + 1 < kMethods.size(); ++i) {
    if (kMethods[i] == method) return i;
  }
  return static_cast<std::uint32_t>(kMethods.size() - 1);
}

// route (+1, so a key is never 0) | method | status (0..1023).
std::uint32_t EncodeKey(std::size_t route, std::uint32_t method, int status) {
  const auto code = static_cast<std::uint32_t>(std::clamp(status, 0, 1023));
  return (static_cast<std::uint32_t>(route + 1) << 14) | (method << 10) | code;
}

}  // namespace

std::string_view RequestMetrics::MethodLabel(std::string_view method) {
  return kMethods[MethodIndex(method)];
}

RequestMetrics::RequestMetrics(std::vector<std::string> routes) {
  routes_.reserve(routes.size() + 1);
  routes_.emplace_back(kUnmatchedRoute);
  for (auto& route : routes) {
    if (route != kUnmatchedRoute &&
        std::find(routes_.begin(), routes_.end(), route) == routes_.end()) {
      routes_.push_back(std::move(route));
    }
  }
  latency_ = std::make_unique<LatencyHistogram[]>(routes_.size());
  slots_ = std::make_unique<Slot[]>(kSlots);
}

std::size_t RequestMetrics::RouteIndex(std::string_view route) const {
  for (std::size_t i = 1; i < routes_.size(); ++i) {
    if (routes_[i] == route) return i;
  }
  return 0;
}

void RequestMetrics::Count(std::uint32_t key) {
  std::size_t index = (key * 2654435761u) & (kSlots - 1);
  for (std::size_t probe = 0; probe < kSlots; ++probe, index = (index + 1) & (kSlots - 1)) {
    Slot& slot = slots_[index];
    std::uint32_t seen = slot.key.load(std::memory_order_acquire);
    if (seen == 0) {
      // Claim the slot; if another thread claimed it first, `seen` says for which key.
      if (slot.key.compare_exchange_strong(seen, key, std::memory_order_acq_rel)) seen = key;
    }
    if (seen == key) {
      slot.count.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  overflow_.fetch_add(1, std::memory_order_relaxed);
}

void RequestMetrics::Record(std::string_view route, std::string_view method, int status,
                            std::chrono::nanoseconds duration) {
  const std::size_t route_index = RouteIndex(route);
  Count(EncodeKey(route_index, MethodIndex(method), status));
  latency_[route_index].Observe(duration);
}

void RequestMetrics::Render(Exposition& out) const {
  struct Series {
    std::uint32_t key;
    std::uint64_t count;
  };
  std::vector<Series> series;
  for (std::size_t i = 0; i < kSlots; ++i) {
    const std::uint32_t key = slots_[i].key.load(std::memory_order_acquire);
    if (key != 0) series.push_back({key, slots_[i].count.load(std::memory_order_relaxed)});
  }
  std::sort(series.begin(), series.end(),
            [](const Series& a, const Series& b) { return a.key < b.key; });

  out.Family("token_service_http_requests_total", "counter",
             "HTTP requests answered, by route template, method and status code.");
  for (const Series& s : series) {
    const std::size_t route = (s.key >> 14) - 1;
    const std::uint32_t method = (s.key >> 10) & 0xF;
    const std::string code = std::to_string(s.key & 0x3FF);
    out.Sample("token_service_http_requests_total",
               {{"route", routes_[route]}, {"method", kMethods[method]}, {"code", code}}, s.count);
  }
  out.Single("token_service_http_requests_unlabelled_total", "counter",
             "HTTP requests answered that found no free series slot (should stay 0).",
             overflow_.load(std::memory_order_relaxed));

  out.Family("token_service_http_request_duration_seconds", "histogram",
             "Time from a request's first byte to the end of its response, by route template.");
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    out.Histogram("token_service_http_request_duration_seconds", {{"route", routes_[i]}},
                  latency_[i].Read());
  }
}

}  // namespace ts::metrics
