#include "crypto/key_ring_watcher.h"

#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <utility>

#include "common/log.h"

namespace ts::crypto {
namespace {

std::int64_t Nanos(const struct timespec& ts) {
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Same ids, same active key, same bytes: reloading such a ring would change nothing.
bool SameRing(const KeyRing& a, const KeyRing& b) {
  if (a.active_id() != b.active_id() || a.ids() != b.ids()) return false;
  for (std::uint32_t id : a.ids()) {
    if (!a.SameKeyAs(b, id)) return false;
  }
  return true;
}

std::string IdList(const KeyRing& ring) {
  std::string out;
  for (std::uint32_t id : ring.ids()) {
    if (!out.empty()) out += ' ';
    out += std::to_string(id);
  }
  return out;
}

}  // namespace

Result<FileSignature> SignatureOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error::Invalid(path + ": cannot stat: " + std::strerror(errno));
  }
  FileSignature sig;
  sig.device = st.st_dev;
  sig.inode = st.st_ino;
  sig.size = st.st_size;
  sig.mtime_ns = Nanos(st.st_mtim);
  sig.ctime_ns = Nanos(st.st_ctim);
  return sig;
}

struct KeyRingWatcher::State {
  State(std::string p, ValueBarrier& b, KeyRingWatcherOptions o)
      : path(std::move(p)), barrier(b), options(std::move(o)) {}

  // Reloads if the file changed since the last load; with `missing_key`, also (at most once per
  // forced_reload_interval) if it did not, in case a change kept the signature.
  bool Check(std::optional<std::uint32_t> missing_key) {
    std::lock_guard<std::mutex> lock(mu);
    const auto current = barrier.Keys();
    // Another thread may have reloaded while this one waited for the lock.
    if (missing_key && current && current->Find(*missing_key) != nullptr) return false;

    bool force = false;
    if (missing_key) {
      const auto now = std::chrono::steady_clock::now();
      if (!last_forced || now - *last_forced >= options.forced_reload_interval) {
        force = true;
        last_forced = now;
      }
    }
    auto sig = SignatureOf(path);
    if (!sig) {
      Refuse(std::nullopt, sig.error().message);
      return false;
    }
    if (!force && ((loaded && *loaded == *sig) || (refused && *refused == *sig))) return false;

    auto ring = LoadKeyRingFile(path);
    if (!ring) {
      Refuse(*sig, ring.error().message);
      return false;
    }
    if (current && SameRing(*current, **ring)) {
      loaded = *sig;
      return false;
    }
    if (current) {
      // A key id that now names other bytes means a different key file (or a restored wrong
      // backup): swapping it in would make every value under that id unreadable.
      for (std::uint32_t id : (*ring)->ids()) {
        if (current->Find(id) != nullptr && !current->SameKeyAs(**ring, id)) {
          Refuse(*sig, "key id " + std::to_string(id) +
                           " in the file is a different key than the one in use");
          return false;
        }
      }
    }
    if (options.verify) {
      if (auto verified = options.verify(*ring); !verified) {
        const Error& e = verified.error();
        Refuse(*sig, e.internal.empty() ? e.message : e.message + " (" + e.internal + ")");
        return false;
      }
    }
    barrier.ReplaceKeyRing(*ring);
    loaded = *sig;
    refused.reset();
    reloads.fetch_add(1, std::memory_order_relaxed);
    const std::string active = std::to_string((*ring)->active_id());
    const std::string ids = IdList(**ring);
    log::Info("crypto.key_ring_reloaded",
              {{"file", path}, {"active_key_id", active}, {"key_ids", ids}});
    return true;
  }

  // Logs a refused reload once per file version, not on every poll.
  void Refuse(std::optional<FileSignature> sig, const std::string& why) {
    if (sig && refused && *refused == *sig) return;
    if (!sig && unreadable_logged) return;
    if (sig) {
      refused = *sig;
    } else {
      unreadable_logged = true;
    }
    log::Error("crypto.key_ring_reload_refused",
               {{"file", path}, {"reason", why}, {"note", "keeping the key ring in use"}});
  }

  const std::string path;
  ValueBarrier& barrier;
  const KeyRingWatcherOptions options;

  std::mutex mu;                         // serializes reloads; guards the fields below
  std::optional<FileSignature> loaded;   // the file version the barrier's ring came from
  std::optional<FileSignature> refused;  // the last file version refused (logged once)
  bool unreadable_logged = false;
  std::optional<std::chrono::steady_clock::time_point> last_forced;
  std::atomic<std::uint64_t> reloads{0};
};

KeyRingWatcher::KeyRingWatcher(std::string path, ValueBarrier& barrier,
                               KeyRingWatcherOptions options)
    : state_(std::make_shared<State>(std::move(path), barrier, std::move(options))),
      poller_(state_->options.poll_interval,
              [state = state_.get()] { state->Check(std::nullopt); }) {
  // The handler owns the state, so a call in flight during destruction stays valid.
  std::shared_ptr<State> state = state_;
  barrier.SetMissingKeyHandler([state](std::uint32_t key_id) { state->Check(key_id); });
}

// poller_ (declared after state_) stops and joins its thread before state_ goes.
KeyRingWatcher::~KeyRingWatcher() { state_->barrier.SetMissingKeyHandler(nullptr); }

void KeyRingWatcher::Start() { poller_.Start(); }

bool KeyRingWatcher::CheckNow() { return state_->Check(std::nullopt); }

std::uint64_t KeyRingWatcher::reloads() const {
  return state_->reloads.load(std::memory_order_relaxed);
}

}  // namespace ts::crypto
