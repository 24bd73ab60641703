#include "service/mismatch_throttle.h"

#include <algorithm>

namespace ts::service {

MismatchThrottle::MismatchThrottle(const Clock& clock, ThrottlePolicy policy)
    : clock_(clock), policy_(policy) {}

std::chrono::milliseconds MismatchThrottle::RecordMismatch(const std::string& caller) {
  const std::int64_t now = clock_.NowMillis();
  std::lock_guard<std::mutex> lock(mutex_);
  if (entries_.size() >= policy_.max_entries) {
    // Bound memory: drop expired entries; if still full, start over rather than grow.
    std::erase_if(entries_, [&](const auto& kv) {
      return now - kv.second.last_ms > policy_.window.count();
    });
    if (entries_.size() >= policy_.max_entries) entries_.clear();
  }
  Entry& entry = entries_[caller];
  if (now - entry.last_ms > policy_.window.count()) entry.failures = 0;
  entry.failures += 1;
  entry.last_ms = now;
  const int over = entry.failures - policy_.free_attempts;
  if (over <= 0) return std::chrono::milliseconds{0};
  const int shift = std::min(over - 1, 20);
  auto delay = policy_.base_delay * (std::int64_t{1} << shift);
  return std::min(delay, policy_.max_delay);
}

}  // namespace ts::service
