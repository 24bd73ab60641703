#include "metrics/store_metrics.h"

#include <string>

namespace ts::metrics {

std::string_view StoreOperationName(StoreOperation operation) {
  switch (operation) {
    case StoreOperation::kGet:
      return "get";
    case StoreOperation::kList:
      return "list";
    case StoreOperation::kInsert:
      return "insert";
    case StoreOperation::kUpdate:
      return "update";
    case StoreOperation::kDelete:
      return "delete";
    case StoreOperation::kPing:
      return "ping";
    case StoreOperation::kSettings:
      return "settings";
    case StoreOperation::kKeyRotation:
      return "key_rotation";
    case StoreOperation::kKeyUsage:
      return "key_usage";
    case StoreOperation::kCount_:
      break;
  }
  return "other";
}

void StoreMetrics::Record(StoreOperation operation, std::chrono::nanoseconds duration,
                          bool failed) {
  const auto index = static_cast<std::size_t>(operation);
  if (index >= kKinds) return;
  latency_[index].Observe(duration);
  if (failed) errors_[index].fetch_add(1, std::memory_order_relaxed);
}

void StoreMetrics::Render(Exposition& out) const {
  out.Family("token_service_store_operation_duration_seconds", "histogram",
             "Duration of store (database) operations, by operation kind.");
  for (std::size_t i = 0; i < kKinds; ++i) {
    out.Histogram("token_service_store_operation_duration_seconds",
                  {{"operation", StoreOperationName(static_cast<StoreOperation>(i))}},
                  latency_[i].Read());
  }
  out.Family("token_service_store_operation_errors_total", "counter",
             "Store operations that failed for the database's sake (unreachable, timed out, "
             "internal error; not a conflict or a refused reference), by operation kind.");
  for (std::size_t i = 0; i < kKinds; ++i) {
    out.Sample("token_service_store_operation_errors_total",
               {{"operation", StoreOperationName(static_cast<StoreOperation>(i))}},
               errors_[i].load(std::memory_order_relaxed));
  }
}

void RenderPoolUsage(Exposition& out, const PoolUsage& usage) {
  out.Single("token_service_store_pool_size", "gauge",
             "Most database connections the pool opens (--database-pool-size).", usage.size);
  out.Single("token_service_store_pool_open_connections", "gauge",
             "Database connections the pool holds open.", usage.open);
  out.Single("token_service_store_pool_in_use_connections", "gauge",
             "Database connections leased to a call right now.", usage.in_use);
  out.Single("token_service_store_pool_waits_total", "counter",
             "Connection acquisitions that found every connection busy and waited.", usage.waits);
  out.Single("token_service_store_pool_wait_timeouts_total", "counter",
             "Connection acquisitions that waited longer than --database-timeout-ms (503).",
             usage.timeouts);
}

void RenderWriteBatchUsage(Exposition& out, const WriteBatchUsage& usage) {
  out.Single("token_service_store_write_batches_total", "counter",
             "Write transactions committed, each holding one or more queued writes (group "
             "commit).",
             usage.commits);
  out.Single("token_service_store_batched_writes_total", "counter",
             "Writes committed by those transactions (divided by the batches: the mean batch).",
             usage.writes);
  out.Single("token_service_store_write_queue_length", "gauge",
             "Writes waiting for the write lock or in the batch being committed.", usage.queued);
}

}  // namespace ts::metrics
