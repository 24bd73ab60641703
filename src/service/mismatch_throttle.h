// MismatchThrottle: slows down callers who repeatedly send a value that differs from a
// token's stored value, so the "value cannot be changed" answer cannot be used to test
// guesses. Each (tenant, subject) has a failure count that decays over a window; the
// first few mismatches are free, then each costs an exponentially growing delay (capped).
// The delay is applied by the HTTP server without holding a thread.
// Thread-safe (one mutex; entries are pruned as they expire).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace ts::service {

struct ThrottlePolicy {
  int free_attempts = 3;
  std::chrono::milliseconds base_delay{250};
  std::chrono::milliseconds max_delay{2000};
  std::chrono::milliseconds window{15 * 60 * 1000};
  std::size_t max_entries = 100000;
};

class MismatchThrottle {
 public:
  MismatchThrottle(const Clock& clock, ThrottlePolicy policy = {});
  // Records one mismatch by `caller` and returns how long to delay the answer.
  std::chrono::milliseconds RecordMismatch(const std::string& caller);

 private:
  struct Entry {
    int failures = 0;
    std::int64_t last_ms = 0;
  };
  const Clock& clock_;
  ThrottlePolicy policy_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mutex_
};

}  // namespace ts::service
