// The process around the API: start-up, signals, the CLI's other commands, persistence across
// restarts, values encrypted at rest and absent from every log. Each test runs its own server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cctype>
#include <filesystem>
#include <thread>

#include "blackbox/contract_fixture.h"
#include "blackbox/harness.h"
#include "blackbox/http_client.h"

namespace bb {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;

class LifecycleTest : public ::testing::TestWithParam<Backend> {
 protected:
  std::unique_ptr<ServerProcess> StartServer(ServerConfig config = {}) {
    config.backend = GetParam();
    std::string error;
    std::unique_ptr<ServerProcess> server = ServerProcess::Start(config, &error);
    EXPECT_NE(server, nullptr) << "cannot start token-service: " << error;
    return server;
  }

  // One exchange; the response must not contain any value registered with Secret().
  HttpResponse Request(const ServerProcess& server, const std::string& method,
                       const std::string& target, const std::optional<std::string>& auth,
                       const std::optional<std::string>& body = std::nullopt) {
    HttpRequest request{method, target, {}, body};
    if (auth) request.headers.emplace_back("Authorization", *auth);
    if (body) request.headers.emplace_back("Content-Type", "application/json");
    ExchangeResult r = Send(server.port(), request);
    EXPECT_TRUE(r.ok) << method << " " << target << ": " << r.error;
    const std::string dump = r.response.Dump();
    for (const std::string& secret : secrets_) {
      EXPECT_EQ(dump.find(secret), std::string::npos) << "a value came back:\n" << dump;
    }
    return r.response;
  }

  // A distinctive value that no response may contain.
  std::string Secret(const std::string& prefix = "sv-") {
    secrets_.push_back(prefix + RandomHex(16));
    return secrets_.back();
  }

  static std::string Bearer(const ServerProcess& server, const std::string& tenant,
                            const std::string& scope = kBothScopes) {
    return "Bearer " + MintToken(server.jwt_secret(), tenant, scope);
  }

  static std::string Body(const std::string& name, const std::string& value) {
    return json::serialize(json::object{{"name", name}, {"value", value}});
  }

  // Every file under `root` whose bytes contain `needle`.
  static std::vector<std::string> FilesContaining(const fs::path& root, const std::string& needle) {
    std::vector<std::string> hits;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      if (ReadFile(it->path()).find(needle) != std::string::npos) {
        hits.push_back(it->path().string());
      }
    }
    return hits;
  }

  std::vector<std::string> secrets_;
};

INSTANTIATE_TEST_SUITE_P(Backends, LifecycleTest, ::testing::ValuesIn(Backends()), BackendName());

TEST_P(LifecycleTest, ReadyWithoutAuthentication) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  HttpResponse r = Request(*server, "GET", "/health/ready", std::nullopt);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Cache-Control").value_or("<absent>"), "no-store");
  // The port file holds the port number and a newline.
  EXPECT_EQ(ReadFile(server->port_file()), std::to_string(server->port()) + "\n");
  EXPECT_EQ(server->Stop(), 0);
}

TEST_P(LifecycleTest, SigtermStopsWithExitCodeZero) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const std::string tenant = "life" + RandomHex(4);
  EXPECT_EQ(Request(*server, "PUT", "/ai-service/" + tenant + "/agentic/tokens/x",
                    Bearer(*server, tenant), Body("n", Secret()))
                .status,
            201);
  EXPECT_EQ(server->Stop(SIGTERM), 0) << server->StderrTail();
}

TEST_P(LifecycleTest, SigintStopsWithExitCodeZero) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Request(*server, "GET", "/health/ready", std::nullopt).status, 200);
  EXPECT_EQ(server->Stop(SIGINT), 0) << server->StderrTail();
}

TEST_P(LifecycleTest, SigtermStopsPromptlyWithAnIdleKeepAliveConnectionOpen) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server->port());
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string request =
      "GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  // Wait for the response to start arriving; the connection then sits idle.
  pollfd pfd{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 10000), 1);
  char buffer[4096];
  ASSERT_GT(::recv(fd, buffer, sizeof buffer, 0), 0);
  // The default idle timeout is far longer than this deadline: a graceful stop must close
  // idle connections rather than wait for them.
  EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(20)), 0) << server->StderrTail();
  ::close(fd);
}

TEST_P(LifecycleTest, DevTokenIsAcceptedByTheServer) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const std::string tenant = "dev" + RandomHex(4);
  const std::string base = "/ai-service/" + tenant + "/agentic/tokens";
  auto mint = [&](const std::string& scope) {
    CommandResult r = RunBinary({"dev-token", "--tenant", tenant, "--scope", scope, "--ttl", "1h",
                                 "--jwt-secret-file", server->secret_file().string()},
                                server->dir());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string token = r.out;
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
      token.pop_back();
    }
    EXPECT_FALSE(token.empty());
    EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2) << "a JWT on stdout: " << token;
    return "Bearer " + token;
  };
  const std::string both = mint("ai.agent_read ai.agent_manage");
  EXPECT_EQ(Request(*server, "PUT", base + "/dev", both, Body("dev", Secret())).status, 201);
  EXPECT_EQ(Request(*server, "GET", base + "/dev", both).status, 200);
  const std::string read_only = mint("ai.agent_read");
  EXPECT_EQ(Request(*server, "GET", base, read_only).status, 200);
  EXPECT_EQ(Request(*server, "DELETE", base + "/dev", read_only).status, 403);
  EXPECT_EQ(server->Stop(), 0);
}

TEST_P(LifecycleTest, JwtSecretMayComeFromTheEnvironment) {
  ServerConfig config;
  config.secret_via_env = true;
  auto server = StartServer(config);
  ASSERT_NE(server, nullptr);
  const std::string tenant = "env" + RandomHex(4);
  EXPECT_EQ(
      Request(*server, "GET", "/ai-service/" + tenant + "/agentic/tokens", Bearer(*server, tenant))
          .status,
      200);
  EXPECT_EQ(server->Stop(), 0);
}

TEST_P(LifecycleTest, TokensSurviveARestartAndValuesAreEncryptedAtRest) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const std::string tenant = "rest" + RandomHex(4);
  const std::string base = "/ai-service/" + tenant + "/agentic/tokens";
  const std::string value = Secret("sv-at-rest-");
  ASSERT_EQ(
      Request(*server, "PUT", base + "/kept", Bearer(*server, tenant), Body("kept", value)).status,
      201);
  ASSERT_EQ(Request(*server, "PUT", base + "/kept", Bearer(*server, tenant),
                    std::string(R"({"name":"kept2"})"))
                .status,
            204);
  EXPECT_EQ(FilesContaining(server->dir(), value), std::vector<std::string>{})
      << "plaintext value on disk while running";
  ASSERT_EQ(server->Stop(), 0);
  EXPECT_EQ(FilesContaining(server->dir(), value), std::vector<std::string>{})
      << "plaintext value on disk after stop";

  std::string error;
  ASSERT_TRUE(server->Restart(&error)) << error;
  HttpResponse r = Request(*server, "GET", base + "/kept", Bearer(*server, tenant));
  ASSERT_EQ(r.status, 200) << r.Dump();
  json::value token = json::parse(r.body);
  EXPECT_EQ(Str(At(token, "name")), "kept2");
  EXPECT_EQ(Int(At(token, "metadata.version")), 2);
  // The stored value decrypts to the original: equal is accepted, different is not.
  EXPECT_EQ(
      Request(*server, "PUT", base + "/kept", Bearer(*server, tenant), Body("kept3", value)).status,
      204);
  EXPECT_EQ(
      Request(*server, "PUT", base + "/kept", Bearer(*server, tenant), Body("kept4", Secret()))
          .status,
      400);
  EXPECT_EQ(server->Stop(), 0);
}

// "Never a half-applied write": SIGKILL while writers are busy, restart, and every token is
// in a state some write produced; every acknowledged write survived.
TEST_P(LifecycleTest, KillDuringWritesLeavesOldOrNewStateAndKeepsAcknowledgedWrites) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const std::string tenant = "crash" + RandomHex(4);
  const std::string base = "/ai-service/" + tenant + "/agentic/tokens/";
  const std::string auth = Bearer(*server, tenant);
  constexpr int kTokens = 8;
  std::vector<std::string> values;
  for (int i = 0; i < kTokens; ++i) {
    values.push_back(Secret());
    ASSERT_EQ(
        Request(*server, "PUT", base + "t" + std::to_string(i), auth, Body("gen-0", values.back()))
            .status,
        201);
  }
  struct Progress {
    std::atomic<std::int64_t> acked{1};  // highest version a 204 confirmed
    std::atomic<std::int64_t> sent{1};   // highest version a request could have produced
    std::atomic<int> unexpected{0};
  };
  std::vector<Progress> progress(kTokens);
  std::atomic<int> acked_writes{0};
  const std::uint16_t port = server->port();
  std::vector<std::thread> writers;
  for (int i = 0; i < kTokens; ++i) {
    writers.emplace_back([&, i] {
      ClientOptions options;
      options.timeout = std::chrono::seconds(10);
      for (std::int64_t version = 1;; ++version) {
        // Version v → v+1 names the token "gen-v".
        HttpRequest request{
            "PUT",
            base + "t" + std::to_string(i),
            {{"Authorization", auth}, {"Content-Type", "application/json"}},
            json::serialize(json::object{{"name", "gen-" + std::to_string(version)},
                                         {"metadata", json::object{{"version", version}}}})};
        progress[i].sent = version + 1;
        ExchangeResult r = Send(port, request, options);
        if (!r.ok) return;  // the server was killed
        if (r.response.status != 204) {
          ++progress[i].unexpected;
          return;
        }
        progress[i].acked = version + 1;
        ++acked_writes;
      }
    });
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (acked_writes < 200 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GE(acked_writes, 200) << "writers made too little progress";
  EXPECT_EQ(server->Stop(SIGKILL), 128 + SIGKILL);
  for (std::thread& writer : writers) writer.join();

  std::string error;
  ASSERT_TRUE(server->Restart(&error)) << error;
  for (int i = 0; i < kTokens; ++i) {
    SCOPED_TRACE("token t" + std::to_string(i));
    EXPECT_EQ(progress[i].unexpected, 0);
    HttpResponse r = Request(*server, "GET", base + "t" + std::to_string(i), auth);
    ASSERT_EQ(r.status, 200) << r.Dump();
    json::value token = json::parse(r.body);
    const std::int64_t version = Int(At(token, "metadata.version"));
    EXPECT_GE(version, progress[i].acked.load()) << "an acknowledged write was lost";
    EXPECT_LE(version, progress[i].sent.load());
    EXPECT_EQ(Str(At(token, "name")), "gen-" + std::to_string(version - 1))
        << "name and version come from different writes";
    // The value is intact: the original is still accepted.
    EXPECT_EQ(Request(*server, "PUT", base + "t" + std::to_string(i), auth,
                      Body(Str(At(token, "name")), values[static_cast<std::size_t>(i)]))
                  .status,
              204);
  }
  EXPECT_EQ(server->Stop(), 0);
}

TEST_P(LifecycleTest, ValuesNeverReachLogsAndMismatchesAreAudited) {
  ServerConfig config;
  config.log_level = "debug";
  auto server = StartServer(config);
  ASSERT_NE(server, nullptr);
  const std::string tenant = "audit" + RandomHex(4);
  const std::string id = "audited-" + RandomHex(4);
  const std::string item = "/ai-service/" + tenant + "/agentic/tokens/" + id;
  const std::string auth = Bearer(*server, tenant);
  auto secret = [&] { return Secret("sv-log-"); };
  const std::string stored = secret();
  ASSERT_EQ(Request(*server, "PUT", item, auth, Body("n", stored)).status, 201);
  EXPECT_EQ(Request(*server, "PUT", item, auth, Body("n", secret())).status, 400);
  EXPECT_EQ(Request(*server, "PATCH", item, auth,
                    json::serialize(json::array{
                        json::object{{"op", "REPLACE"}, {"path", "/value"}, {"value", secret()}}}))
                .status,
            400);
  EXPECT_EQ(Request(*server, "PUT", "/ai-service/" + tenant + "/agentic/tokens/long", auth,
                    Body("n", secret() + Repeat("v", 16400)))
                .status,
            400);
  EXPECT_EQ(Request(*server, "PUT", "/ai-service/" + tenant + "/agentic/tokens/broken", auth,
                    R"({"name":"n","value":")" + secret() + R"(")")
                .status,
            400);
  EXPECT_EQ(Request(*server, "PUT", "/ai-service/" + tenant + "/agentic/tokens/unknown", auth,
                    json::serialize(json::object{{"name", "n"}, {"value", secret()}, {"x", 1}}))
                .status,
            400);
  EXPECT_EQ(Request(*server, "PUT", "/ai-service/" + tenant + "/agentic/tokens/denied",
                    Bearer(*server, tenant, kReadScope), Body("n", secret()))
                .status,
            403);
  ASSERT_EQ(server->Stop(), 0);

  const std::string output = server->AllOutput();
  for (const std::string& s : secrets_) {
    EXPECT_EQ(output.find(s), std::string::npos) << "value " << s << " appears in the logs";
  }
  EXPECT_EQ(output.find(server->jwt_secret()), std::string::npos) << "the JWT secret was logged";
  const std::string audit = ReadFile(server->audit_log_file());
  EXPECT_NE(audit.find(id), std::string::npos)
      << "the value mismatch on " << id << " is in the audit log:\n"
      << audit.substr(0, 2000);
}

TEST_P(LifecycleTest, ClockSkewIsConfigurable) {
  ServerConfig config;
  config.extra_args = {"--clock-skew", "5"};
  auto server = StartServer(config);
  ASSERT_NE(server, nullptr);
  const std::string tenant = "skew" + RandomHex(4);
  const std::string base = "/ai-service/" + tenant + "/agentic/tokens";
  // Expired 30 s ago: inside the default 60 s, outside the configured 5 s.
  HttpResponse r =
      Request(*server, "GET", base,
              "Bearer " + MintToken(server->jwt_secret(), tenant, kBothScopes, 3600, -3600 - 30));
  EXPECT_EQ(r.status, 401) << r.Dump();
  EXPECT_NE(r.body.find("Access Token expired"), std::string::npos) << r.body;
  EXPECT_EQ(Request(*server, "GET", base, Bearer(*server, tenant)).status, 200);
  EXPECT_EQ(server->Stop(), 0);
}

TEST(CliTest, HelpMentionsTheCommands) {
  TempDir dir;
  CommandResult r = RunBinary({"--help"}, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("serve"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dev-token"), std::string::npos) << r.out;
}

TEST(CliTest, KeysInitRefusesToOverwriteAnExistingFile) {
  TempDir dir;
  const fs::path keys = dir.path() / "keys";
  CommandResult first = RunBinary({"keys", "init", keys.string()}, dir.path());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string content = ReadFile(keys);
  ASSERT_FALSE(content.empty());
  CommandResult second = RunBinary({"keys", "init", keys.string()}, dir.path());
  EXPECT_NE(second.exit_code, 0) << "keys init overwrote an existing key ring";
  EXPECT_EQ(ReadFile(keys), content);
}

TEST(CliTest, ServeWithoutAMasterKeyFailsFast) {
  TempDir dir;
  WriteFile(dir.path() / "secret", RandomHex(32) + "\n");
  CommandResult r = RunBinary(
      {"serve", "--listen", "127.0.0.1:0", "--data-dir", (dir.path() / "d").string(), "--port-file",
       (dir.path() / "port").string(), "--jwt-secret-file", (dir.path() / "secret").string(),
       "--master-key-file", (dir.path() / "no-such-file").string()},
      dir.path(), std::chrono::seconds(20));
  EXPECT_FALSE(r.timed_out) << "serve must refuse to start, not hang";
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(fs::exists(dir.path() / "port"));
}

}  // namespace
}  // namespace bb
