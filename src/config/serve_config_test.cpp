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
