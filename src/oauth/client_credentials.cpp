#include "oauth/client_credentials.h"

#include <sodium.h>

#include <algorithm>

#include "auth/token_verifier.h"
#include "oauth/client_secret.h"

namespace ts::oauth {
namespace {

constexpr int kMaxConcurrentVerifications = 64;

std::vector<std::string> ClientIds(const std::vector<OAuthClient>& clients) {
  std::vector<std::string> ids;
  for (const OAuthClient& c : clients) ids.push_back(c.client_id);
  return ids;
}

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

Result<std::shared_ptr<const ClientCredentialsIssuer::ClientTable>>
ClientCredentialsIssuer::MakeTable(std::vector<OAuthClient> clients) {
  if (clients.empty()) return Error::Invalid("no OAuth client is configured");
  auto cost = Argon2idCostOf(clients.front().secret_hash);
  if (!cost) return std::move(cost).error();
  const std::string dummy_secret = GenerateClientSecret();
  auto dummy_hash = HashClientSecret(dummy_secret, *cost);
  if (!dummy_hash) return std::move(dummy_hash).error();
  auto table = std::make_shared<ClientTable>();
  table->clients = std::move(clients);
  for (const OAuthClient& c : table->clients) table->by_id.emplace(c.client_id, &c);
  table->dummy_hash = std::move(dummy_hash).value();
  return std::shared_ptr<const ClientTable>(std::move(table));
}

Result<std::unique_ptr<ClientCredentialsIssuer>> ClientCredentialsIssuer::Create(
    std::vector<OAuthClient> clients, IssuerOptions options, const Clock& clock) {
  if (options.max_concurrent_verifications < 1 ||
      options.max_concurrent_verifications > kMaxConcurrentVerifications) {
    return Error::Invalid("concurrent secret verifications: expected 1 to " +
                          std::to_string(kMaxConcurrentVerifications));
  }
  if (options.signing_secret.size() < auth::kMinHs256SecretBytes) {
    return Error::Invalid("the HS256 signing secret is shorter than " +
                          std::to_string(auth::kMinHs256SecretBytes) + " bytes");
  }
  auto table = MakeTable(std::move(clients));
  if (!table) return std::move(table).error();
  return std::unique_ptr<ClientCredentialsIssuer>(
      new ClientCredentialsIssuer(std::move(table).value(), std::move(options), clock));
}

ClientCredentialsIssuer::ClientCredentialsIssuer(std::shared_ptr<const ClientTable> table,
                                                 IssuerOptions options, const Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      verifications_(options_.max_concurrent_verifications),
      failed_attempts_(clock, ClientIds(table->clients), options_.attempts),
      table_(std::move(table)) {}

std::shared_ptr<const ClientCredentialsIssuer::ClientTable> ClientCredentialsIssuer::Table() const {
  std::lock_guard<std::mutex> lock(table_mu_);
  return table_;
}

Result<void> ClientCredentialsIssuer::ReplaceClients(std::vector<OAuthClient> clients) {
  auto table = MakeTable(std::move(clients));
  if (!table) return std::move(table).error();
  failed_attempts_.SetKnownClients(ClientIds((*table)->clients));
  std::lock_guard<std::mutex> lock(table_mu_);
  table_ = std::move(table).value();
  return Ok();
}

std::size_t ClientCredentialsIssuer::client_count() const { return Table()->clients.size(); }

OAuthOutcome<bool> ClientCredentialsIssuer::Authenticate(const ClientTable& table,
                                                         const OAuthClient* client,
                                                         const TokenRequest& request) {
  auto place = verifications_.TryAcquire();
  if (!place) {
    return OAuthError{OAuthErrorCode::kBusy,
                      "Too many client authentications in progress; retry shortly", 1};
  }
  // An unknown client costs one verification too, so its answer takes as long as a wrong
  // secret's; the result is discarded.
  const bool matches = VerifyClientSecret(
      client != nullptr ? client->secret_hash : table.dummy_hash, request.client_secret);
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
  // The table is held for the whole request: a reload meanwhile does not pull the client away.
  const std::shared_ptr<const ClientTable> table = Table();
  const auto found = table->by_id.find(request.client_id);
  const OAuthClient* client = found == table->by_id.end() ? nullptr : found->second;
  auto authenticated = Authenticate(*table, client, request);
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
