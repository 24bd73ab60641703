#include "config/serve_config.h"

#include <gtest/gtest.h>

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

TEST(ServeConfigTest, ConfigurationDocumentListsEveryOption) {
  std::ifstream in(std::string(TS_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in.good());
  std::stringstream doc;
  doc << in.rdbuf();
  for (const std::string& flag : ServeOptionFlags()) {
    EXPECT_NE(doc.str().find("`" + flag), std::string::npos) << flag << " is not documented";
  }
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
