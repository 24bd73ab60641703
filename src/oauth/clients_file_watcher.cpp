#include "oauth/clients_file_watcher.h"

#include <atomic>
#include <mutex>
#include <optional>
#include <utility>

#include "common/log.h"
#include "crypto/key_ring_watcher.h"  // SignatureOf
#include "oauth/client_file.h"

namespace ts::oauth {

struct ClientsFileWatcher::State {
  State(std::string p, ClientCredentialsIssuer& i) : path(std::move(p)), issuer(i) {
    if (auto sig = crypto::SignatureOf(path)) seen = *sig;
  }

  bool Check() {
    std::lock_guard<std::mutex> lock(mu);
    auto sig = crypto::SignatureOf(path);
    if (!sig) {
      if (!unreadable_logged) {
        log::Error("oauth.clients_reload_refused", {{"file", path},
                                                    {"reason", sig.error().message},
                                                    {"note", "keeping the clients in use"}});
        unreadable_logged = true;
      }
      return false;
    }
    unreadable_logged = false;
    if (seen && *seen == *sig) return false;
    seen = *sig;
    auto clients = LoadClientsFile(path);
    const std::size_t count = clients ? clients->size() : 0;
    Result<void> replaced =
        clients ? issuer.ReplaceClients(std::move(clients).value()) : std::move(clients).error();
    if (!replaced) {
      // The messages name the file, the entry and the key, never a hash or a secret.
      log::Error("oauth.clients_reload_refused", {{"file", path},
                                                  {"reason", replaced.error().message},
                                                  {"note", "keeping the clients in use"}});
      return false;
    }
    reloads.fetch_add(1, std::memory_order_relaxed);
    log::Info("oauth.clients_reloaded", {{"file", path}, {"clients", std::to_string(count)}});
    return true;
  }

  const std::string path;
  ClientCredentialsIssuer& issuer;
  std::mutex mu;                              // serializes checks; guards the fields below
  std::optional<crypto::FileSignature> seen;  // the version of the file last looked at
  bool unreadable_logged = false;
  std::atomic<std::uint64_t> reloads{0};
};

ClientsFileWatcher::ClientsFileWatcher(std::string path, ClientCredentialsIssuer& issuer,
                                       std::chrono::milliseconds poll_interval)
    : state_(std::make_shared<State>(std::move(path), issuer)),
      poller_(poll_interval, [state = state_.get()] { state->Check(); }) {}

void ClientsFileWatcher::Start() { poller_.Start(); }

bool ClientsFileWatcher::CheckNow() { return state_->Check(); }

std::uint64_t ClientsFileWatcher::reloads() const {
  return state_->reloads.load(std::memory_order_relaxed);
}

}  // namespace ts::oauth
