#include "metrics/latency_histogram.h"

namespace ts::metrics {
namespace {

// The bounds in integer nanoseconds, so Observe compares integers.
constexpr std::array<std::int64_t, LatencyHistogram::kBoundsSeconds.size()> BoundsNanos() {
  std::array<std::int64_t, LatencyHistogram::kBoundsSeconds.size()> nanos{};
  for (std::size_t i = 0; i < nanos.size(); ++i) {
    nanos[i] = static_cast<std::int64_t>(LatencyHistogram::kBoundsSeconds[i] * 1e9 + 0.5);
  }
  return nanos;
}
constexpr auto kBoundsNanos = BoundsNanos();

}  // namespace

void LatencyHistogram::Observe(std::chrono::nanoseconds duration) {
  const std::int64_t nanos = duration.count() < 0 ? 0 : duration.count();
  std::size_t bucket = 0;
  while (bucket < kBoundsNanos.size() && nanos > kBoundsNanos[bucket]) ++bucket;
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(static_cast<std::uint64_t>(nanos), std::memory_order_relaxed);
}

LatencyHistogram::Snapshot LatencyHistogram::Read() const {
  Snapshot snapshot;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    snapshot.cumulative[i] = running;
  }
  snapshot.count = running;
  snapshot.sum_seconds = static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9;
  return snapshot;
}

}  // namespace ts::metrics
