// LatencyHistogram: a Prometheus histogram of durations with fixed buckets (0.5 ms … 10 s),
// recorded with relaxed atomic increments only, so the request path never takes a lock.
// Read() takes a snapshot for rendering; under concurrent recording a snapshot may be a few
// observations behind in one bucket relative to another (Prometheus tolerates that), never
// torn within one counter.
// Thread-safe: Observe and Read may run concurrently from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace ts::metrics {

class LatencyHistogram {
 public:
  // Upper bounds of the finite buckets, in seconds, as rendered in the `le` label.
  static constexpr std::array<double, 14> kBoundsSeconds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  static constexpr std::size_t kBuckets = kBoundsSeconds.size() + 1;  // the last is +Inf

  struct Snapshot {
    std::array<std::uint64_t, kBuckets> cumulative{};  // observations <= each bound; last: all
    std::uint64_t count = 0;
    double sum_seconds = 0;
  };

  void Observe(std::chrono::nanoseconds duration);
  Snapshot Read() const;

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};  // per bucket, not cumulative
  std::atomic<std::uint64_t> sum_nanos_{0};
};

}  // namespace ts::metrics
