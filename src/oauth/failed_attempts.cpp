#include "oauth/failed_attempts.h"

#include <algorithm>

namespace ts::oauth {

FailedAttempts::FailedAttempts(const Clock& clock, const std::vector<std::string>& known_client_ids,
                               FailedAttemptPolicy policy)
    : clock_(clock), policy_(policy) {
  for (const std::string& id : known_client_ids) known_.emplace(id, Entry{});
}

FailedAttempts::Entry* FailedAttempts::Find(const std::string& client_id, bool create) {
  if (auto known = known_.find(client_id); known != known_.end()) return &known->second;
  if (auto unknown = unknown_.find(client_id); unknown != unknown_.end()) return &unknown->second;
  if (!create) return nullptr;
  if (unknown_.size() >= policy_.max_unknown_entries) {
    const std::int64_t now = clock_.NowMillis();
    const std::int64_t window_ms = std::chrono::milliseconds(policy_.window).count();
    std::erase_if(unknown_, [&](const auto& kv) {
      return now - kv.second.last_failure_ms > window_ms && now >= kv.second.locked_until_ms;
    });
    if (unknown_.size() >= policy_.max_unknown_entries) unknown_.clear();
  }
  return &unknown_[client_id];
}

std::int64_t FailedAttempts::RetryAfterSeconds(const std::string& client_id) {
  const std::int64_t now = clock_.NowMillis();
  std::lock_guard<std::mutex> lock(mutex_);
  const Entry* entry = Find(client_id, /*create=*/false);
  if (entry == nullptr || entry->locked_until_ms <= now) return 0;
  return (entry->locked_until_ms - now + 999) / 1000;
}

void FailedAttempts::RecordFailure(const std::string& client_id) {
  const std::int64_t now = clock_.NowMillis();
  std::lock_guard<std::mutex> lock(mutex_);
  Entry& entry = *Find(client_id, /*create=*/true);
  if (now - entry.last_failure_ms > std::chrono::milliseconds(policy_.window).count()) {
    entry.failures = 0;
  }
  entry.failures += 1;
  entry.last_failure_ms = now;
  const int over = entry.failures - policy_.failures_before_lockout;
  if (over < 0) return;
  const std::chrono::milliseconds lockout = std::min<std::chrono::milliseconds>(
      policy_.first_lockout * (std::int64_t{1} << std::min(over, 20)), policy_.max_lockout);
  entry.locked_until_ms = std::max(entry.locked_until_ms, now + lockout.count());
}

void FailedAttempts::RecordSuccess(const std::string& client_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto known = known_.find(client_id); known != known_.end()) known->second = Entry{};
}

void FailedAttempts::SetKnownClients(const std::vector<std::string>& known_client_ids) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::unordered_map<std::string, Entry> known;
  for (const std::string& id : known_client_ids) {
    Entry entry;
    if (auto was_known = known_.find(id); was_known != known_.end()) {
      entry = was_known->second;
    } else if (auto was_unknown = unknown_.find(id); was_unknown != unknown_.end()) {
      entry = was_unknown->second;
      unknown_.erase(was_unknown);
    }
    known.emplace(id, entry);
  }
  // Ids that are no longer configured keep their count among the unknown ones (bounded).
  for (auto& [id, entry] : known_) {
    if (known.contains(id) || entry.failures == 0) continue;
    if (unknown_.size() < policy_.max_unknown_entries) unknown_.emplace(id, entry);
  }
  known_ = std::move(known);
}

std::size_t FailedAttempts::UnknownEntries() {
  std::lock_guard<std::mutex> lock(mutex_);
  return unknown_.size();
}

}  // namespace ts::oauth
