#include "config/serve_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace ts::config {
namespace {

struct Env {
  std::map<std::string, std::string> vars;
  EnvLookup Lookup() const {
    return [this](const std::string& name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& [k, v] : vars) names.push_back(k);
    return names;
  }
};

Result<ServeConfig> Parse(std::vector<std::string> args, const Env& env = {}) {
  return ParseServeConfig(args, env.Lookup(), env.Names());
}

TEST(ServeConfigTest, Defaults) {
  auto c = Parse({});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->server.address, "127.0.0.1");
  EXPECT_EQ(c->server.port, 8080);
  EXPECT_EQ(c->data_dir, "./data");
  EXPECT_EQ(c->server.max_body_bytes, 1024u * 1024u);
  EXPECT_EQ(c->server.max_url_bytes, 10u * 1024u);
  EXPECT_EQ(c->server.max_header_bytes, 60u * 1024u);
  EXPECT_EQ(c->clock_skew_seconds, 60);
  EXPECT_EQ(c->sqlite_synchronous, "FULL");
  EXPECT_FALSE(c->dev);
}

TEST(ServeConfigTest, DatabaseUrlSelectsPostgresAndSizesTheHandlerPool) {
  auto sqlite = Parse({});
  ASSERT_TRUE(sqlite.ok());
  EXPECT_TRUE(sqlite->database_url.empty());
  // SQLite: reads inline, writes on 16 handler threads (group commit).
  EXPECT_EQ(sqlite->server.handler_threads, 16);
  EXPECT_TRUE(sqlite->server.reads_inline);

  Env env{{{"TOKEN_SERVICE_DATABASE_URL", "postgresql://app:pw@db:5432/tokens"}}};
  auto pg = Parse({"--database-pool-size", "24"}, env);
  ASSERT_TRUE(pg.ok()) << pg.error().message;
  EXPECT_EQ(pg->database_url, "postgresql://app:pw@db:5432/tokens");
  EXPECT_EQ(pg->database_pool_size, 24);
  EXPECT_EQ(pg->database_timeout_ms, 10000);
  EXPECT_EQ(pg->server.handler_threads, 24);  // default: one per pooled connection
  EXPECT_FALSE(pg->server.reads_inline);

  auto explicit_threads = Parse({"--database-url=postgres://h/db", "--handler-threads", "0",
                                 "--database-timeout-ms", "2500"});
  ASSERT_TRUE(explicit_threads.ok()) << explicit_threads.error().message;
  EXPECT_EQ(explicit_threads->server.handler_threads, 0);
  EXPECT_EQ(explicit_threads->database_timeout_ms, 2500);
  EXPECT_EQ(Parse({"--handler-threads", "8"})->server.handler_threads, 8);
}

TEST(ServeConfigTest, BadDatabaseUrlIsRefusedWithoutQuotingIt) {
  auto c = Parse({"--database-url", "mysql://app:hunter2@db/tokens"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("postgresql://"), std::string::npos);
  EXPECT_EQ(c.error().message.find("hunter2"), std::string::npos);
  EXPECT_FALSE(Parse({"--database-pool-size", "0"}).ok());
  EXPECT_FALSE(Parse({"--handler-threads", "-1"}).ok());
  EXPECT_FALSE(Parse({"--database-timeout-ms", "0"}).ok());
}

TEST(ServeConfigTest, FlagsBothForms) {
  auto c = Parse({"--listen", "0.0.0.0:9000", "--data-dir=/tmp/x", "--dev", "--threads", "3"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->server.address, "0.0.0.0");
  EXPECT_EQ(c->server.port, 9000);
  EXPECT_EQ(c->data_dir, "/tmp/x");
  EXPECT_TRUE(c->dev);
  EXPECT_EQ(c->server.io_threads, 3);
}

TEST(ServeConfigTest, Ipv6Listen) {
  auto c = Parse({"--listen", "[::1]:0"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->server.address, "::1");
  EXPECT_EQ(c->server.port, 0);
}

TEST(ServeConfigTest, EnvironmentAndFlagPrecedence) {
  Env env{{{"TOKEN_SERVICE_DATA_DIR", "/env"}, {"TOKEN_SERVICE_CLOCK_SKEW", "5"}}};
  auto c = Parse({"--data-dir", "/flag"}, env);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->data_dir, "/flag");
  EXPECT_EQ(c->clock_skew_seconds, 5);
}

TEST(ServeConfigTest, UnknownAndBadValuesNameTheOption) {
  auto unknown = Parse({"--colour", "red"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("--colour"), std::string::npos);
  auto bad = Parse({"--threads", "many"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("--threads"), std::string::npos);
  EXPECT_FALSE(Parse({"--listen", "nowhere"}).ok());
  EXPECT_FALSE(Parse({"--listen", "h:70000"}).ok());
  EXPECT_FALSE(Parse({"--sqlite-synchronous", "OFF"}).ok());
  EXPECT_FALSE(Parse({"--max-body-bytes"}).ok());
  EXPECT_FALSE(Parse({"--dev=1"}).ok());
  EXPECT_FALSE(Parse({"stray"}).ok());
  Env env{{{"TOKEN_SERVICE_BOGUS", "1"}}};
  auto bogus = Parse({}, env);
  ASSERT_FALSE(bogus.ok());
  EXPECT_NE(bogus.error().message.find("TOKEN_SERVICE_BOGUS"), std::string::npos);
}

TEST(ServeConfigTest, OnlyOneJwtKeySource) {
  EXPECT_FALSE(Parse({"--jwt-secret-file", "a", "--jwt-public-key-file", "b"}).ok());
  Env env{{{"TOKEN_SERVICE_JWT_SECRET", "s"}}};
  auto c = Parse({}, env);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->jwt_secret, "s");
  EXPECT_FALSE(Parse({"--jwt-secret-file", "a"}, env).ok());
}

TEST(ServeConfigTest, UsageListsEveryOption) {
  std::string usage = ServeUsage();
  for (const char* flag : {"--listen", "--data-dir", "--port-file", "--jwt-secret-file",
                           "--jwt-public-key-file", "--jwt-issuer", "--jwt-audience",
                           "--clock-skew", "--master-key-file", "--dev", "--threads",
                           "--max-body-bytes", "--max-url-bytes", "--max-header-bytes",
                           "--sqlite-synchronous", "--audit-log", "--log-level"}) {
    EXPECT_NE(usage.find(flag), std::string::npos) << flag;
  }
}

// Every option has a row in the table of docs/configuration.md that names its flag, its
// variable and its configuration file key (the name without dashes; --config has none).
TEST(ServeConfigTest, ConfigurationDocumentListsEveryOption) {
  std::ifstream in(std::string(TS_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in.good());
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| `--", 0) == 0) rows.push_back(line);
  }
  ASSERT_FALSE(rows.empty());
  for (const std::string& flag : ServeOptionFlags()) {
    const std::string name = flag.substr(2);
    std::string variable = "TOKEN_SERVICE_";
    for (char c : name) variable += c == '-' ? '_' : static_cast<char>(std::toupper(c));
    const std::string file_key = name == "config" ? "| — |" : "| `" + name + "` |";
    bool documented = false;
    for (const std::string& row : rows) {
      const bool flag_cell =
          row.rfind("| `" + flag + "`", 0) == 0 || row.rfind("| `" + flag + " ", 0) == 0;
      documented =
          documented || (flag_cell && row.find("`" + variable + "`") != std::string::npos &&
                         row.find(file_key) != std::string::npos);
    }
    EXPECT_TRUE(documented) << flag << " has no row in docs/configuration.md with its variable "
                            << variable << " and its file key " << file_key;
  }
}

// A configuration file in a fresh temporary directory, removed with it.
class ConfigFile {
 public:
  explicit ConfigFile(const std::string& text,
                      std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                                     std::filesystem::perms::owner_write) {
    std::string pattern = (std::filesystem::temp_directory_path() / "ts-config-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    path_ = (dir_ / "token-service.json").string();
    std::ofstream(path_) << text;
    std::filesystem::permissions(path_, perms);
  }
  ~ConfigFile() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }

 private:
  std::filesystem::path dir_;
  std::string path_;
};

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ConfigFileTest, FileThenEnvironmentThenFlagsForTheSameOption) {
  ConfigFile file(R"({"data-dir": "/file", "clock-skew": 7, "threads": "2", "dev": true,
                      "listen": "0.0.0.0:9001"})");
  Env env{{{"TOKEN_SERVICE_DATA_DIR", "/env"},
           {"TOKEN_SERVICE_CLOCK_SKEW", "5"},
           {"TOKEN_SERVICE_DEV", "false"}}};
  auto c = Parse({"--config", file.path(), "--data-dir", "/flag"}, env);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->data_dir, "/flag");      // file < environment < flag
  EXPECT_EQ(c->clock_skew_seconds, 5);  // file < environment
  EXPECT_EQ(c->server.io_threads, 2);   // file only (a number as a string)
  EXPECT_FALSE(c->dev);                 // the environment switches the file's true off
  EXPECT_EQ(c->server.port, 9001);
  EXPECT_EQ(c->config_file, file.path());

  // The same file through TOKEN_SERVICE_CONFIG; a flag switches dev back on.
  Env by_env{{{"TOKEN_SERVICE_CONFIG", file.path()}}};
  auto e = Parse({"--dev"}, by_env);
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->data_dir, "/file");
  EXPECT_EQ(e->clock_skew_seconds, 7);
  EXPECT_TRUE(e->dev);
}

TEST(ConfigFileTest, TheConfigFlagWinsOverTheVariable) {
  ConfigFile env_file(R"({"data-dir": "/from-env-file"})");
  ConfigFile flag_file(R"({"data-dir": "/from-flag-file"})");
  Env env{{{"TOKEN_SERVICE_CONFIG", env_file.path()}}};
  auto c = Parse({"--config=" + flag_file.path()}, env);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->data_dir, "/from-flag-file");
}

TEST(ConfigFileTest, CommentsTrailingCommasAndJsonNumbers) {
  ConfigFile file(R"(// token-service, production
{
  /* where clients connect */
  "listen": "127.0.0.1:8443",
  "database-pool-size": 24,      // one per handler thread
  "max-body-bytes": "65536",
  "sqlite-synchronous": "NORMAL",
  "allow-core-dumps": false,
})");
  auto c = Parse({"--config", file.path()});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->server.port, 8443);
  EXPECT_EQ(c->database_pool_size, 24);
  EXPECT_EQ(c->server.max_body_bytes, 65536u);
  EXPECT_EQ(c->sqlite_synchronous, "NORMAL");
  EXPECT_FALSE(c->allow_core_dumps);
}

TEST(ConfigFileTest, UnknownKeyNamesTheFileTheKeyAndTheAllowedKeys) {
  ConfigFile file(R"({"listen": "127.0.0.1:1", "colour": "red"})");
  auto c = Parse({"--config", file.path()});
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(Has(c.error().message, file.path())) << c.error().message;
  EXPECT_TRUE(Has(c.error().message, "unknown key \"colour\"")) << c.error().message;
  EXPECT_TRUE(Has(c.error().message, "database-pool-size")) << c.error().message;
  // --config is not a key of the file itself.
  ConfigFile nested(R"({"config": "/other.json"})");
  EXPECT_FALSE(Parse({"--config", nested.path()}).ok());
}

TEST(ConfigFileTest, WrongTypesNameTheKeyAndTheExpectedType) {
  struct Case {
    const char* text;
    const char* key;
    const char* expected;
  };
  for (const Case& t : {Case{R"({"listen": 8080})", "listen", "expected a string"},
                        Case{R"({"dev": "yes"})", "dev", "true or false"},
                        Case{R"({"dev": 1})", "dev", "true or false"},
                        Case{R"({"threads": 1.5})", "threads", "whole number"},
                        Case{R"({"threads": [1]})", "threads", "whole number"},
                        Case{R"({"data-dir": null})", "data-dir", "expected a string"},
                        Case{R"({"log-level": {"x": 1}})", "log-level", "expected a string"}}) {
    ConfigFile file(t.text);
    auto c = Parse({"--config", file.path()});
    ASSERT_FALSE(c.ok()) << t.text;
    EXPECT_TRUE(Has(c.error().message, file.path())) << c.error().message;
    EXPECT_TRUE(Has(c.error().message, std::string("key \"") + t.key + "\"")) << c.error().message;
    EXPECT_TRUE(Has(c.error().message, t.expected)) << c.error().message;
  }
}

TEST(ConfigFileTest, BadValuesAreRefusedByTheSameValidationAsFlags) {
  for (const char* text : {R"({"threads": 9999})", R"({"threads": "many"})",
                           R"({"listen": "nowhere"})", R"({"sqlite-synchronous": "OFF"})",
                           R"({"log-level": "loud"})", R"({"database-pool-size": 0})"}) {
    ConfigFile file(text);
    auto c = Parse({"--config", file.path()});
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_TRUE(Has(c.error().message, file.path())) << c.error().message;
    EXPECT_TRUE(Has(c.error().message, "expected")) << c.error().message;
  }
  ConfigFile threads(R"({"threads": 9999})");
  EXPECT_TRUE(Has(Parse({"--config", threads.path()}).error().message, "from 0 to 256"));
}

TEST(ConfigFileTest, DatabaseUrlIsNeverQuotedAndItsPasswordNeedsAPrivateFile) {
  ConfigFile bad(R"({"database-url": "mysql://app:hunter2@db/tokens"})");
  auto c = Parse({"--config", bad.path()});
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(Has(c.error().message, "database-url")) << c.error().message;
  EXPECT_FALSE(Has(c.error().message, "hunter2")) << c.error().message;

  const std::string with_password = R"({"database-url": "postgresql://app:hunter2@db/tokens"})";
  ConfigFile readable(with_password,
                      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                          std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  auto refused = Parse({"--config", readable.path()});
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Has(refused.error().message, "chmod 600")) << refused.error().message;
  EXPECT_FALSE(Has(refused.error().message, "hunter2")) << refused.error().message;

  ConfigFile private_file(with_password);
  auto accepted = Parse({"--config", private_file.path()});
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_EQ(accepted->database_url, "postgresql://app:hunter2@db/tokens");
  // Without a password (libpq passfile), a readable file is fine.
  ConfigFile no_password(R"({"database-url": "postgresql://app@db/tokens"})",
                         std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                             std::filesystem::perms::others_read);
  EXPECT_TRUE(Parse({"--config", no_password.path()}).ok());
}

TEST(ConfigFileTest, TheJwtSecretItselfIsNotAcceptedInAFile) {
  ConfigFile file(R"({"jwt-secret": "0123456789abcdef0123456789abcdef"})");
  auto c = Parse({"--config", file.path()});
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(Has(c.error().message, "jwt-secret-file")) << c.error().message;
  EXPECT_FALSE(Has(c.error().message, "0123456789abcdef")) << c.error().message;
}

TEST(ConfigFileTest, UnreadableOrMalformedFilesNameTheFile) {
  auto missing = Parse({"--config", "/nonexistent/token-service.json"});
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(Has(missing.error().message, "/nonexistent/token-service.json"));
  ConfigFile broken("{\n  \"listen\": \"127.0.0.1:1\"\n  \"threads\": 2\n}");
  auto syntax = Parse({"--config", broken.path()});
  ASSERT_FALSE(syntax.ok());
  EXPECT_TRUE(Has(syntax.error().message, broken.path())) << syntax.error().message;
  EXPECT_TRUE(Has(syntax.error().message, "line 3")) << syntax.error().message;
  ConfigFile array(R"(["listen", "127.0.0.1:1"])");
  auto not_object = Parse({"--config", array.path()});
  ASSERT_FALSE(not_object.ok());
  EXPECT_TRUE(Has(not_object.error().message, "JSON object")) << not_object.error().message;
  EXPECT_FALSE(Parse({"--config"}).ok());
}

TEST(ConfigFileTest, CheckShowsEffectiveValuesTheirSourcesAndRedactsSecrets) {
  ConfigFile file(
      R"({"listen": "127.0.0.1:9100", "database-url": "postgresql://app:hunter2@db/t"})");
  Env env{{{"TOKEN_SERVICE_THREADS", "3"}, {"TOKEN_SERVICE_JWT_SECRET", "s3cret-from-env"}}};
  auto checked = CheckServeConfig(file.path(), env.Lookup(), env.Names());
  ASSERT_TRUE(checked.ok()) << checked.error().message;
  std::map<std::string, EffectiveOption> by_name;
  for (const EffectiveOption& o : *checked) {
    by_name[o.name] = o;
    EXPECT_FALSE(Has(o.value, "hunter2")) << o.name;
    EXPECT_FALSE(Has(o.value, "s3cret")) << o.name;
  }
  EXPECT_EQ(by_name["listen"].value, "127.0.0.1:9100");
  EXPECT_EQ(by_name["listen"].source, "file");
  EXPECT_EQ(by_name["threads"].value, "3");
  EXPECT_EQ(by_name["threads"].source, "environment");
  EXPECT_EQ(by_name["database-url"].value, "postgresql://app:***@db/t");
  EXPECT_EQ(by_name["data-dir"].source, "default");
  EXPECT_EQ(by_name["jwt-secret"].source, "environment");
  // Every option of serve is listed.
  for (const std::string& flag : ServeOptionFlags()) {
    EXPECT_EQ(by_name.count(flag.substr(2)), 1u) << flag;
  }
  Env bogus{{{"TOKEN_SERVICE_BOGUS", "1"}}};
  EXPECT_FALSE(CheckServeConfig(file.path(), bogus.Lookup(), bogus.Names()).ok());
}

TEST(KeysConfigTest, ReadsTheStoreAndKeyOptionsOfServesConfigFile) {
  ConfigFile file(R"({"listen": "127.0.0.1:1", "data-dir": "/file-data",
                      "master-key-file": "/file.keys"})");
  Env env{{{"TOKEN_SERVICE_CONFIG", file.path()}}};
  auto c = ParseKeysConfig("status", {}, env.Lookup());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->data_dir, "/file-data");
  EXPECT_EQ(c->master_key_file, "/file.keys");
  auto flag =
      ParseKeysConfig("status", {"--config", file.path(), "--data-dir", "/d"}, Env{}.Lookup());
  ASSERT_TRUE(flag.ok()) << flag.error().message;
  EXPECT_EQ(flag->data_dir, "/d");
  EXPECT_EQ(flag->master_key_file, "/file.keys");
}

TEST(KeysConfigTest, SharesStoreOptionsAndEnvironmentWithServe) {
  Env env{{{"TOKEN_SERVICE_DATA_DIR", "/env-data"},
           {"TOKEN_SERVICE_MASTER_KEY_FILE", "/env.keys"},
           {"TOKEN_SERVICE_LISTEN", "0.0.0.0:1"},  // serve's own: ignored here
           {"TOKEN_SERVICE_SQLITE_SYNCHRONOUS", "NORMAL"}}};
  auto c = ParseKeysConfig("status", {}, env.Lookup());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->command, "status");
  EXPECT_EQ(c->data_dir, "/env-data");
  EXPECT_EQ(c->master_key_file, "/env.keys");
  EXPECT_EQ(c->sqlite_synchronous, "NORMAL");
  auto flags =
      ParseKeysConfig("rotate", {"--data-dir=/d", "--master-key-file", "/k"}, env.Lookup());
  ASSERT_TRUE(flags.ok()) << flags.error().message;
  EXPECT_EQ(flags->data_dir, "/d");
  EXPECT_EQ(flags->master_key_file, "/k");
  EXPECT_FALSE(flags->resume);
  EXPECT_EQ(flags->batch_size, 500);
  EXPECT_EQ(flags->settle_seconds, 10);
}

TEST(KeysConfigTest, DatabaseUrlSelectsPostgreSqlLikeServe) {
  Env env{{{"TOKEN_SERVICE_DATABASE_URL", "postgresql://u:pw@db/tokens"}}};
  auto c = ParseKeysConfig("status", {"--master-key-file", "k"}, env.Lookup());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->database_url, "postgresql://u:pw@db/tokens");
  EXPECT_EQ(c->database_timeout_ms, 10000);
  auto flag = ParseKeysConfig(
      "rotate",
      {"--master-key-file", "k", "--database-url", "postgres://x/y", "--database-timeout-ms=500"},
      Env{}.Lookup());
  ASSERT_TRUE(flag.ok()) << flag.error().message;
  EXPECT_EQ(flag->database_url, "postgres://x/y");
  EXPECT_EQ(flag->database_timeout_ms, 500);
  // The same validation as serve's option.
  auto bad = ParseKeysConfig("status", {"--master-key-file", "k", "--database-url", "mysql://x"},
                             Env{}.Lookup());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("database-url"), std::string::npos);
}

TEST(KeysConfigTest, CommandOptions) {
  auto rotate = ParseKeysConfig(
      "rotate", {"--master-key-file", "k", "--resume", "--batch-size", "50", "--settle-seconds=0"},
      Env{}.Lookup());
  ASSERT_TRUE(rotate.ok()) << rotate.error().message;
  EXPECT_TRUE(rotate->resume);
  EXPECT_EQ(rotate->batch_size, 50);
  EXPECT_EQ(rotate->settle_seconds, 0);
  auto retire = ParseKeysConfig("retire", {"--master-key-file", "k", "--key-id", "4294967295"},
                                Env{}.Lookup());
  ASSERT_TRUE(retire.ok()) << retire.error().message;
  EXPECT_EQ(retire->key_id, 4294967295u);
}

TEST(KeysConfigTest, MistakesNameTheProblem) {
  auto no_file = ParseKeysConfig("rotate", {}, Env{}.Lookup());
  ASSERT_FALSE(no_file.ok());
  EXPECT_NE(no_file.error().message.find("--master-key-file"), std::string::npos);
  auto no_id = ParseKeysConfig("retire", {"--master-key-file", "k"}, Env{}.Lookup());
  ASSERT_FALSE(no_id.ok());
  EXPECT_NE(no_id.error().message.find("--key-id"), std::string::npos);
  EXPECT_FALSE(
      ParseKeysConfig("retire", {"--master-key-file", "k", "--key-id", "0"}, Env{}.Lookup()).ok());
  // Options of other commands, or of serve only, are refused.
  EXPECT_FALSE(
      ParseKeysConfig("status", {"--master-key-file", "k", "--resume"}, Env{}.Lookup()).ok());
  EXPECT_FALSE(
      ParseKeysConfig("rotate", {"--master-key-file", "k", "--key-id", "1"}, Env{}.Lookup()).ok());
  EXPECT_FALSE(
      ParseKeysConfig("rotate", {"--master-key-file", "k", "--listen", "h:1"}, Env{}.Lookup())
          .ok());
  EXPECT_FALSE(
      ParseKeysConfig("rotate", {"--master-key-file", "k", "--resume=yes"}, Env{}.Lookup()).ok());
  EXPECT_FALSE(
      ParseKeysConfig("rotate", {"--master-key-file", "k", "--batch-size", "0"}, Env{}.Lookup())
          .ok());
  EXPECT_FALSE(ParseKeysConfig("rotate", {"--master-key-file", "k", "--sqlite-synchronous", "OFF"},
                               Env{}.Lookup())
                   .ok());
  EXPECT_FALSE(ParseKeysConfig("spin", {"--master-key-file", "k"}, Env{}.Lookup()).ok());
  EXPECT_FALSE(ParseKeysConfig("status", {"k"}, Env{}.Lookup()).ok());
  Env bad{{{"TOKEN_SERVICE_SQLITE_SYNCHRONOUS", "OFF"}}};
  auto env_error = ParseKeysConfig("status", {"--master-key-file", "k"}, bad.Lookup());
  ASSERT_FALSE(env_error.ok());
  EXPECT_NE(env_error.error().message.find("TOKEN_SERVICE_SQLITE_SYNCHRONOUS"), std::string::npos);
}

TEST(KeysConfigTest, UsageNamesEveryCommandAndOption) {
  const std::string usage = KeysUsage();
  for (const char* text : {"keys init", "keys status", "keys rotate", "keys retire", "--resume",
                           "--batch-size", "--settle-seconds", "--key-id", "--data-dir",
                           "--sqlite-synchronous", "--master-key-file"}) {
    EXPECT_NE(usage.find(text), std::string::npos) << text;
  }
}

TEST(DurationTest, Units) {
  EXPECT_EQ(ParseDuration("90"), 90);
  EXPECT_EQ(ParseDuration("45s"), 45);
  EXPECT_EQ(ParseDuration("30m"), 1800);
  EXPECT_EQ(ParseDuration("1h"), 3600);
  EXPECT_EQ(ParseDuration("2d"), 172800);
  EXPECT_FALSE(ParseDuration("").has_value());
  EXPECT_FALSE(ParseDuration("h").has_value());
  EXPECT_FALSE(ParseDuration("-1h").has_value());
  EXPECT_FALSE(ParseDuration("1x").has_value());
}

}  // namespace
}  // namespace ts::config
