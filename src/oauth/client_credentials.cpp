#include "oauth/client_credentials.h"

#include <sodium.h>

#include <algorithm>

#include "auth/token_verifier.h"
#include "oauth/client_secret.h"

namespace ts::oauth {
namespace {

constexpr int kMaxConcurrentVerifications = 64;

}  // namespace

std::optional<ConcurrencyLimit::Place> ConcurrencyLimit::TryAcquire() {
  if (in_use_.fetch_add(1) >= limit_) {
    in_use_.fetch_sub(1);
    return std::nullopt;
  }
  return Place(&in_use_);
}

TokenRequest::~TokenRequest() {
  if (!client_secret.empty()) sodium_memzero(client_secret.data(), client_secret.size());
}

Result<std::unique_ptr<ClientCredentialsIssuer>> ClientCredentialsIssuer::Create(
    std::vector<OAuthClient> clients, IssuerOptions options, const Clock& clock) {
  if (clients.empty()) return Error::Invalid("no OAuth client is configured");
  if (options.max_concurrent_verifications < 1 ||
      options.max_concurrent_verifications > kMaxConcurrentVerifications) {
    return Error::Invalid("concurrent secret verifications: expected 1 to " +
                          std::to_string(kMaxConcurrentVerifications));
  }
  if (options.signing_secret.size() < auth::kMinHs256SecretBytes) {
    return Error::Invalid("the HS256 signing secret is shorter than " +
                          std::to_string(auth::kMinHs256SecretBytes) + " bytes");
  }
  auto cost = Argon2idCostOf(clients.front().secret_hash);
  if (!cost) return std::move(cost).error();
  const std::string dummy_secret = GenerateClientSecret();
  auto dummy_hash = HashClientSecret(dummy_secret, *cost);
  if (!dummy_hash) return std::move(dummy_hash).error();
  return std::unique_ptr<ClientCredentialsIssuer>(new ClientCredentialsIssuer(
      std::move(clients), std::move(options), clock, std::move(dummy_hash).value()));
}

ClientCredentialsIssuer::ClientCredentialsIssuer(std::vector<OAuthClient> clients,
                                                 IssuerOptions options, const Clock& clock,
                                                 std::string dummy_hash)
    : clients_(std::move(clients)),
      options_(std::move(options)),
      clock_(clock),
      dummy_hash_(std::move(dummy_hash)),
      verifications_(options_.max_concurrent_verifications),
      failed_attempts_(
          clock,
          [this] {
            std::vector<std::string> ids;
            for (const OAuthClient& c : clients_) ids.push_back(c.client_id);
            return ids;
          }(),
          options_.attempts) {
  for (const OAuthClient& c : clients_) by_id_.emplace(c.client_id, &c);
}

OAuthOutcome<bool> ClientCredentialsIssuer::Authenticate(const OAuthClient* client,
                                                         const TokenRequest& request) {
  auto place = verifications_.TryAcquire();
  if (!place) {
    return OAuthError{OAuthErrorCode::kBusy,
                      "Too many client authentications in progress; retry shortly", 1};
  }
  // An unknown client costs one verification too, so its answer takes as long as a wrong
  // secret's; the result is discarded.
  const bool matches = VerifyClientSecret(client != nullptr ? client->secret_hash : dummy_hash_,
                                          request.client_secret);
  return client != nullptr && matches;
}

OAuthOutcome<IssuedToken> ClientCredentialsIssuer::Issue(const TokenRequest& request) {
  if (request.grant_type.empty()) return InvalidRequest("grant_type is required");
  if (request.grant_type != "client_credentials") {
    return OAuthError{OAuthErrorCode::kUnsupportedGrantType,
                      "Only grant_type=client_credentials is supported", 0};
  }
  if (request.client_id.empty() || request.client_secret.empty()) return InvalidClient();
  if (const std::int64_t wait = failed_attempts_.RetryAfterSeconds(request.client_id); wait > 0) {
    return OAuthError{OAuthErrorCode::kTooManyAttempts,
                      "Too many failed authentications for this client; retry later", wait};
  }
  const auto found = by_id_.find(request.client_id);
  const OAuthClient* client = found == by_id_.end() ? nullptr : found->second;
  auto authenticated = Authenticate(client, request);
  if (auto* error = std::get_if<OAuthError>(&authenticated)) return std::move(*error);
  if (!std::get<bool>(authenticated)) {
    failed_attempts_.RecordFailure(request.client_id);
    return InvalidClient();
  }
  failed_attempts_.RecordSuccess(request.client_id);

  std::vector<std::string> granted = client->scopes;
  if (request.scope) {
    auto requested = ParseScopeList(*request.scope);
    if (!requested) {
      return OAuthError{OAuthErrorCode::kInvalidScope, "scope must name at least one scope", 0};
    }
    for (const std::string& scope : *requested) {
      if (std::find(client->scopes.begin(), client->scopes.end(), scope) == client->scopes.end()) {
        return OAuthError{OAuthErrorCode::kInvalidScope,
                          "The requested scope exceeds the scopes granted to this client", 0};
      }
    }
    std::erase_if(granted, [&](const std::string& scope) {
      return std::find(requested->begin(), requested->end(), scope) == requested->end();
    });
  }
  std::string scope_text;
  for (const std::string& scope : granted) scope_text += (scope_text.empty() ? "" : " ") + scope;

  auto token = auth::MintHs256Token(options_.signing_secret, client->tenant, scope_text,
                                    client->client_id, clock_.NowSeconds(),
                                    client->token_ttl_seconds, options_.issuer, options_.audience);
  if (!token) return OAuthError{OAuthErrorCode::kServerError, "The token could not be issued", 0};
  return IssuedToken{std::move(token).value(), client->token_ttl_seconds, std::move(scope_text)};
}

}  // namespace ts::oauth
