#include "config/serve_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

#include "common/log.h"
#include "store/postgres/pg_store.h"

extern char** environ;

namespace ts::config {
namespace {

// Handler threads for SQLite writes: as many writes as may wait for one group commit.
constexpr int kSqliteWriteThreads = 16;

// The option that names the configuration file (never a key inside one).
constexpr std::string_view kConfigOption = "config";
// A configuration file is a few dozen lines; anything this large is the wrong file.
constexpr std::size_t kMaxConfigFileBytes = 1 << 20;

using Setter = std::function<Result<void>(ServeConfig&, const std::string&)>;

struct OptionSpec {
  std::string flag;        // without leading dashes
  std::string value_name;  // empty for boolean flags
  std::string help;
  std::string default_text;
  Setter set;
};

std::string EnvName(const std::string& flag) {
  std::string name = "TOKEN_SERVICE_";
  for (char c : flag) name += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return name;
}

Error Bad(const std::string& flag, const std::string& allowed) {
  return Error::Invalid("--" + flag + ": " + allowed);
}

template <typename T>
Setter Integer(T ServeConfig::*field, std::int64_t min, std::int64_t max, std::string flag) {
  return [=](ServeConfig& c, const std::string& v) -> Result<void> {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || end != v.data() + v.size() || n < min || n > max) {
      return Bad(flag, "expected a whole number from " + std::to_string(min) + " to " +
                           std::to_string(max) + ", got '" + v + "'");
    }
    c.*field = static_cast<T>(n);
    return Ok();
  };
}

Setter ServerSize(std::size_t http::ServerOptions::*field, std::int64_t min, std::int64_t max,
                  std::string flag) {
  return [=](ServeConfig& c, const std::string& v) -> Result<void> {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || end != v.data() + v.size() || n < min || n > max) {
      return Bad(flag, "expected a whole number from " + std::to_string(min) + " to " +
                           std::to_string(max) + ", got '" + v + "'");
    }
    c.server.*field = static_cast<std::size_t>(n);
    return Ok();
  };
}

Setter ServerMillis(std::chrono::milliseconds http::ServerOptions::*field, std::string flag,
                    std::int64_t min = 1) {
  return [=](ServeConfig& c, const std::string& v) -> Result<void> {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || end != v.data() + v.size() || n < min || n > 3'600'000) {
      return Bad(flag, "expected milliseconds from " + std::to_string(min) + " to 3600000, got '" +
                           v + "'");
    }
    c.server.*field = std::chrono::milliseconds{n};
    return Ok();
  };
}

Setter Text(std::string ServeConfig::*field) {
  return [=](ServeConfig& c, const std::string& v) -> Result<void> {
    c.*field = v;
    return Ok();
  };
}

// A boolean option: the parser passes "true" or "false", whatever the source's spelling.
Setter Switch(bool ServeConfig::*field) {
  return [=](ServeConfig& c, const std::string& v) -> Result<void> {
    c.*field = v == "true";
    return Ok();
  };
}

Setter OptionalText(std::optional<std::string> ServeConfig::*field) {
  return [=](ServeConfig& c, const std::string& v) -> Result<void> {
    c.*field = v;
    return Ok();
  };
}

Result<void> SetListen(ServeConfig& c, const std::string& v) {
  std::string host;
  std::string port;
  if (!v.empty() && v.front() == '[') {
    auto close = v.find(']');
    if (close == std::string::npos || close + 1 >= v.size() || v[close + 1] != ':') {
      return Bad("listen", "expected HOST:PORT or [IPv6]:PORT, got '" + v + "'");
    }
    host = v.substr(1, close - 1);
    port = v.substr(close + 2);
  } else {
    auto colon = v.rfind(':');
    if (colon == std::string::npos) return Bad("listen", "expected HOST:PORT, got '" + v + "'");
    host = v.substr(0, colon);
    port = v.substr(colon + 1);
  }
  int n = -1;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
  if (host.empty() || ec != std::errc{} || end != port.data() + port.size() || n < 0 ||
      n > 65535) {
    return Bad("listen", "expected HOST:PORT with a port from 0 to 65535, got '" + v + "'");
  }
  c.server.address = host;
  c.server.port = static_cast<std::uint16_t>(n);
  return Ok();
}

const std::vector<OptionSpec>& Options() {
  static const std::vector<OptionSpec> options = {
      {std::string(kConfigOption), "FILE",
       "Read options from this JSON configuration file first; environment variables and flags "
       "override it (see docs/configuration.md).",
       "", Text(&ServeConfig::config_file)},
      {"listen", "HOST:PORT", "Address to listen on; port 0 picks a free port.", "127.0.0.1:8080",
       SetListen},
      {"data-dir", "DIR", "Directory for the SQLite database, dev keys and the audit log.",
       "./data", Text(&ServeConfig::data_dir)},
      {"port-file", "FILE", "After binding, write the port number to FILE (for scripts).", "",
       Text(&ServeConfig::port_file)},
      {"jwt-secret-file", "FILE",
       "HS256 shared secret for bearer tokens (file content minus one trailing newline). "
       "Alternatively set TOKEN_SERVICE_JWT_SECRET to the secret itself.",
       "", Text(&ServeConfig::jwt_secret_file)},
      {"jwt-public-key-file", "FILE",
       "PEM public key (RSA → RS256, EC P-256 → ES256) for bearer tokens.", "",
       Text(&ServeConfig::jwt_public_key_file)},
      {"jwt-issuer", "ISS", "When set, tokens must carry this `iss`.", "",
       OptionalText(&ServeConfig::jwt_issuer)},
      {"jwt-audience", "AUD", "When set, tokens must carry this `aud`.", "",
       OptionalText(&ServeConfig::jwt_audience)},
      {"clock-skew", "SECONDS", "Tolerance for `exp` and `nbf`.", "60",
       Integer(&ServeConfig::clock_skew_seconds, 0, 3600, "clock-skew")},
      {"oauth-clients-file", "FILE",
       "Serve POST /oauth/token (OAuth 2.0 client credentials) for the clients declared in FILE "
       "(JSON, mode 0600; add entries with `token-service client add`). Needs the HS256 secret, "
       "which signs the issued tokens.",
       "off: no /oauth/token", Text(&ServeConfig::oauth_clients_file)},
      {"master-key-file", "FILE",
       "Key ring file of master keys that encrypt token values (create one with "
       "`token-service keys init FILE`).",
       "", Text(&ServeConfig::master_key_file)},
      {"dev", "",
       "Development mode: generate a JWT secret and a master key in the data dir when none is "
       "configured, and print a ready-to-paste curl line.",
       "off", Switch(&ServeConfig::dev)},
      {"threads", "N", "I/O threads; 0 means one per core.", "0",
       [](ServeConfig& c, const std::string& v) -> Result<void> {
         int n = -1;
         auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
         if (ec != std::errc{} || end != v.data() + v.size() || n < 0 || n > 256) {
           return Bad("threads", "expected a whole number from 0 to 256, got '" + v + "'");
         }
         c.server.io_threads = n;
         return Ok();
       }},
      {"max-body-bytes", "N", "Largest accepted request body (larger: 413).", "1048576",
       ServerSize(&http::ServerOptions::max_body_bytes, 1024, 64 << 20, "max-body-bytes")},
      {"max-url-bytes", "N", "Longest accepted request target (longer: 414).", "10240",
       ServerSize(&http::ServerOptions::max_url_bytes, 256, 1 << 20, "max-url-bytes")},
      {"max-header-bytes", "N", "Largest accepted header section (larger: 431).", "61440",
       ServerSize(&http::ServerOptions::max_header_bytes, 1024, 1 << 20, "max-header-bytes")},
      {"max-connections", "N", "Open connections beyond this are refused with 503.", "10000",
       ServerSize(&http::ServerOptions::max_connections, 1, 1'000'000, "max-connections")},
      {"header-timeout-ms", "MS", "Time allowed to receive a request's header section.", "10000",
       ServerMillis(&http::ServerOptions::header_timeout, "header-timeout-ms")},
      {"body-timeout-ms", "MS", "Time allowed to receive a request body.", "30000",
       ServerMillis(&http::ServerOptions::body_timeout, "body-timeout-ms")},
      {"idle-timeout-ms", "MS", "How long an idle keep-alive connection stays open.", "60000",
       ServerMillis(&http::ServerOptions::idle_timeout, "idle-timeout-ms")},
      {"write-timeout-ms", "MS",
       "Time allowed to send one response; a client that does not read is disconnected.", "30000",
       ServerMillis(&http::ServerOptions::write_timeout, "write-timeout-ms")},
      {"shutdown-grace-ms", "MS", "How long a graceful stop waits for in-flight requests.", "10000",
       ServerMillis(&http::ServerOptions::shutdown_grace, "shutdown-grace-ms")},
      {"drain-delay-ms", "MS",
       "On SIGTERM, answer /health/ready with 503 but keep serving for this long before the "
       "graceful stop, so a load balancer takes the replica out first; a second SIGTERM ends "
       "the delay.",
       "0", ServerMillis(&http::ServerOptions::drain_delay, "drain-delay-ms", 0)},
      {"sqlite-synchronous", "FULL|NORMAL",
       "SQLite durability: FULL (a 201/204 survives a power cut) or NORMAL (survives a "
       "process crash only).",
       "FULL",
       [](ServeConfig& c, const std::string& v) -> Result<void> {
         if (v != "FULL" && v != "NORMAL") {
           return Bad("sqlite-synchronous", "expected FULL or NORMAL, got '" + v + "'");
         }
         c.sqlite_synchronous = v;
         return Ok();
       }},
      {"database-url", "URL",
       "PostgreSQL instead of SQLite: postgresql://USER:PASSWORD@HOST:PORT/DATABASE[?PARAMS] "
       "(libpq URL; prefer the environment variable, which `ps` does not show). Several "
       "replicas may share one database.",
       "none: SQLite in the data dir",
       [](ServeConfig& c, const std::string& v) -> Result<void> {
         // The value holds a password: the message never quotes it.
         if (!store::IsPostgresUrl(v)) {
           return Bad("database-url", "expected a URL starting with postgresql:// or postgres://");
         }
         c.database_url = v;
         return Ok();
       }},
      {"database-pool-size", "N", "PostgreSQL connections per service process.", "16",
       Integer(&ServeConfig::database_pool_size, 1, 1000, "database-pool-size")},
      {"database-timeout-ms", "MS",
       "PostgreSQL statement timeout, and the longest wait for a free connection; beyond it a "
       "request answers 503.",
       "10000", Integer(&ServeConfig::database_timeout_ms, 1, 3'600'000, "database-timeout-ms")},
      {"handler-threads", "N",
       "Threads that run request handlers off the I/O threads, so a database round trip or a "
       "commit does not hold an I/O thread; 0 runs handlers on the I/O threads. With SQLite "
       "only writes use them (reads run inline), and concurrent writes share one commit.",
       "the pool size with --database-url, else 16",
       [](ServeConfig& c, const std::string& v) -> Result<void> {
         int n = -1;
         auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
         if (ec != std::errc{} || end != v.data() + v.size() || n < 0 || n > 1024) {
           return Bad("handler-threads", "expected a whole number from 0 to 1024, got '" + v + "'");
         }
         c.handler_threads = n;
         return Ok();
       }},
      {"audit-log", "FILE", "Audit log (JSON lines); an empty value disables it.",
       "<data-dir>/audit.log", OptionalText(&ServeConfig::audit_log)},
      {"log-level", "LEVEL", "debug, info, warn or error.", "info",
       [](ServeConfig& c, const std::string& v) -> Result<void> {
         log::Level level;
         if (!log::ParseLevel(v, &level)) {
           return Bad("log-level", "expected debug, info, warn or error, got '" + v + "'");
         }
         c.log_level = v;
         return Ok();
       }},
      {"allow-core-dumps", "",
       "Allow core dumps (off by default: a core dump could contain token values).", "off",
       Switch(&ServeConfig::allow_core_dumps)},
  };
  return options;
}

const OptionSpec* FindOption(std::string_view flag) {
  for (const OptionSpec& o : Options()) {
    if (o.flag == flag) return &o;
  }
  return nullptr;
}

bool IsSwitch(const OptionSpec& o) { return o.value_name.empty(); }

// Options whose value is a whole number: a configuration file may give them as JSON numbers.
bool IsNumeric(const OptionSpec& o) {
  return o.value_name == "N" || o.value_name == "MS" || o.value_name == "SECONDS";
}

// Every option but --config itself may appear in a configuration file.
bool AllowedInFile(const OptionSpec& o) { return o.flag != kConfigOption; }

// One option's value from one source, before it is validated by the option's setter.
struct Setting {
  const OptionSpec* option;
  std::string value;  // "true"/"false" for switches
};

// Where each option's effective value came from, by option name (for `config check`).
using Origins = std::map<std::string, ConfigOrigin>;

// Runs the option's setter (the one validation of a value, whatever its source) and records
// where the value came from. `where` prefixes an error message, e.g. "TOKEN_SERVICE_THREADS".
Result<void> Apply(const Setting& s, const std::string& source, const std::string& where,
                   ServeConfig& config, Origins* origins) {
  if (auto r = s.option->set(config, s.value); !r) {
    Error e = std::move(r).error();
    if (!where.empty()) e.message = where + " (" + e.message + ")";
    return e;
  }
  if (origins != nullptr) (*origins)[s.option->flag] = ConfigOrigin{s.value, source};
  return Ok();
}

// The flags of a command line, in order, with switches as "true".
Result<std::vector<Setting>> SplitFlags(const std::vector<std::string>& args) {
  std::vector<Setting> settings;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0) return Error::Invalid("unexpected argument '" + arg + "'");
    std::string flag = arg.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = flag.find('='); eq != std::string::npos) {
      inline_value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    const OptionSpec* option = FindOption(flag);
    if (option == nullptr) {
      return Error::Invalid("unknown option --" + flag +
                            " (see token-service serve --help for the supported options)");
    }
    if (IsSwitch(*option)) {
      if (inline_value) return Error::Invalid("--" + flag + " takes no value");
      settings.push_back({option, "true"});
    } else if (inline_value) {
      settings.push_back({option, *inline_value});
    } else {
      if (i + 1 >= args.size()) return Error::Invalid("--" + flag + " needs a value");
      settings.push_back({option, args[++i]});
    }
  }
  return settings;
}

std::string AllowedKeys() {
  std::string keys;
  for (const OptionSpec& o : Options()) {
    if (!AllowedInFile(o)) continue;
    keys += (keys.empty() ? "" : ", ") + o.flag;
  }
  return keys;
}

// A file value as the text a flag would carry. Never quotes the value: it may be a secret.
Result<std::string> FileValueText(const OptionSpec& o, const boost::json::value& v) {
  if (IsSwitch(o)) {
    if (!v.is_bool()) return Error::Invalid("expected true or false (a JSON boolean)");
    return std::string(v.as_bool() ? "true" : "false");
  }
  if (v.is_string()) return std::string(v.as_string());
  if (IsNumeric(o)) {
    if (v.is_int64()) return std::to_string(v.as_int64());
    if (v.is_uint64()) return std::to_string(v.as_uint64());
    return Error::Invalid("expected a whole number (a JSON number or a string)");
  }
  return Error::Invalid("expected a string (" + o.value_name + ")");
}

Result<std::string> ReadSmallFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::Invalid("cannot open: " + std::string(std::strerror(errno)));
  std::string text;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return Error::Invalid("cannot read: " + std::string(std::strerror(error)));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigFileBytes) {
      ::close(fd);
      return Error::Invalid("larger than " + std::to_string(kMaxConfigFileBytes) + " bytes");
    }
  }
  ::close(fd);
  return text;
}

// The 1-based line of byte `offset` in `text`, for parse error messages.
std::size_t LineOf(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
}

Result<std::vector<Setting>> ReadConfigFile(const std::string& path) {
  const std::string where = "configuration file " + path;
  auto text = ReadSmallFile(path);
  if (!text) return Error::Invalid(where + ": " + text.error().message);
  boost::json::parse_options options;
  options.allow_comments = true;
  options.allow_trailing_commas = true;
  options.max_depth = 8;
  boost::json::stream_parser parser({}, options);
  boost::system::error_code ec;
  const std::size_t consumed = parser.write(text->data(), text->size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    return Error::Invalid(where + ": not valid JSON near line " +
                          std::to_string(LineOf(*text, consumed)) + " (" + ec.message() +
                          "; comments and trailing commas are allowed)");
  }
  const boost::json::value document = parser.release();
  if (!document.is_object()) {
    return Error::Invalid(where + ": expected a JSON object of option names and values, e.g. " +
                          "{\"listen\": \"127.0.0.1:8080\"}");
  }
  std::vector<Setting> settings;
  bool holds_password = false;
  for (const auto& [key, value] : document.as_object()) {
    const std::string name(key);
    if (name == "jwt-secret") {
      return Error::Invalid(where + ": key \"jwt-secret\" is not accepted: a secret does not " +
                            "belong in a configuration file; use \"jwt-secret-file\" or the " +
                            "variable TOKEN_SERVICE_JWT_SECRET");
    }
    const OptionSpec* option = FindOption(name);
    if (option == nullptr || !AllowedInFile(*option)) {
      return Error::Invalid(where + ": unknown key \"" + name + "\" (allowed: " + AllowedKeys() +
                            ")");
    }
    auto value_text = FileValueText(*option, value);
    if (!value_text) {
      return Error::Invalid(where + ": key \"" + name + "\": " + value_text.error().message);
    }
    if (name == "database-url" && store::RedactDatabaseUrl(*value_text) != *value_text) {
      holds_password = true;
    }
    settings.push_back({option, std::move(value_text).value()});
  }
  // Like the master key file: a password that everyone on the machine can read is no secret.
  struct stat st {};
  if (holds_password && ::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    return Error::Invalid(where + " holds a database-url with a password but group or others " +
                          "may read it: chmod 600 it, or move the URL to " +
                          "TOKEN_SERVICE_DATABASE_URL");
  }
  return settings;
}

// Applies the file named by --config or TOKEN_SERVICE_CONFIG (the flag wins) to `config`.
Result<void> ApplyConfigFile(const std::vector<Setting>& flags, const EnvLookup& env,
                             ServeConfig& config, Origins* origins,
                             bool (*wanted)(const OptionSpec&)) {
  std::string path;
  std::string source;
  if (auto from_env = env(EnvName(std::string(kConfigOption)))) {
    path = *from_env;
    source = "environment";
  }
  for (const Setting& s : flags) {
    if (s.option->flag == kConfigOption) {
      path = s.value;
      source = "flag";
    }
  }
  if (path.empty()) return Ok();
  auto settings = ReadConfigFile(path);
  if (!settings) return std::move(settings).error();
  const std::string where = "configuration file " + path;
  for (const Setting& s : *settings) {
    if (!wanted(*s.option)) continue;
    if (auto r = Apply(s, "file", where + ": key \"" + s.option->flag + "\"", config, origins);
        !r) {
      return r;
    }
  }
  config.config_file = path;
  if (origins != nullptr) (*origins)[std::string(kConfigOption)] = ConfigOrigin{path, source};
  return Ok();
}

bool AnyOption(const OptionSpec&) { return true; }

Result<ServeConfig> ParseServe(const std::vector<std::string>& args, const EnvLookup& env,
                               const std::vector<std::string>& env_names, Origins* origins) {
  ServeConfig config;
  auto flags = SplitFlags(args);
  if (!flags) return std::move(flags).error();
  for (const std::string& name : env_names) {
    if (name == "TOKEN_SERVICE_JWT_SECRET") continue;
    bool known = false;
    for (const OptionSpec& o : Options()) known = known || EnvName(o.flag) == name;
    if (!known) {
      return Error::Invalid("unknown environment variable " + name +
                            " (see token-service serve --help for the supported options)");
    }
  }
  // Lowest precedence first: the file, then the environment, then flags.
  if (auto r = ApplyConfigFile(*flags, env, config, origins, AnyOption); !r) {
    return std::move(r).error();
  }
  for (const OptionSpec& o : Options()) {
    auto value = env(EnvName(o.flag));
    if (!value || o.flag == kConfigOption) continue;
    if (IsSwitch(o)) {
      if (*value == "1" || *value == "true") {
        *value = "true";
      } else if (*value == "0" || *value == "false") {
        *value = "false";
      } else {
        return Error::Invalid(EnvName(o.flag) + ": expected true or false");
      }
    }
    if (auto r = Apply({&o, *value}, "environment", EnvName(o.flag), config, origins); !r) {
      return std::move(r).error();
    }
  }
  if (auto secret = env("TOKEN_SERVICE_JWT_SECRET")) {
    config.jwt_secret = *secret;
    if (origins != nullptr) (*origins)["jwt-secret"] = ConfigOrigin{"", "environment"};
  }
  for (const Setting& s : *flags) {
    if (s.option->flag == kConfigOption) continue;
    if (auto r = Apply(s, "flag", "", config, origins); !r) return std::move(r).error();
  }
  // With PostgreSQL, a handler waits for a database round trip; as many handler threads as
  // connections keep every connection busy without tying up the I/O threads. With SQLite,
  // reads are in-process and run inline, and writes go to a pool so that concurrent writes
  // wait for one shared commit (group commit, docs/architecture.md) instead of queueing
  // behind each other's fsync on the I/O thread.
  if (config.database_url.empty()) {
    config.server.handler_threads = config.handler_threads.value_or(kSqliteWriteThreads);
    config.server.reads_inline = true;
  } else {
    config.server.handler_threads = config.handler_threads.value_or(config.database_pool_size);
  }
  if (!config.jwt_secret_file.empty() + !config.jwt_secret.empty() +
          !config.jwt_public_key_file.empty() > 1) {
    return Error::Invalid(
        "configure exactly one of --jwt-secret-file, TOKEN_SERVICE_JWT_SECRET and "
        "--jwt-public-key-file");
  }
  return config;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::vector<std::string> ProcessEnvNames() {
  std::vector<std::string> names;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.rfind("TOKEN_SERVICE_", 0) != 0) continue;
    names.emplace_back(entry.substr(0, entry.find('=')));
  }
  return names;
}

Result<ServeConfig> ParseServeConfig(const std::vector<std::string>& args, const EnvLookup& env,
                                     const std::vector<std::string>& env_names) {
  return ParseServe(args, env, env_names, nullptr);
}

Result<std::vector<EffectiveOption>> CheckServeConfig(const std::string& file, const EnvLookup& env,
                                                      const std::vector<std::string>& env_names) {
  Origins origins;
  auto config = ParseServe({"--" + std::string(kConfigOption), file}, env, env_names, &origins);
  if (!config) return std::move(config).error();
  std::vector<EffectiveOption> effective;
  for (const OptionSpec& o : Options()) {
    auto it = origins.find(o.flag);
    if (it == origins.end()) {
      effective.push_back({o.flag, o.default_text.empty() ? "none" : o.default_text, "default"});
      continue;
    }
    std::string value = it->second.value;
    // Here the file is `config check`'s argument, not a flag of serve.
    if (o.flag == kConfigOption) it->second.source = "argument";
    // The one option whose value may hold a secret (a password in the URL).
    if (o.flag == "database-url") value = store::RedactDatabaseUrl(value);
    effective.push_back({o.flag, value, it->second.source});
  }
  if (origins.count("jwt-secret") != 0) {
    effective.push_back({"jwt-secret", "(set; not shown)", "environment"});
  }
  return effective;
}

std::string ServeUsage() {
  std::ostringstream out;
  out << "Usage: token-service serve [OPTIONS]\n\n"
         "Every option can also be set with an environment variable TOKEN_SERVICE_<OPTION>\n"
         "(upper case, '-' as '_') and in the JSON file of --config under its name without\n"
         "dashes. Precedence: file < environment < flag. Check a file with\n"
         "`token-service config check FILE`.\n\n";
  for (const OptionSpec& o : Options()) {
    std::string left = "  --" + o.flag + (o.value_name.empty() ? "" : " " + o.value_name);
    out << left << "\n      " << o.help;
    if (!o.default_text.empty()) out << " (default: " << o.default_text << ")";
    out << "\n";
  }
  return out.str();
}

std::vector<std::string> ServeOptionFlags() {
  std::vector<std::string> flags;
  for (const OptionSpec& o : Options()) flags.push_back("--" + o.flag);
  return flags;
}

namespace {

// The options key commands share with serve; their values go through serve's own setters.
constexpr std::string_view kSharedKeysFlags[] = {"data-dir", "master-key-file",
                                                 "sqlite-synchronous", "database-url",
                                                 "database-timeout-ms"};

bool IsSharedKeysFlag(std::string_view flag) {
  for (std::string_view shared : kSharedKeysFlags) {
    if (shared == flag) return true;
  }
  return false;
}

bool IsSharedKeysOption(const OptionSpec& o) { return IsSharedKeysFlag(o.flag); }

Result<std::int64_t> KeysInteger(const std::string& flag, const std::string& v, std::int64_t min,
                                 std::int64_t max) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || end != v.data() + v.size() || n < min || n > max) {
    return Bad(flag, "expected a whole number from " + std::to_string(min) + " to " +
                         std::to_string(max) + ", got '" + v + "'");
  }
  return n;
}

}  // namespace

Result<KeysConfig> ParseKeysConfig(std::string_view command, const std::vector<std::string>& args,
                                   const EnvLookup& env) {
  KeysConfig config;
  config.command = std::string(command);
  const bool rotate = command == "rotate";
  const bool retire = command == "retire";
  if (!rotate && !retire && command != "status") {
    return Error::Invalid("unknown keys command '" + config.command +
                          "' (expected init, rotate, status or retire)");
  }
  ServeConfig shared;
  // A service configured by a file keeps its store and key options there: read them too, with
  // the same precedence as serve (file < environment < flag).
  std::vector<Setting> config_flag;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      config_flag = {{FindOption(kConfigOption), args[i + 1]}};
    } else if (args[i].rfind("--config=", 0) == 0) {
      config_flag = {{FindOption(kConfigOption), args[i].substr(9)}};
    }
  }
  if (auto r = ApplyConfigFile(config_flag, env, shared, nullptr, IsSharedKeysOption); !r) {
    return std::move(r).error();
  }
  for (std::string_view flag : kSharedKeysFlags) {
    const OptionSpec* option = FindOption(flag);
    auto value = env(EnvName(option->flag));
    if (!value) continue;
    if (auto r = option->set(shared, *value); !r) {
      Error e = std::move(r).error();
      e.message = EnvName(option->flag) + " (" + e.message + ")";
      return e;
    }
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0) return Error::Invalid("unexpected argument '" + arg + "'");
    std::string flag = arg.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = flag.find('='); eq != std::string::npos) {
      inline_value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    if (rotate && flag == "resume") {
      if (inline_value) return Error::Invalid("--resume takes no value");
      config.resume = true;
      continue;
    }
    if (flag == kConfigOption) {  // read above
      if (!inline_value && ++i >= args.size()) return Error::Invalid("--config needs a value");
      continue;
    }
    const bool known = IsSharedKeysFlag(flag) || (rotate && flag == "batch-size") ||
                       ((rotate || retire) && flag == "settle-seconds") ||
                       (retire && flag == "key-id");
    if (!known) {
      return Error::Invalid("unknown option --" + flag + " for keys " + config.command +
                            " (see token-service keys --help)");
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else {
      if (i + 1 >= args.size()) return Error::Invalid("--" + flag + " needs a value");
      value = args[++i];
    }
    if (IsSharedKeysFlag(flag)) {
      if (auto r = FindOption(flag)->set(shared, value); !r) return std::move(r).error();
    } else if (flag == "batch-size") {
      auto n = KeysInteger(flag, value, 1, 100'000);
      if (!n) return std::move(n).error();
      config.batch_size = *n;
    } else if (flag == "settle-seconds") {
      auto n = KeysInteger(flag, value, 0, 3600);
      if (!n) return std::move(n).error();
      config.settle_seconds = *n;
    } else {
      auto n = KeysInteger(flag, value, 1, 4'294'967'295);
      if (!n) return std::move(n).error();
      config.key_id = static_cast<std::uint32_t>(*n);
    }
  }
  config.data_dir = shared.data_dir;
  config.master_key_file = shared.master_key_file;
  config.sqlite_synchronous = shared.sqlite_synchronous;
  config.database_url = shared.database_url;
  config.database_timeout_ms = shared.database_timeout_ms;
  if (config.master_key_file.empty()) {
    return Error::Invalid("keys " + config.command +
                          " needs --master-key-file FILE: the key file the service uses (with "
                          "--dev it is " +
                          config.data_dir + "/dev-master.key)");
  }
  if (retire && !config.key_id) return Error::Invalid("keys retire needs --key-id N");
  return config;
}

std::string KeysUsage() {
  return "Usage:\n"
         "  token-service keys init FILE\n"
         "      Create a master key file (mode 0600) for --master-key-file; never overwrites.\n"
         "  token-service keys status --master-key-file FILE [STORE OPTIONS]\n"
         "      Show each key in FILE, which one is active, and how many stored values depend\n"
         "      on each (also values under keys missing from FILE). Exit 1 if any are.\n"
         "  token-service keys rotate --master-key-file FILE [STORE OPTIONS] [--resume]\n"
         "                            [--batch-size N] [--settle-seconds S]\n"
         "      Add a new key to FILE, make it active, and re-wrap every stored value under it\n"
         "      while the service keeps running. --resume adds no key and finishes an\n"
         "      interrupted rotation. --batch-size: rows per transaction (default 500).\n"
         "      --settle-seconds: keep re-checking for values the running service still\n"
         "      sealed under the old key until this long after the key was added (default 10;\n"
         "      a running service picks up a new key file within 5 s).\n"
         "  token-service keys retire --master-key-file FILE --key-id N [STORE OPTIONS]\n"
         "                            [--settle-seconds S]\n"
         "      Remove key N from FILE, only if it is not active and nothing stored (values\n"
         "      or the key check) depends on it. Waits until FILE is S seconds old (default\n"
         "      10) so that running services have seen its active key.\n"
         "\n"
         "STORE OPTIONS, as for serve (also from the same TOKEN_SERVICE_* variables):\n"
         "  --data-dir DIR                 the service's data dir (default: ./data)\n"
         "  --sqlite-synchronous FULL|NORMAL   (default: FULL)\n"
         "  --database-url URL             the service's PostgreSQL instead of SQLite\n"
         "                                 (better from TOKEN_SERVICE_DATABASE_URL)\n"
         "  --database-timeout-ms MS       statement timeout (default: 10000)\n"
         "  --config FILE                  serve's configuration file (also from\n"
         "                                 TOKEN_SERVICE_CONFIG): the options above are read\n"
         "                                 from it; the environment and flags override it\n"
         "The master key file may also come from TOKEN_SERVICE_MASTER_KEY_FILE.\n";
}

std::optional<std::int64_t> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t unit = 1;
  switch (text.back()) {
    case 's': unit = 1; text.remove_suffix(1); break;
    case 'm': unit = 60; text.remove_suffix(1); break;
    case 'h': unit = 3600; text.remove_suffix(1); break;
    case 'd': unit = 86400; text.remove_suffix(1); break;
    default: break;
  }
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n <= 0 || n > 10'000'000) {
    return std::nullopt;
  }
  return n * unit;
}

}  // namespace ts::config
