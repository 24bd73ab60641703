// ClientCredentialsIssuer: the client credentials grant (RFC 6749 section 4.4) of
// POST /oauth/token. Authenticates a configured client by its secret (Argon2id), applies the
// failed-attempt lock-out (oauth/failed_attempts.h), narrows the scopes to those requested, and
// signs a short-lived HS256 access token with the claims the service's own verifier needs:
// `tenant`, `scope`, `sub` (the client id), `iat`, `exp`, and `iss`/`aud` when configured.
//
// An unknown client id is verified against a dummy hash of the same cost, so it is answered
// like a wrong secret, in comparable time. Verifications are expensive (Argon2id: the hash's
// memory cost, 64 MiB with `client add`'s limits, and tens of milliseconds), so at most
// `max_concurrent_verifications` run at once; a request beyond that is refused (kBusy) instead
// of queueing memory. Issue blocks for one verification: call it from a handler thread, never
// from an I/O thread.
// No HTTP types. Thread-safe; ReplaceClients swaps the whole client list at once.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "oauth/client_file.h"
#include "oauth/failed_attempts.h"
#include "oauth/oauth_error.h"

namespace ts::oauth {

// A parsed token request. The secret is wiped when the request is destroyed.
struct TokenRequest {
  std::string grant_type;
  std::string client_id;
  std::string client_secret;
  std::optional<std::string> scope;  // the `scope` parameter, when given
  bool basic_auth = false;           // credentials came in `Authorization: Basic`

  TokenRequest() = default;
  TokenRequest(TokenRequest&&) = default;
  TokenRequest& operator=(TokenRequest&&) = default;
  ~TokenRequest();
};

struct IssuedToken {
  std::string access_token;
  std::int64_t expires_in = 0;
  std::string scope;  // space-separated, as granted
};

// At most `limit` holders at once; TryAcquire never waits. Thread-safe (one atomic).
class ConcurrencyLimit {
 public:
  explicit ConcurrencyLimit(int limit) : limit_(limit) {}
  // Holds one place until destroyed.
  class Place {
   public:
    explicit Place(std::atomic<int>* in_use) : in_use_(in_use) {}
    Place(Place&& other) noexcept : in_use_(std::exchange(other.in_use_, nullptr)) {}
    Place& operator=(Place&&) = delete;
    ~Place() {
      if (in_use_ != nullptr) in_use_->fetch_sub(1);
    }

   private:
    std::atomic<int>* in_use_;
  };
  std::optional<Place> TryAcquire();

 private:
  const int limit_;
  std::atomic<int> in_use_{0};
};

struct IssuerOptions {
  std::string signing_secret;  // the HS256 secret the service verifies bearer tokens with
  std::optional<std::string> issuer;
  std::optional<std::string> audience;
  int max_concurrent_verifications = 2;
  FailedAttemptPolicy attempts;
};

class ClientCredentialsIssuer {
 public:
  // Hashes a random dummy secret with the cost of the first client's hash (about as long as
  // one verification). kInvalidArgument when `clients` is empty or a limit is out of range.
  static Result<std::unique_ptr<ClientCredentialsIssuer>> Create(std::vector<OAuthClient> clients,
                                                                 IssuerOptions options,
                                                                 const Clock& clock);

  OAuthOutcome<IssuedToken> Issue(const TokenRequest& request);

  // Replaces the configured clients (the clients file changed): requests that start afterwards
  // see only the new list; failure counts and lock-outs carry over by client id. Hashes a new
  // dummy secret (one Argon2id hash): call it off the request path. kInvalidArgument for an
  // empty list; the old clients then stay.
  Result<void> ReplaceClients(std::vector<OAuthClient> clients);
  std::size_t client_count() const;

 private:
  // One version of the configured clients; immutable once built.
  struct ClientTable {
    std::vector<OAuthClient> clients;
    std::unordered_map<std::string, const OAuthClient*> by_id;  // into clients
    std::string dummy_hash;  // unknown ids are verified against it (the first client's cost)
  };
  static Result<std::shared_ptr<const ClientTable>> MakeTable(std::vector<OAuthClient> clients);
  ClientCredentialsIssuer(std::shared_ptr<const ClientTable> table, IssuerOptions options,
                          const Clock& clock);
  std::shared_ptr<const ClientTable> Table() const;
  // Verifies the secret within the concurrency bound; the client is null for unknown ids.
  OAuthOutcome<bool> Authenticate(const ClientTable& table, const OAuthClient* client,
                                  const TokenRequest& request);

  const IssuerOptions options_;
  const Clock& clock_;
  ConcurrencyLimit verifications_;
  FailedAttempts failed_attempts_;
  mutable std::mutex table_mu_;
  std::shared_ptr<const ClientTable> table_;  // guarded by table_mu_
};

}  // namespace ts::oauth
