// Typed configuration of `token-service serve`, from a JSON configuration file (--config FILE or
// TOKEN_SERVICE_CONFIG), TOKEN_SERVICE_* environment variables and command-line flags, in that
// order of precedence (a flag wins). Every option is declared once in a table that also
// produces --help, the file keys and the variable names, and one setter per option validates
// its value whatever the source, so help, file, environment and flags cannot drift apart.
// Unknown flags, variables and file keys, wrong types and bad values stop start-up with a
// message naming the source, the option and what is allowed, never a database URL's value.
// Functions are thread-safe; the file is read once per call.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "http/server.h"

namespace ts::config {

struct ServeConfig {
  http::ServerOptions server;
  std::string data_dir = "./data";
  std::string port_file;
  std::string jwt_secret_file;
  std::string jwt_secret;  // from TOKEN_SERVICE_JWT_SECRET only (never a flag: ps would show it)
  std::string jwt_public_key_file;
  std::optional<std::string> jwt_issuer;
  std::optional<std::string> jwt_audience;
  std::int64_t clock_skew_seconds = 60;
  // Clients of POST /oauth/token (oauth/client_file.h); empty: no token endpoint.
  std::string oauth_clients_file;
  std::string master_key_file;
  bool dev = false;
  std::string sqlite_synchronous = "FULL";
  // PostgreSQL instead of SQLite when set (postgresql://…; holds a password: never log it,
  // show store::RedactDatabaseUrl of it instead).
  std::string database_url;
  int database_pool_size = 16;
  std::int64_t database_timeout_ms = 10000;  // statement timeout and pool wait
  // server.handler_threads unless given: the pool size with PostgreSQL, 0 (inline) with SQLite.
  std::optional<int> handler_threads;
  std::optional<std::string> audit_log;  // default: <data-dir>/audit.log; "" disables
  std::string log_level = "info";
  bool allow_core_dumps = false;
  std::string config_file;  // the configuration file that was read; "" when none
};

// Looks up an environment variable; injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();
// Names of all TOKEN_SERVICE_* variables in the process environment.
std::vector<std::string> ProcessEnvNames();

Result<ServeConfig> ParseServeConfig(const std::vector<std::string>& args, const EnvLookup& env,
                                     const std::vector<std::string>& env_names);
std::string ServeUsage();

// Where an option's effective value came from.
struct ConfigOrigin {
  std::string value;
  std::string source;  // "file", "environment" or "flag"
};

// One line of `token-service config check`: an option, its effective value with secrets
// redacted, and where the value came from ("default" when nothing set it).
struct EffectiveOption {
  std::string name;
  std::string value;
  std::string source;
};

// What `serve --config FILE` would run with in this environment, without starting anything:
// every option of the table, then jwt-secret (never its value) when the environment holds it.
// Errors are those serve would stop with.
Result<std::vector<EffectiveOption>> CheckServeConfig(const std::string& file, const EnvLookup& env,
                                                      const std::vector<std::string>& env_names);
// Every flag `serve` accepts, with leading dashes (docs and tests check against this).
std::vector<std::string> ServeOptionFlags();

// Configuration of `token-service keys rotate|status|retire`. The store and key options are the
// ones `serve` has (same flags, same TOKEN_SERVICE_* variables, same validation), so a key
// command pointed at the environment of a service finds the same key file and database; other
// TOKEN_SERVICE_* variables (the service's own) are ignored here, unknown flags are errors.
struct KeysConfig {
  std::string command;  // "rotate", "status" or "retire"
  std::string data_dir = "./data";
  std::string master_key_file;
  std::string sqlite_synchronous = "FULL";
  std::string database_url;             // PostgreSQL instead of SQLite in data_dir
  std::int64_t database_timeout_ms = 10000;
  bool resume = false;                  // rotate: re-wrap what is left, add no key
  std::int64_t batch_size = 500;        // rotate: rows per transaction
  std::int64_t settle_seconds = 10;     // rotate, retire: see KeysUsage()
  std::optional<std::uint32_t> key_id;  // retire: the key to remove (required)
};

Result<KeysConfig> ParseKeysConfig(std::string_view command, const std::vector<std::string>& args,
                                   const EnvLookup& env);
std::string KeysUsage();

// "1h", "30m", "45s", "3600" (seconds), "2d" → seconds.
std::optional<std::int64_t> ParseDuration(std::string_view text);

}  // namespace ts::config
