#include "service/key_usage_report.h"

#include <map>
#include <string>

#include "crypto/key_ring.h"

namespace ts::service {

KeyUsageReport::KeyUsageReport(store::TokenStore& store, const crypto::ValueBarrier& barrier,
                               const Clock& clock, std::chrono::milliseconds max_age)
    : store_(store), barrier_(barrier), clock_(clock), max_age_(max_age) {}

void KeyUsageReport::Render(metrics::Exposition& out) {
  const std::uint32_t active = barrier_.Keys()->active_id();
  std::lock_guard<std::mutex> lock(mutex_);
  const std::int64_t now = clock_.NowMillis();
  // Attempts are rate-limited too: a database that is down must not be asked on every scrape.
  if (!attempted_at_ms_ || now - *attempted_at_ms_ >= max_age_.count()) {
    attempted_at_ms_ = now;
    if (auto counted = CountKeyUsage(store_); counted.ok()) {
      usage_ = std::move(counted).value();
      refreshed_at_ms_ = now;
    }
  }

  out.Single("token_service_active_key_id", "gauge",
             "Id of the master key new values are sealed under.", std::int64_t{active});
  if (!usage_) return;  // never counted yet: no numbers rather than wrong ones
  std::int64_t pending = 0;
  out.Family("token_service_sealed_values", "gauge",
             "Stored values sealed under each master key id (0: unknown format), as "
             "`token-service keys status` counts them.");
  // The active key always has a series, so a rotation's progress starts from a visible 0.
  std::map<std::uint32_t, std::int64_t> counts = usage_->values_by_key;
  counts.try_emplace(active, 0);
  for (const auto& [key_id, count] : counts) {
    out.Sample("token_service_sealed_values", {{"key_id", std::to_string(key_id)}}, count);
    if (key_id != active) pending += count;
  }
  out.Single("token_service_sealed_values_not_under_active_key", "gauge",
             "Stored values a key rotation still has to re-wrap (0 when a rotation is done).",
             pending);
  out.Single("token_service_key_usage_age_seconds", "gauge",
             "Age of the sealed value counts above (a scrape refreshes them when they are older "
             "than the refresh interval).",
             static_cast<double>(now - refreshed_at_ms_) / 1000.0);
}

}  // namespace ts::service
