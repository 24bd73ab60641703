// Typed configuration of `token-service serve`, from command-line flags and TOKEN_SERVICE_*
// environment variables (flags win). Every option is declared once in a table that also
// produces --help, so the help text cannot drift from what is accepted. Unknown flags,
// unknown TOKEN_SERVICE_* variables and bad values stop start-up with a message naming the
// option and what is allowed. Pure functions, thread-safe.
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
};

// Looks up an environment variable; injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();
// Names of all TOKEN_SERVICE_* variables in the process environment.
std::vector<std::string> ProcessEnvNames();

Result<ServeConfig> ParseServeConfig(const std::vector<std::string>& args, const EnvLookup& env,
                                     const std::vector<std::string>& env_names);
std::string ServeUsage();
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
