#include "app/serve.h"

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <iostream>

#include "api/error_mapping.h"
#include "api/router.h"
#include "api/token_handlers.h"
#include "app/dev_files.h"
#include "auth/token_verifier.h"
#include "common/clock.h"
#include "common/log.h"
#include "crypto/key_ring.h"
#include "crypto/value_barrier.h"
#include "http/server.h"
#include "service/audit_log.h"
#include "service/mismatch_throttle.h"
#include "service/token_service.h"
#include "store/sqlite/sqlite_store.h"

namespace ts::app {
namespace {

int Fail(const Error& error) {
  std::cerr << "token-service: " << error.message;
  if (!error.internal.empty()) std::cerr << " (" << error.internal << ")";
  std::cerr << "\n";
  return 2;
}

void RefuseCoreDumps() {
  // A core dump would contain decrypted values and keys: keep the process undumpable.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  struct rlimit none {0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
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
    log::Warn("dev.jwt_secret", {{"file", secret_file},
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

Result<std::shared_ptr<const crypto::KeyRing>> LoadKeys(const config::ServeConfig& config) {
  std::string path = config.master_key_file;
  if (path.empty() && config.dev) {
    path = config.data_dir + "/dev-master.key";
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
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
  return crypto::LoadKeyRingFile(path);
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

}  // namespace

int Serve(const config::ServeConfig& config) {
  log::Level level = log::Level::kInfo;
  log::ParseLevel(config.log_level, &level);
  log::SetLevel(level);
  if (!config.allow_core_dumps) RefuseCoreDumps();
  if (auto init = crypto::InitCrypto(); !init) return Fail(init.error());
  if (auto dir = EnsureDirectory(config.data_dir); !dir) return Fail(dir.error());

  auto verifier_options = VerifierOptionsFor(config);
  if (!verifier_options) return Fail(verifier_options.error());
  // In development mode the HS256 secret also signs the demo token printed below.
  std::string dev_secret;
  if (config.dev && verifier_options->algorithm == auth::Algorithm::kHS256) {
    dev_secret = verifier_options->key;
  }
  auto verifier = auth::TokenVerifier::Create(std::move(verifier_options).value());
  if (!verifier) return Fail(verifier.error());

  auto keys = LoadKeys(config);
  if (!keys) return Fail(keys.error());

  store::SqliteOptions store_options;
  store_options.path = config.data_dir + "/tokens.db";
  store_options.synchronous = config.sqlite_synchronous;
  auto store = store::OpenSqliteStore(store_options);
  if (!store) return Fail(store.error());

  SystemClock clock;
  auto audit = service::OpenFileAuditLog(config.audit_log.value_or(config.data_dir + "/audit.log"),
                                         clock, /*durable=*/true);
  if (!audit) return Fail(audit.error());

  crypto::ValueBarrier barrier(*keys);
  service::MismatchThrottle throttle(clock);
  service::TokenService tokens(**store, barrier, clock, **audit, throttle);
  api::TokenHandlers token_handlers(tokens);

  std::atomic<bool> serving{false};
  store::TokenStore& store_ref = **store;
  api::ApiRouter router(*verifier, clock, **audit,
                        [&] { return serving.load() && store_ref.Ping().ok(); });
  router.AddResource({"tokens", "tokenId", &token_handlers});

  http::HttpServer server(
      config.server, [&router](http::HttpRequest& request) { return router.Handle(request); },
      [](int status, std::string_view message) { return api::RenderStatus(status, message); });
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
    log::Info("service.ready", {{"address", config.server.address},
                                {"port", std::to_string(*port)}});
    if (!dev_secret.empty()) PrintDevWelcome(dev_secret, config.server.address, *port, clock);
  });
  server.Run();
  log::Info("service.stopped");
  return 0;
}

}  // namespace ts::app
