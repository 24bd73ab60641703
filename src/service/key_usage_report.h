// KeyUsageReport: key-rotation progress for /metrics — how many sealed values depend on each
// master key id, how many are not yet under the active key, and the active key id — from
// CountKeyUsage (the store's key id bookkeeping, what `keys status` reports). The counts are
// cached and refreshed by the first scrape that finds them older than `max_age`, so scrapes
// cost one count per max_age at most, however often Prometheus asks; a failed refresh keeps
// the previous numbers (their age, token_service_key_usage_age_seconds, shows it).
// Thread-safe: Render may run from several threads (a mutex serializes refreshes; it is never
// on the request path).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

#include "common/clock.h"
#include "crypto/value_barrier.h"
#include "metrics/exposition.h"
#include "service/key_rotation.h"
#include "store/token_store.h"

namespace ts::service {

class KeyUsageReport {
 public:
  // All three must outlive this.
  KeyUsageReport(store::TokenStore& store, const crypto::ValueBarrier& barrier, const Clock& clock,
                 std::chrono::milliseconds max_age);

  void Render(metrics::Exposition& out);

 private:
  store::TokenStore& store_;
  const crypto::ValueBarrier& barrier_;
  const Clock& clock_;
  const std::chrono::milliseconds max_age_;
  std::mutex mutex_;
  std::optional<KeyUsage> usage_;                // guarded by mutex_
  std::int64_t refreshed_at_ms_ = 0;             // guarded by mutex_
  std::optional<std::int64_t> attempted_at_ms_;  // guarded by mutex_
};

}  // namespace ts::service
