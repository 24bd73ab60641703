// ClientsFileWatcher: keeps a running token endpoint's clients in step with its clients file
// (--oauth-clients-file), so that adding, changing or removing a client needs no restart. A
// background thread stats the file every `poll_interval` (inode, size and times; it is read only
// when they changed) and, when it changed, loads it with the start-up checks (LoadClientsFile:
// mode 0600, every entry valid). A valid file replaces the clients at once; an invalid or
// unreadable one is logged (once per version of the file) and the clients in use stay.
// Thread-safe: CheckNow may run concurrently with the thread; checks are serialized. The issuer
// must outlive the watcher.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/periodic_task.h"
#include "oauth/client_credentials.h"

namespace ts::oauth {

class ClientsFileWatcher {
 public:
  // `issuer` holds the clients loaded from `path` at start-up; the file's current version is
  // taken as that one.
  ClientsFileWatcher(std::string path, ClientCredentialsIssuer& issuer,
                     std::chrono::milliseconds poll_interval = std::chrono::seconds(5));

  // Starts the periodic checks. Idempotent.
  void Start();

  // Reloads the file if it changed since the last check; true if the clients were replaced.
  bool CheckNow();

  std::uint64_t reloads() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
  PeriodicTask poller_;  // after state_: stops before the state goes
};

}  // namespace ts::oauth
