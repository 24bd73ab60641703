// FailedAttempts: slows down guessing of client secrets at the token endpoint. Each client id
// has a count of failed authentications; a failure is forgotten `window` after the last one.
// Once a client id has `failures_before_lockout` failures in a row, it is locked out: every request
// for it is refused (429 with Retry-After, without verifying anything) until the lock-out ends. The
// lock-out starts at `first_lockout` and doubles with each further failure, up to
// `max_lockout`; a success clears the count. Unknown client ids are counted exactly like
// configured ones (so the answers do not tell which ids exist), but in a separate map of at
// most `max_unknown_entries`: when it is full, forgotten entries are dropped, and if it is
// still full it is cleared, so ids that do not exist cannot grow memory without limit.
// Nothing here sleeps; time comes from the Clock, so tests use a fake one.
// Thread-safe (one mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"

namespace ts::oauth {

struct FailedAttemptPolicy {
  int failures_before_lockout = 5;
  std::chrono::seconds first_lockout{30};
  std::chrono::seconds max_lockout{15 * 60};
  std::chrono::seconds window{15 * 60};
  std::size_t max_unknown_entries = 10000;
};

class FailedAttempts {
 public:
  FailedAttempts(const Clock& clock, const std::vector<std::string>& known_client_ids,
                 FailedAttemptPolicy policy = {});

  // Seconds until `client_id` may try again (rounded up); 0 when it may try now.
  std::int64_t RetryAfterSeconds(const std::string& client_id);
  void RecordFailure(const std::string& client_id);
  void RecordSuccess(const std::string& client_id);

  // The configured client ids changed (the clients file was reloaded). Counts and lock-outs
  // carry over whichever map an id moves between: reloading never unlocks a client.
  void SetKnownClients(const std::vector<std::string>& known_client_ids);

  // Entries held for unknown client ids (for tests of the memory bound).
  std::size_t UnknownEntries();

 private:
  struct Entry {
    int failures = 0;
    std::int64_t last_failure_ms = 0;
    std::int64_t locked_until_ms = 0;
  };
  Entry* Find(const std::string& client_id, bool create);  // needs mutex_

  const Clock& clock_;
  const FailedAttemptPolicy policy_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> known_;    // configured ids; guarded by mutex_
  std::unordered_map<std::string, Entry> unknown_;  // bounded; guarded by mutex_
};

}  // namespace ts::oauth
