// Runs the real token-service binary for the black-box tests: a private temporary directory,
// a random JWT secret, a key ring made by `token-service keys init`, and `token-service serve`
// on a free loopback port with stdout/stderr captured to files. Readiness is a condition that
// is polled (the port file appears, then GET /health/ready answers 200), never a fixed sleep.
//
// A Backend names a storage backend and carries the extra `serve` arguments it needs; contract
// tests are value-parameterized over Backends(): SQLite (the default) and PostgreSQL. For
// PostgreSQL, every ServerProcess gets a fresh database on the test server
// (tests/support/pg_test_server.h), passed as TOKEN_SERVICE_DATABASE_URL (not a flag: `ps`
// would show its password) and dropped when the ServerProcess is destroyed; Restart keeps it.
//
// ServerProcess is used from one thread (the test's); its accessors may be read from many.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace bb {

struct Backend {
  std::string name;                     // a gtest-safe name: letters, digits, underscore
  std::vector<std::string> serve_args;  // appended to `token-service serve`
  bool postgres = false;                // a fresh PostgreSQL database per ServerProcess
};

// gtest prints a parameter with this (instead of its bytes).
inline void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

// The backends every contract test runs against: sqlite and postgres.
std::vector<Backend> Backends();
// Only the PostgreSQL backend (for tests of several processes on one database).
Backend PostgresBackend();

// For INSTANTIATE_TEST_SUITE_P names.
struct BackendName {
  template <class ParamInfo>
  std::string operator()(const ParamInfo& info) const {
    return info.param.name;
  }
};

// Path of the binary under test (env TS_BINARY); empty if unset.
std::string BinaryPath();

// A directory made with mkdtemp and removed (recursively) on destruction, unless the
// environment variable TS_BLACKBOX_KEEP_TMP is set (for debugging).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string ReadFile(const std::filesystem::path& path);
bool WriteFile(const std::filesystem::path& path, const std::string& content, int mode = 0600);

// Random lowercase hex of `bytes` random bytes.
std::string RandomHex(std::size_t bytes);

// `prefix` followed by n, e.g. Named("tok-", 7) == "tok-7".
std::string Named(std::string_view prefix, std::int64_t n);

struct CommandResult {
  int exit_code = -1;  // exit status, or 128+signal, or -1 if it did not finish in time
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs the binary with `args` (not including argv[0]) and waits for it. `env` entries are
// added to (and override) the inherited environment; TOKEN_SERVICE_JWT_SECRET is never
// inherited, so every run says explicitly where its secret comes from.
CommandResult RunBinary(const std::vector<std::string>& args, const std::filesystem::path& work_dir,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30),
                        const std::map<std::string, std::string>& env = {});

// Starts the binary with `args` and does not wait: stdout and stderr are appended to the given
// paths (files, or a terminal device such as a pseudo-terminal's slave), the environment is
// RunBinary's. Returns the pid (the caller reaps it), or -1 and the reason in *error.
pid_t SpawnBinary(const std::vector<std::string>& args, const std::filesystem::path& work_dir,
                  const std::filesystem::path& out_file, const std::filesystem::path& err_file,
                  const std::map<std::string, std::string>& env, std::string* error);

struct ServerConfig {
  Backend backend{"sqlite", {}};
  // With a postgres backend: use this database URL instead of creating a database (it then
  // belongs to the caller, e.g. several servers sharing one database).
  std::string database_url;
  // Another replica of the same service: share its JWT secret, its master key file (a copy)
  // and, unless database_url is set, its database. It must outlive this server.
  const class ServerProcess* replica_of = nullptr;
  std::vector<std::string> extra_args;  // e.g. {"--clock-skew", "5"}
  bool secret_via_env = false;          // TOKEN_SERVICE_JWT_SECRET instead of --jwt-secret-file
  std::string log_level;                // passed as --log-level when not empty
  // Pass the harness's own options (listen, port file, data dir, keys, audit log, log level) in
  // a JSON configuration file, as `serve --config FILE` (config_file()), instead of as flags.
  bool options_in_config_file = false;
  std::chrono::milliseconds start_deadline{30000};
};

class ServerProcess {
 public:
  // Prepares a fresh temp dir (secret, key ring, data dir) and starts the server. On failure
  // returns nullptr and explains why in *error (including the server's stderr).
  static std::unique_ptr<ServerProcess> Start(const ServerConfig& config, std::string* error);

  ~ServerProcess();  // kills a still-running server, then removes the temp dir
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Sends `signal` and waits up to `deadline` for the exit. Returns the exit code, 128+signal
  // if it died of a signal, or -1 if it had to be killed after the deadline.
  int Stop(int signal = 15 /* SIGTERM */,
           std::chrono::milliseconds deadline = std::chrono::seconds(30));

  // Starts the server again on the same data dir, key ring and secret (after Stop).
  bool Restart(std::string* error);

  // Still running? If it exited, *status_text says how.
  bool Running(std::string* status_text = nullptr);

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // The PostgreSQL URL the server uses (empty with SQLite); it holds a password.
  const std::string& database_url() const { return database_url_; }
  const std::string& jwt_secret() const { return jwt_secret_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path secret_file() const { return dir() / "jwt.secret"; }
  std::filesystem::path key_file() const { return dir() / "master.keys"; }
  std::filesystem::path data_dir() const { return dir() / "data"; }
  std::filesystem::path port_file() const { return dir() / "port"; }
  std::filesystem::path stdout_file() const { return dir() / "server.stdout"; }
  std::filesystem::path stderr_file() const { return dir() / "server.stderr"; }
  std::filesystem::path audit_log_file() const { return dir() / "audit.log"; }
  std::filesystem::path config_file() const { return dir() / "token-service.json"; }

  // Everything the server wrote: stdout, stderr and the audit log.
  std::string AllOutput() const;
  // The last `max_bytes` of stderr, for failure messages.
  std::string StderrTail(std::size_t max_bytes = 4000) const;

 private:
  explicit ServerProcess(ServerConfig config) : config_(std::move(config)) {}
  bool Launch(std::string* error);
  bool WaitUntilReady(std::string* error);

  ServerConfig config_;
  TempDir dir_;
  std::string jwt_secret_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;  // raw waitpid status once reaped
  std::uint16_t port_ = 0;
  std::string database_url_;
  std::string owned_database_;  // created by Start, dropped by the destructor
};

// JWT helpers. Mint: a normal HS256 access token via ts::auth::MintHs256Token.
std::string MintToken(const std::string& secret, const std::string& tenant,
                      const std::string& scope, std::int64_t ttl_seconds = 3600,
                      std::int64_t issued_at_offset_seconds = 0);
// Craft: an HS256 token with exactly the given header and claims JSON (for nbf, missing
// exp, alg "none", tampering). Signed with HMAC-`hmac_digest` (an OpenSSL digest name) and
// `secret`, unless `signature` is given.
std::string CraftToken(const std::string& secret, const std::string& header_json,
                       const std::string& claims_json,
                       const std::optional<std::string>& signature = std::nullopt,
                       const std::string& hmac_digest = "SHA256");
std::string Base64Url(std::string_view bytes);
std::int64_t NowSeconds();

}  // namespace bb
