// KeyRingWatcher: keeps a running ValueBarrier's key ring in step with its key file, so that a
// key rotation done by another process (`token-service keys rotate`) needs no restart:
//   - when the barrier meets sealed bytes under a key id its ring lacks (the rotation already
//     re-wrapped that value under the new key), the watcher reloads the file at once if it
//     changed, and otherwise at most once per `forced_reload_interval`;
//   - a background thread checks the file every `poll_interval` (a stat of inode, size and
//     times; the file is only read when they changed), so new values are sealed under the new
//     active key within that interval even if no request meets the new key first.
// A reloaded ring replaces the current one only if it is consistent with it: every key id the
// two share must hold the same key bytes (a different file at the same path is refused and
// logged, and the service keeps its ring), and the optional `verify` callback must accept it
// (serve checks that it opens the store's key check). Keys missing from the new file (retired)
// are dropped.
// Thread-safe: CheckNow and the missing-key path may run concurrently from any thread; reloads
// are serialized. The barrier must outlive the watcher.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/periodic_task.h"
#include "common/result.h"
#include "crypto/key_ring.h"
#include "crypto/value_barrier.h"

namespace ts::crypto {

// What identifies one version of a file cheaply: a rotation renames a new file into place, so
// the inode changes; an edit in place changes size or times.
struct FileSignature {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  bool operator==(const FileSignature&) const = default;
};

// The signature of the file at `path` (following symlinks), or an error if it cannot be stat'ed.
Result<FileSignature> SignatureOf(const std::string& path);

struct KeyRingWatcherOptions {
  std::chrono::milliseconds poll_interval{5000};
  std::chrono::milliseconds forced_reload_interval{1000};
  // Extra acceptance test for a reloaded ring; an error keeps the current ring (and is logged).
  std::function<Result<void>(const std::shared_ptr<const KeyRing>&)> verify;
};

class KeyRingWatcher {
 public:
  // Watches `path` for `barrier`, whose current ring should have been loaded from that file.
  // Installs itself as the barrier's missing-key handler. Call Start for the periodic checks.
  KeyRingWatcher(std::string path, ValueBarrier& barrier, KeyRingWatcherOptions options = {});
  ~KeyRingWatcher();  // stops the thread and removes the missing-key handler
  KeyRingWatcher(const KeyRingWatcher&) = delete;
  KeyRingWatcher& operator=(const KeyRingWatcher&) = delete;

  // Starts the background thread that calls CheckNow every poll_interval. Idempotent.
  void Start();

  // Reloads the file if its signature changed since the last load (or it was never loaded by
  // this watcher). Returns true if a different ring was installed.
  bool CheckNow();

  // How many times a new ring was installed (for tests and logs).
  std::uint64_t reloads() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
  PeriodicTask poller_;  // calls the check every poll_interval after Start
};

}  // namespace ts::crypto
