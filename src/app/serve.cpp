#include "app/serve.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <thread>

#include "api/agent_handlers.h"
#include "api/error_mapping.h"
#include "api/mcp_server_handlers.h"
#include "api/router.h"
#include "api/token_handlers.h"
#include "app/dev_files.h"
#include "app/process_hardening.h"
#include "auth/token_verifier.h"
#include "common/clock.h"
#include "common/log.h"
#include "crypto/key_ring.h"
#include "crypto/key_ring_watcher.h"
#include "crypto/value_barrier.h"
#include "http/open_file_limit.h"
#include "http/request_log.h"
#include "http/server.h"
#include "metrics/registry.h"
#include "metrics/request_metrics.h"
#include "metrics/store_metrics.h"
#include "oauth/client_credentials.h"
#include "oauth/clients_file_watcher.h"
#include "service/audit_log.h"
#include "service/key_check.h"
#include "service/key_rotation.h"
#include "service/key_usage_report.h"
#include "service/mismatch_throttle.h"
#include "service/token_service.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/timed_store.h"

namespace ts::app {
namespace {

int Fail(const Error& error) {
  std::cerr << "token-service: " << error.message;
  if (!error.internal.empty() && error.internal != error.message) {
    std::cerr << " (" << error.internal << ")";
  }
  std::cerr << "\n";
  return 2;
}

Result<auth::VerifierOptions> VerifierOptionsFor(const config::ServeConfig& config) {
  auth::VerifierOptions options;
  options.issuer = config.jwt_issuer;
  options.audience = config.jwt_audience;
  options.clock_skew = std::chrono::seconds{config.clock_skew_seconds};
  std::string secret_file = config.jwt_secret_file;
  if (config.dev && secret_file.empty() && config.jwt_secret.empty() &&
      config.jwt_public_key_file.empty()) {
    secret_file = config.data_dir + "/dev-jwt-secret";
    if (auto made = EnsureDevJwtSecret(secret_file); !made) return std::move(made).error();
    log::Warn("dev.jwt_secret",
              {{"file", secret_file},
               {"note", "development secret; configure a real one in production"}});
  }
  if (!secret_file.empty()) {
    auto secret = ReadJwtSecretFile(secret_file);
    if (!secret) return std::move(secret).error();
    options.algorithm = auth::Algorithm::kHS256;
    options.key = std::move(secret).value();
  } else if (!config.jwt_secret.empty()) {
    options.algorithm = auth::Algorithm::kHS256;
    options.key = config.jwt_secret;
  } else if (!config.jwt_public_key_file.empty()) {
    auto pem = ReadFile(config.jwt_public_key_file);
    if (!pem) return std::move(pem).error();
    auto algorithm = auth::AlgorithmForPublicKey(*pem);
    if (!algorithm) return std::move(algorithm).error();
    options.algorithm = *algorithm;
    options.key = std::move(pem).value();
  } else {
    return Error::Invalid(
        "no bearer-token key configured: use --jwt-secret-file FILE, TOKEN_SERVICE_JWT_SECRET "
        "or --jwt-public-key-file FILE (or --dev for a generated development secret)");
  }
  return options;
}

struct LoadedKeys {
  std::string path;
  std::shared_ptr<const crypto::KeyRing> ring;
};

Result<LoadedKeys> LoadKeys(const config::ServeConfig& config, const std::string& database) {
  std::string path = config.master_key_file;
  if (path.empty() && config.dev) {
    path = config.data_dir + "/dev-master.key";
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      // A new key cannot read anything an existing database holds; creating one would only
      // turn a lost key file into a service that answers 500 for every stored value.
      if (::stat(database.c_str(), &st) == 0) {
        return Error::Invalid("--dev: the data dir holds a database (" + database +
                              ") but no development master key (" + path +
                              "); refusing to create a new key for an existing store. Restore " +
                              path + " from a backup, or use a new --data-dir");
      }
      if (auto made = crypto::CreateKeyRingFile(path); !made) return std::move(made).error();
      log::Warn("dev.master_key_created",
                {{"file", path},
                 {"note", "development master key; use --master-key-file in production"}});
    }
  }
  if (path.empty()) {
    return Error::Invalid(
        "no master key configured: use --master-key-file FILE (create one with `token-service "
        "keys init FILE`), or --dev for a generated development key");
  }
  auto ring = crypto::LoadKeyRingFile(path);
  if (!ring) return std::move(ring).error();
  return LoadedKeys{path, std::move(ring).value()};
}

// The start-up key check (service/key_check.h), with a message that says what to do.
Result<void> CheckKeysMatchStore(store::TokenStore& store, const crypto::ValueBarrier& barrier,
                                 const std::string& key_file, const std::string& database) {
  auto checked = service::VerifyOrCreateKeyCheck(store, barrier);
  if (!checked) {
    const Error& e = checked.error();
    if (e.code != ErrorCode::kInvalidArgument) return e;
    return Error::Invalid("the master key file " + key_file + " does not match the database " +
                          database + ": " + e.message +
                          ". Start with the key file this database was written with (restore it "
                          "from its backup); no other key can read its values");
  }
  if (*checked == service::KeyCheckOutcome::kCreated) {
    log::Info("store.key_check_created", {{"key_file", key_file}, {"database", database}});
  }
  // Values under keys the file lacks cannot be read; say so now rather than at the first 500.
  auto usage = service::CountKeyUsage(store);
  if (!usage) return std::move(usage).error();
  for (const auto& [key_id, count] : usage->values_by_key) {
    if (count > 0 && barrier.Keys()->Find(key_id) == nullptr) {
      const std::string id = std::to_string(key_id);
      const std::string n = std::to_string(count);
      log::Error("store.values_under_missing_key",
                 {{"key_id", id},
                  {"values", n},
                  {"key_file", key_file},
                  {"note", "these values cannot be decrypted; restore the key from a backup"}});
    }
  }
  return Ok();
}

void PrintDevWelcome(const std::string& secret, const std::string& address, std::uint16_t port,
                     const Clock& clock) {
  auto token = auth::MintHs256Token(secret, "demo", "ai.agent_read ai.agent_manage", "dev",
                                    clock.NowSeconds(), 24 * 3600);
  if (!token) return;
  const std::string host = address.find(':') != std::string::npos ? "[" + address + "]" : address;
  std::printf(
      "\nDevelopment mode: a token for tenant 'demo' (valid 24 h) is in this line:\n\n"
      "  curl -s -H 'Authorization: Bearer %s' http://%s:%u/ai-service/demo/agentic/tokens\n\n",
      token->c_str(), host.c_str(), static_cast<unsigned>(port));
  std::fflush(stdout);
}

// The token endpoint's issuer when --oauth-clients-file is set, else null.
Result<std::unique_ptr<oauth::ClientCredentialsIssuer>> TokenIssuerFor(
    const config::ServeConfig& config, const auth::VerifierOptions& verifier_options,
    const Clock& clock) {
  if (config.oauth_clients_file.empty()) return std::unique_ptr<oauth::ClientCredentialsIssuer>();
  if (verifier_options.algorithm != auth::Algorithm::kHS256) {
    return Error::Invalid(
        "--oauth-clients-file: issuing access tokens needs the HS256 secret the service verifies "
        "them with (--jwt-secret-file or TOKEN_SERVICE_JWT_SECRET); with only a public key "
        "(--jwt-public-key-file) the service cannot sign them");
  }
  if (config.server.handler_threads < 1) {
    return Error::Invalid(
        "--oauth-clients-file needs --handler-threads of at least 1: client secrets are "
        "verified with Argon2id, which must not hold an I/O thread");
  }
  auto clients = oauth::LoadClientsFile(config.oauth_clients_file);
  if (!clients) return std::move(clients).error();
  oauth::IssuerOptions options;
  options.signing_secret = verifier_options.key;
  options.issuer = config.jwt_issuer;
  options.audience = config.jwt_audience;
  // Each verification holds the hash's memory cost (64 MiB from `client add`): a few at once
  // use the cores without letting a flood of requests exhaust memory.
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.max_concurrent_verifications = std::min({cores, 4, config.server.handler_threads});
  const std::size_t count = clients->size();
  auto issuer =
      oauth::ClientCredentialsIssuer::Create(std::move(clients).value(), std::move(options), clock);
  if (!issuer) return std::move(issuer).error();
  log::Info("oauth.token_endpoint",
            {{"clients_file", config.oauth_clients_file}, {"clients", std::to_string(count)}});
  return std::move(issuer).value();
}

}  // namespace

namespace {

// Each connection holds a descriptor: with the usual soft limit of 1024, accepts would fail
// long before the connection cap could refuse clients with a clear 503.
void LogOpenFileLimit(const Result<http::OpenFileLimit>& limit, std::size_t max_connections) {
  if (!limit) {
    log::Warn("process.open_file_limit", {{"error", limit.error().internal}});
    return;
  }
  log::Info("process.open_file_limit",
            {{"soft", std::to_string(limit->soft)}, {"hard", std::to_string(limit->hard)}});
  if (limit->soft < max_connections + 64) {
    log::Warn("process.open_file_limit_below_connection_cap",
              {{"open_files", std::to_string(limit->soft)},
               {"max_connections", std::to_string(max_connections)}});
  }
}

// How old the key-rotation numbers of /metrics may get before a scrape counts again.
constexpr std::chrono::seconds kKeyUsageRefresh{60};

void RenderHttpGauges(metrics::Exposition& out, const http::HttpServer& server) {
  out.Single("token_service_http_requests_in_flight", "gauge",
             "Requests whose first byte has arrived and whose response is not written yet.",
             static_cast<std::uint64_t>(server.InFlightRequests()));
  out.Single("token_service_http_open_connections", "gauge",
             "Client connections being served (not counting those refused at the cap).",
             static_cast<std::uint64_t>(server.OpenConnections()));
}

}  // namespace

int Serve(const config::ServeConfig& config) {
  log::Level level = log::Level::kInfo;
  log::ParseLevel(config.log_level, &level);
  log::SetLevel(level);
  log::Info("service.starting",
            {{"version", TS_VERSION}, {"revision", TS_REVISION}, {"log_level", config.log_level}});
  LogOpenFileLimit(http::RaiseOpenFileLimit(), config.server.max_connections);
  // A core dump would contain decrypted values and keys.
  if (auto policy = ApplyCoreDumpPolicy(config.allow_core_dumps); !policy) {
    return Fail(policy.error());
  }
  if (auto init = crypto::InitCrypto(); !init) return Fail(init.error());
  if (auto dir = EnsureDirectory(config.data_dir); !dir) return Fail(dir.error());

  auto verifier_options = VerifierOptionsFor(config);
  if (!verifier_options) return Fail(verifier_options.error());
  // In development mode the HS256 secret also signs the demo token printed below.
  std::string dev_secret;
  if (config.dev && verifier_options->algorithm == auth::Algorithm::kHS256) {
    dev_secret = verifier_options->key;
  }
  SystemClock clock;
  auto token_issuer = TokenIssuerFor(config, *verifier_options, clock);
  if (!token_issuer) return Fail(token_issuer.error());
  auto verifier = auth::TokenVerifier::Create(std::move(verifier_options).value());
  if (!verifier) return Fail(verifier.error());

  // With --database-url, PostgreSQL; `database` names it in messages without the password.
  const bool postgres = !config.database_url.empty();
  const std::string database =
      postgres ? store::RedactDatabaseUrl(config.database_url) : config.data_dir + "/tokens.db";
  auto keys = LoadKeys(config, database);
  if (!keys) return Fail(keys.error());

  Result<std::unique_ptr<store::Store>> store = Error::Internal("no store opened");
  if (postgres) {
    store::PostgresOptions pg_options;
    pg_options.url = config.database_url;
    pg_options.pool_size = config.database_pool_size;
    pg_options.statement_timeout = std::chrono::milliseconds(config.database_timeout_ms);
    store = store::OpenPostgresStore(pg_options);
  } else {
    store::SqliteOptions store_options;
    store_options.path = database;
    store_options.synchronous = config.sqlite_synchronous;
    store = store::OpenSqliteStore(store_options);
  }
  if (!store) return Fail(store.error());

  crypto::ValueBarrier barrier(keys->ring);
  if (auto matched = CheckKeysMatchStore(**store, barrier, keys->path, database); !matched) {
    return Fail(matched.error());
  }
  // Follows `keys rotate` / `keys retire` done by another process while this one serves. A ring
  // is only swapped in if it still opens the key check.
  crypto::KeyRingWatcherOptions watch_options;
  store::TokenStore& checked_store = **store;
  watch_options.verify = [&checked_store](const std::shared_ptr<const crypto::KeyRing>& ring) {
    return service::VerifyKeyCheck(checked_store, crypto::ValueBarrier(ring));
  };
  crypto::KeyRingWatcher key_watcher(keys->path, barrier, std::move(watch_options));
  key_watcher.Start();

  auto audit = service::OpenFileAuditLog(config.audit_log.value_or(config.data_dir + "/audit.log"),
                                         clock, /*durable=*/true);
  if (!audit) return Fail(audit.error());

  // From here on every store call is timed for /metrics.
  metrics::StoreMetrics store_metrics;
  store::TimedStore timed_store(**store, store_metrics);

  service::MismatchThrottle throttle(clock);
  service::TokenService tokens(timed_store, barrier, clock, **audit, throttle);
  api::TokenHandlers token_handlers(tokens);
  service::McpServerService mcp_servers(timed_store, clock, **audit);
  api::McpServerHandlers mcp_server_handlers(mcp_servers);
  service::AgentService agents(timed_store, clock, **audit);
  api::AgentHandlers agent_handlers(agents);

  // Ready: the store answers a ping (bounded by --database-timeout-ms on PostgreSQL), a key
  // ring is loaded, and the server serves and is not draining (a graceful stop has begun).
  std::atomic<bool> serving{false};
  std::atomic<bool> draining{false};
  metrics::MetricsRegistry registry;
  api::OperationsEndpoints operations;
  operations.readiness = [&] {
    const auto ring = barrier.Keys();
    return std::vector<api::HealthCheck>{
        {"store", timed_store.Ping().ok()},
        {"keys", ring != nullptr && ring->Find(ring->active_id()) != nullptr},
        {"serving", serving.load() && !draining.load()}};
  };
  operations.metrics = [&registry] { return registry.Render(); };
  api::ApiRouter router(*verifier, clock, **audit, std::move(operations));
  router.AddResource({"tokens", "tokenId", &token_handlers});
  router.AddResource({"mcp-servers", "mcpServerId", &mcp_server_handlers});
  router.AddResource({"agents", "agentId", &agent_handlers});
  std::optional<api::OAuthTokenHandler> token_endpoint;
  // Follows edits of the clients file (`client add` output pasted in, a client removed) while
  // serving; an invalid version is logged and the clients in use stay.
  std::optional<oauth::ClientsFileWatcher> clients_watcher;
  if (*token_issuer) {
    token_endpoint.emplace(**token_issuer);
    router.SetTokenEndpoint(&*token_endpoint);
    clients_watcher.emplace(config.oauth_clients_file, **token_issuer);
    clients_watcher->Start();
  }

  http::HttpServer server(
      config.server, [&router](http::HttpRequest& request) { return router.Handle(request); },
      [](int status, std::string_view message) { return api::RenderStatus(status, message); });

  // Metrics (docs/operations.md lists them). Collectors are added before serving.
  metrics::RequestMetrics request_metrics(router.RouteTemplates());
  service::KeyUsageReport key_usage(timed_store, barrier, clock, kKeyUsageRefresh);
  registry.Add(
      [](metrics::Exposition& out) { metrics::RenderBuildInfo(out, TS_VERSION, TS_REVISION); });
  registry.Add([&request_metrics](metrics::Exposition& out) { request_metrics.Render(out); });
  registry.Add([&server](metrics::Exposition& out) { RenderHttpGauges(out, server); });
  registry.Add([&store_metrics](metrics::Exposition& out) { store_metrics.Render(out); });
  registry.Add([&timed_store](metrics::Exposition& out) {
    if (auto usage = timed_store.ConnectionPoolUsage()) metrics::RenderPoolUsage(out, *usage);
    if (auto usage = timed_store.WriteBatchUsage()) metrics::RenderWriteBatchUsage(out, *usage);
  });
  registry.Add([&key_usage](metrics::Exposition& out) { key_usage.Render(out); });
  server.OnRequestDone([&request_metrics](const http::RequestRecord& record) {
    request_metrics.Record(record.route, record.method, record.status, record.duration);
    http::LogRequest(record);
  });
  server.OnStopping([&draining] {
    draining.store(true);
    log::Info("service.draining");
  });
  auto port = server.Start();
  if (!port) return Fail(port.error());
  if (!config.port_file.empty()) {
    if (auto written = WriteFileAtomically(config.port_file, std::to_string(*port) + "\n", 0644);
        !written) {
      return Fail(written.error());
    }
  }
  server.OnServing([&] {
    serving.store(true);
    log::Info("service.ready",
              {{"address", config.server.address}, {"port", std::to_string(*port)}});
    if (!dev_secret.empty()) PrintDevWelcome(dev_secret, config.server.address, *port, clock);
  });
  server.Run();
  log::Info("service.stopped");
  return 0;
}

}  // namespace ts::app
