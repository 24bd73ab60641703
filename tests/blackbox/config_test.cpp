// The configuration file against the real binary (issue 7, point 1): `token-service config check`
// accepts a good file (exit 0, "ok", effective values with their source, secrets redacted) and
// refuses a bad one with a message naming the file and the key (exit 2, as serve would stop);
// `serve --config FILE` takes its listen address, port file, keys and data dir from the file and
// serves.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "blackbox/harness.h"
#include "blackbox/http_client.h"

namespace bb {
namespace {
namespace fs = std::filesystem;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class ConfigCheckTest : public ::testing::Test {
 protected:
  CommandResult Check(const std::string& file_text,
                      const std::map<std::string, std::string>& env = {}) {
    EXPECT_TRUE(WriteFile(file(), file_text));
    return RunBinary({"config", "check", file().string()}, dir_.path(), std::chrono::seconds(30),
                     env);
  }
  fs::path file() const { return dir_.path() / "token-service.json"; }

  TempDir dir_;
};

TEST_F(ConfigCheckTest, AGoodFileIsOkAndShowsEffectiveValuesWithSecretsRedacted) {
  CommandResult r = Check(R"(// a commented configuration
{
  "listen": "127.0.0.1:9911",   // trailing comments and commas are fine
  "database-pool-size": 8,
  "database-url": "postgresql://app:hunter2@db.example:5432/tokens",
})",
                          {{"TOKEN_SERVICE_THREADS", "3"}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("ok", 0), 0u) << r.out;
  EXPECT_TRUE(Contains(r.out, "127.0.0.1:9911  (file)")) << r.out;
  EXPECT_TRUE(Contains(r.out, "8  (file)")) << r.out;
  EXPECT_TRUE(Contains(r.out, "3  (environment)")) << r.out;
  EXPECT_TRUE(Contains(r.out, "postgresql://app:***@db.example:5432/tokens")) << r.out;
  EXPECT_TRUE(Contains(r.out, "(default)")) << r.out;
  EXPECT_FALSE(Contains(r.out + r.err, "hunter2")) << r.out << r.err;
}

TEST_F(ConfigCheckTest, ABadFileNamesTheFileAndKeyAndExitsTwo) {
  CommandResult bad_value = Check(R"({"listen": "127.0.0.1:1", "threads": 1000})");
  EXPECT_EQ(bad_value.exit_code, 2) << bad_value.out << bad_value.err;
  EXPECT_TRUE(Contains(bad_value.err, file().string())) << bad_value.err;
  EXPECT_TRUE(Contains(bad_value.err, "\"threads\"")) << bad_value.err;
  EXPECT_TRUE(Contains(bad_value.err, "from 0 to 256")) << bad_value.err;
  EXPECT_FALSE(Contains(bad_value.out, "ok")) << bad_value.out;

  CommandResult unknown = Check(R"({"listen-address": "127.0.0.1:1"})");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.out << unknown.err;
  EXPECT_TRUE(Contains(unknown.err, "unknown key \"listen-address\"")) << unknown.err;

  CommandResult wrong_type = Check(R"({"dev": "yes"})");
  EXPECT_EQ(wrong_type.exit_code, 2) << wrong_type.err;
  EXPECT_TRUE(Contains(wrong_type.err, "true or false")) << wrong_type.err;

  // The environment is checked as serve would see it.
  CommandResult env = Check(R"({"listen": "127.0.0.1:1"})", {{"TOKEN_SERVICE_BOGUS", "1"}});
  EXPECT_EQ(env.exit_code, 2) << env.err;
  EXPECT_TRUE(Contains(env.err, "TOKEN_SERVICE_BOGUS")) << env.err;

  CommandResult usage = RunBinary({"config", "check"}, dir_.path());
  EXPECT_EQ(usage.exit_code, 2) << usage.err;
  CommandResult help = RunBinary({"--help"}, dir_.path());
  EXPECT_TRUE(Contains(help.out, "config check FILE")) << help.out;
  CommandResult serve_help = RunBinary({"serve", "--help"}, dir_.path());
  EXPECT_TRUE(Contains(serve_help.out, "--config FILE")) << serve_help.out;
}

TEST(ServeConfigFileTest, ServeTakesListenPortFileKeysAndDataDirFromTheFile) {
  ServerConfig config;
  config.options_in_config_file = true;
  std::string error;
  auto server = ServerProcess::Start(config, &error);
  // Start waited for the port file named in the file and for GET /health/ready on it.
  ASSERT_NE(server, nullptr) << "serve --config did not come up: " << error;
  const std::string file = ReadFile(server->config_file());
  EXPECT_TRUE(Contains(file, "\"port-file\"")) << file;
  EXPECT_TRUE(Contains(file, "\"listen\":\"127.0.0.1:0\"")) << file;

  // The bearer-token secret and master key file came from the file too: a write works.
  const std::string tenant = "cfg" + RandomHex(4);
  HttpRequest put{"PUT",
                  "/ai-service/" + tenant + "/agentic/tokens/t1",
                  {},
                  R"({"name":"from config","value":"sk-config-file-test"})"};
  put.headers.emplace_back("Authorization", "Bearer " + MintToken(server->jwt_secret(), tenant,
                                                                  "ai.agent_read ai.agent_manage"));
  put.headers.emplace_back("Content-Type", "application/json");
  ExchangeResult r = Send(server->port(), put);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.response.status, 201) << r.response.Dump();
  EXPECT_TRUE(fs::exists(server->data_dir() / "tokens.db"));
  EXPECT_EQ(server->Stop(), 0) << server->StderrTail();
}

}  // namespace
}  // namespace bb
