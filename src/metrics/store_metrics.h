// StoreMetrics: latency and failures of store operations, by operation kind
// (token_service_store_operation_duration_seconds, token_service_store_operation_errors_total),
// recorded by store::TimedStore around every call into the database. The kinds are a fixed
// enumeration, so the series are bounded; no tenant or id is ever a label.
// Thread-safe and lock-free: Record is relaxed atomic increments; Render may run concurrently.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/exposition.h"
#include "metrics/latency_histogram.h"

namespace ts::metrics {

enum class StoreOperation : std::size_t {
  kGet,   // one resource by id
  kList,  // a filtered, sorted page
  kInsert,
  kUpdate,
  kDelete,
  kPing,         // readiness check
  kSettings,     // key check and other settings
  kKeyRotation,  // scans and swaps of sealed values
  kKeyUsage,     // sealed values per key id
  kCount_,
};

// The `operation` label value of a kind ("get", "list", …, "key_usage").
std::string_view StoreOperationName(StoreOperation operation);

class StoreMetrics {
 public:
  void Record(StoreOperation operation, std::chrono::nanoseconds duration, bool failed);
  void Render(Exposition& out) const;

 private:
  static constexpr std::size_t kKinds = static_cast<std::size_t>(StoreOperation::kCount_);
  std::array<LatencyHistogram, kKinds> latency_{};
  std::array<std::atomic<std::uint64_t>, kKinds> errors_{};
};

// Connection pool usage of a store that has a pool (PostgreSQL); a snapshot.
struct PoolUsage {
  std::int64_t size = 0;       // most connections the pool opens
  std::int64_t open = 0;       // connections currently open
  std::int64_t in_use = 0;     // leased to a call right now
  std::uint64_t waits = 0;     // acquisitions that found no idle connection and waited
  std::uint64_t timeouts = 0;  // acquisitions that gave up waiting (answered 503)
};

void RenderPoolUsage(Exposition& out, const PoolUsage& usage);

// Group commit of a store that batches concurrent writes into one transaction (SQLite); a
// snapshot. writes / commits is the mean batch size.
struct WriteBatchUsage {
  std::uint64_t commits = 0;  // batches committed (one fsync each with synchronous=FULL)
  std::uint64_t writes = 0;   // writes those batches committed
  std::int64_t queued = 0;    // writes waiting for the write lock or in the batch being run
};

void RenderWriteBatchUsage(Exposition& out, const WriteBatchUsage& usage);

}  // namespace ts::metrics
