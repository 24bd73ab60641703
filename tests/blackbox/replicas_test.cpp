// Many writers: three service processes on one PostgreSQL database, driven concurrently, as
// replicas behind a load balancer would be. The contract's write rules must hold across
// processes because they are enforced by the database (conditional UPDATE, primary key), not by
// anything inside one process. PostgreSQL only (SQLite is one process's file).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cstdint>
#include <filesystem>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "auth/token_verifier.h"
#include "blackbox/contract_fixture.h"
#include "blackbox/harness.h"
#include "blackbox/http_client.h"
#include "support/pg_test_server.h"

namespace bb {
namespace {
namespace json = boost::json;


constexpr int kReplicas = 3;

class ReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(database_.url().empty()) << database_.error();
    for (int i = 0; i < kReplicas; ++i) {
      ServerConfig config;
      config.backend = PostgresBackend();
      config.database_url = database_.url();
      config.replica_of = replicas_.empty() ? nullptr : replicas_.front().get();
      std::string error;
      auto server = ServerProcess::Start(config, &error);
      ASSERT_NE(server, nullptr) << "replica " << i << ": " << error;
      replicas_.push_back(std::move(server));
    }
    tenant_ = "rep" + RandomHex(6);
    auth_ = "Bearer " + MintToken(replicas_.front()->jwt_secret(), tenant_, kBothScopes);
  }

  void TearDown() override {
    for (auto& replica : replicas_) {
      std::string status;
      EXPECT_TRUE(replica->Running(&status)) << "a replica died: " << status << "\n"
                                             << replica->StderrTail();
      EXPECT_EQ(replica->Stop(), 0) << replica->StderrTail();
    }
    replicas_.clear();  // before the database is dropped
  }

  std::string Item(const std::string& id) const {
    return "/ai-service/" + tenant_ + "/agentic/tokens/" + id;
  }

  // One exchange with replica `index % kReplicas`; status 0 if there was no response.
  HttpResponse Call(int index, const std::string& method, const std::string& target,
                    const std::optional<std::string>& body = std::nullopt,
                    const std::string& content_type = "application/json") {
    HttpRequest request{method, target, {{"Authorization", auth_}}, body};
    if (body) request.headers.emplace_back("Content-Type", content_type);
    ClientOptions options;
    options.timeout = std::chrono::seconds(60);
    ExchangeResult r =
        Send(replicas_[static_cast<std::size_t>(index % kReplicas)]->port(), request, options);
    if (!r.ok) return HttpResponse{};
    return r.response;
  }

  json::value ReadToken(int index, const std::string& id) {
    HttpResponse r = Call(index, "GET", Item(id));
    EXPECT_EQ(r.status, 200) << r.Dump();
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    return ec ? json::value() : v;
  }

  static std::string Body(const json::object& object) { return json::serialize(object); }

  ts::pgtest::ScopedTestDatabase database_;  // declared first: dropped after the replicas stop
  std::vector<std::unique_ptr<ServerProcess>> replicas_;
  std::string tenant_;
  std::string auth_;
};

// Runs `count` calls of `body(i)` on `threads` threads, all released at once.
template <typename Fn>
void Concurrently(int count, Fn&& body) {
  std::latch start(count);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      body(i);
    });
  }
  for (auto& thread : threads) thread.join();
}

TEST_F(ReplicasTest, ThirtyPutsOfOneVersionOverThreeReplicasHaveExactlyOneWinner) {
  ASSERT_EQ(
      Call(0, "PUT", Item("contended"), Body({{"name", "start"}, {"value", "sv-" + RandomHex(8)}}))
          .status,
      201);
  std::mutex mu;
  std::map<int, int> statuses;
  std::vector<int> winners;
  Concurrently(30, [&](int i) {
    HttpResponse r =
        Call(i, "PUT", Item("contended"),
             Body({{"name", Named("writer-", i)}, {"metadata", json::object{{"version", 1}}}}));
    std::lock_guard lock(mu);
    ++statuses[r.status];
    if (r.status == 204) winners.push_back(i);
  });
  EXPECT_EQ(statuses[204], 1) << "exactly one write may win version 1";
  EXPECT_EQ(statuses[409], 29);
  EXPECT_EQ(statuses.size(), 2u) << "only 204 and 409 are expected";
  ASSERT_EQ(winners.size(), 1u);
  for (int replica = 0; replica < kReplicas; ++replica) {
    json::value token = ReadToken(replica, "contended");
    EXPECT_EQ(Int(At(token, "metadata.version")), 2);
    EXPECT_EQ(Str(At(token, "name")), Named("writer-", winners.front()));
  }
}

TEST_F(ReplicasTest, HundredPatchesOverThreeReplicasEachCountExactlyOnce) {
  ASSERT_EQ(
      Call(0, "PUT", Item("patched"), Body({{"name", "p-start"}, {"value", "sv-" + RandomHex(8)}}))
          .status,
      201);
  std::atomic<int> ok{0};
  std::atomic<int> conflicts{0};
  std::atomic<int> other{0};
  Concurrently(100, [&](int i) {
    json::array ops{json::object{{"op", "REPLACE"}, {"path", "/name"}, {"value", Named("p-", i)}}};
    HttpResponse r = Call(i, "PATCH", Item("patched"), json::serialize(ops));
    if (r.status == 204) {
      ++ok;
    } else if (r.status == 409) {
      ++conflicts;  // prepared against version N, found N+1 at commit
    } else {
      ++other;
      ADD_FAILURE() << "PATCH answered " << r.status << ": " << r.Dump();
    }
  });
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ok.load() + conflicts.load(), 100);
  EXPECT_GE(ok.load(), 1);
  for (int replica = 0; replica < kReplicas; ++replica) {
    json::value token = ReadToken(replica, "patched");
    EXPECT_EQ(Int(At(token, "metadata.version")), 1 + ok.load())
        << "every 204 is one version step, and nothing else is";
  }
}

TEST_F(ReplicasTest, TwoConcurrentCreatesOfOneIdNeverBothAnswer201) {
  for (int round = 0; round < 25; ++round) {
    const std::string id = Named("race-", round);
    const std::string value = "sv-" + RandomHex(8);
    std::mutex mu;
    std::vector<int> statuses;
    Concurrently(2, [&](int i) {
      // Two different replicas, the same new id and value (a client retrying a create).
      HttpResponse r =
          Call(round + i, "PUT", Item(id), Body({{"name", Named("n", i)}, {"value", value}}));
      std::lock_guard lock(mu);
      statuses.push_back(r.status);
    });
    ASSERT_EQ(statuses.size(), 2u);
    const int created = static_cast<int>(std::count(statuses.begin(), statuses.end(), 201));
    EXPECT_EQ(created, 1) << "round " << round << ": " << statuses[0] << ", " << statuses[1];
    for (int status : statuses) {
      // The loser either saw the token and updated it with the same value (204), or lost the
      // race on the primary key (409).
      EXPECT_TRUE(status == 201 || status == 204 || status == 409) << status;
    }
    const std::int64_t version = Int(At(ReadToken(round, id), "metadata.version"));
    const bool updated = std::count(statuses.begin(), statuses.end(), 204) == 1;
    EXPECT_EQ(version, updated ? 2 : 1);
  }
}

TEST_F(ReplicasTest, WritesToDifferentTokensNeverInterfere) {
  // Six workers, two per replica, each with its own tokens: create, rename (with the version),
  // patch, and delete every third. No request may fail, and the end state is exactly the
  // sum of the scripts.
  constexpr int kWorkers = 6;
  constexpr int kTokensEach = 8;
  std::atomic<int> unexpected{0};
  std::mutex mu;
  std::vector<std::string> failures;
  auto expect = [&](const HttpResponse& r, int status, const std::string& what) {
    if (r.status == status) return;
    ++unexpected;
    std::lock_guard lock(mu);
    failures.push_back(what + Named(": ", r.status) + " " + r.body.substr(0, 200));
  };
  Concurrently(kWorkers, [&](int w) {
    for (int k = 0; k < kTokensEach; ++k) {
      const std::string id = Named(Named("w", w) + "-", k);
      const int replica = w + k;  // rotate over the replicas
      expect(Call(replica, "PUT", Item(id), Body({{"name", id}, {"value", "sv-" + id}})), 201,
             "create " + id);
      expect(Call(replica + 1, "PUT", Item(id),
                  Body({{"name", id + "-renamed"}, {"metadata", json::object{{"version", 1}}}})),
             204, "rename " + id);
      json::array ops{
          json::object{{"op", "REPLACE"}, {"path", "/name"}, {"value", id + "-patched"}}};
      expect(Call(replica + 2, "PATCH", Item(id), json::serialize(ops)), 204, "patch " + id);
      if (k % 3 == 0) expect(Call(replica, "DELETE", Item(id)), 204, "delete " + id);
    }
  });
  EXPECT_EQ(unexpected.load(), 0) << ::testing::PrintToString(failures);

  for (int replica = 0; replica < kReplicas; ++replica) {
    HttpResponse r =
        Call(replica, "GET", "/ai-service/" + tenant_ + "/agentic/tokens?pageSize=1000");
    ASSERT_EQ(r.status, 200) << r.Dump();
    json::array tokens = json::parse(r.body).as_array();
    std::map<std::string, std::pair<std::string, std::int64_t>> seen;
    for (const json::value& token : tokens) {
      seen[Str(At(token, "id"))] = {Str(At(token, "name")), Int(At(token, "metadata.version"))};
    }
    std::map<std::string, std::pair<std::string, std::int64_t>> expected;
    for (int w = 0; w < kWorkers; ++w) {
      for (int k = 0; k < kTokensEach; ++k) {
        if (k % 3 == 0) continue;
        const std::string id = Named(Named("w", w) + "-", k);
        expected[id] = {id + "-patched", 3};
      }
    }
    EXPECT_EQ(seen, expected) << "replica " << replica;
  }
}

// The key runbook on PostgreSQL: `keys rotate` against the shared database while the three
// replicas serve, the new key file handed to the others, then status and retire.
// Issue 5's race across processes: a forced token delete on one replica while other replicas
// rewrite the MCP servers that reference the token (read, then PUT with metadata.version).
// Afterwards nothing references the deleted token, every PUT that answered 204 is reflected
// (its name is the server's, or a later 204's), and the versions add up: 1, plus one per 204,
// plus one for the reference the delete removed (every server referenced the token then).
TEST_F(ReplicasTest, ForcedTokenDeleteRacingMcpServerUpdatesOnOtherReplicas) {
  const std::string servers = "/ai-service/" + tenant_ + "/agentic/mcp-servers/";
  auto server_body = [](const std::string& name, std::optional<std::int64_t> version) {
    json::object body{
        {"name", name},
        {"transport", "sse"},
        {"config", json::object{{"url", "https://mcp.example.com/"},
                                {"authorizationHeaderToken", json::object{{"id", "tok"}}}}}};
    if (version) body["metadata"] = json::object{{"version", *version}};
    return json::serialize(body);
  };
  constexpr int kServers = 4;
  constexpr int kWriters = 12;
  ASSERT_EQ(
      Call(0, "PUT", Item("tok"), Body({{"name", "n"}, {"value", "sv-" + RandomHex(8)}})).status,
      201);
  for (int s = 0; s < kServers; ++s) {
    ASSERT_EQ(Call(0, "PUT", servers + Named("s", s), server_body("start", std::nullopt)).status,
              201);
  }
  std::mutex mu;
  std::map<int, int> statuses;
  std::map<int, std::vector<std::string>> written;  // server -> names of PUTs that got 204
  int delete_status = 0;
  Concurrently(kWriters + 1, [&](int i) {
    if (i == kWriters) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      HttpResponse r = Call(0, "DELETE", Item("tok") + "?force=true");
      std::lock_guard lock(mu);
      delete_status = r.status;
      return;
    }
    const int s = i % kServers;
    const std::string item = servers + Named("s", s);
    HttpResponse read = Call(1 + i, "GET", item);
    if (read.status != 200) {
      std::lock_guard lock(mu);
      ++statuses[read.status];
      return;
    }
    const std::int64_t version = Int(At(json::parse(read.body), "metadata.version"));
    const std::string name = Named("writer-", i);
    HttpResponse r = Call(2 + i, "PUT", item, server_body(name, version));
    std::lock_guard lock(mu);
    ++statuses[r.status];
    if (r.status == 204) written[s].push_back(name);
  });
  EXPECT_EQ(delete_status, 204);
  for (const auto& [status, count] : statuses) {
    EXPECT_TRUE(status == 204 || status == 409 || status == 400)
        << count << " answers of status " << status;
  }
  EXPECT_EQ(Call(1, "GET", Item("tok")).status, 404);
  for (int s = 0; s < kServers; ++s) {
    HttpResponse r = Call(2, "GET", servers + Named("s", s));
    ASSERT_EQ(r.status, 200) << r.Dump();
    json::value server = json::parse(r.body);
    EXPECT_TRUE(At(server, "config.authorizationHeaderToken").is_null())
        << "s" << s << " references the deleted token: " << r.body;
    const std::vector<std::string>& names = written[s];
    const std::string name = Str(At(server, "name"));
    if (names.empty()) {
      EXPECT_EQ(name, "start");
    } else {
      EXPECT_NE(std::find(names.begin(), names.end(), name), names.end())
          << "s" << s << " lost its successful updates: " << name;
    }
    EXPECT_EQ(Int(At(server, "metadata.version")), 1 + static_cast<std::int64_t>(names.size()) + 1)
        << "s" << s;
  }
}

TEST_F(ReplicasTest, KeysRotateStatusAndRetireWorkOnTheSharedDatabase) {
  constexpr int kTokens = 12;
  std::vector<std::string> values;
  for (int i = 0; i < kTokens; ++i) {
    values.push_back("sv-rot-" + RandomHex(10));
    ASSERT_EQ(Call(i, "PUT", Item(Named("rot-", i)),
                   Body({{"name", Named("name-", i)}, {"value", values.back()}}))
                  .status,
              201);
  }
  const std::filesystem::path key_file = replicas_.front()->key_file();
  const std::map<std::string, std::string> env = {
      {"TOKEN_SERVICE_DATABASE_URL", database_.url()}};
  auto keys = [&](const std::string& command, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"keys", command, "--master-key-file", key_file.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunBinary(args, replicas_.front()->dir(), std::chrono::seconds(60), env);
  };

  CommandResult before = keys("status");
  EXPECT_EQ(before.exit_code, 0) << before.out << before.err;
  EXPECT_NE(before.out.find("key id 1 (active): 12 value(s), and the key check\n"),
            std::string::npos)
      << before.out;

  CommandResult rotated = keys("rotate", {"--settle-seconds", "0"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.out << rotated.err;
  EXPECT_NE(rotated.out.find("re-wrapped 12 stored value(s) under master key id 2"),
            std::string::npos)
      << rotated.out;
  // Hints for the next step never print the URL (it holds a password).
  EXPECT_EQ(rotated.out.find(database_.url()), std::string::npos) << rotated.out;
  EXPECT_EQ(rotated.err.find(database_.url()), std::string::npos) << rotated.err;
  for (std::size_t r = 1; r < replicas_.size(); ++r) {
    std::filesystem::copy_file(key_file, replicas_[r]->key_file(),
                               std::filesystem::copy_options::overwrite_existing);
  }

  CommandResult status = keys("status");
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_NE(status.out.find("key id 1: 0 value(s)\n"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("key id 2 (active): 12 value(s), and the key check\n"),
            std::string::npos)
      << status.out;
  CommandResult retired = keys("retire", {"--key-id", "1", "--settle-seconds", "0"});
  ASSERT_EQ(retired.exit_code, 0) << retired.out << retired.err;
  EXPECT_EQ(ReadFile(key_file).find("tsk1 1 "), std::string::npos) << "key 1 is still there";
  for (std::size_t r = 1; r < replicas_.size(); ++r) {
    std::filesystem::copy_file(key_file, replicas_[r]->key_file(),
                               std::filesystem::copy_options::overwrite_existing);
  }

  // Every replica, without a restart, still accepts each token's own value and only that.
  for (int i = 0; i < kTokens; ++i) {
    for (int replica = 0; replica < kReplicas; ++replica) {
      EXPECT_EQ(Call(replica, "PUT", Item(Named("rot-", i)),
                     Body({{"name", Named("name-", i)},
                           {"value", values[static_cast<std::size_t>(i)]}}))
                    .status,
                204)
          << "token " << i << " on replica " << replica;
    }
  }
  for (int replica = 0; replica < kReplicas; ++replica) {
    // A fresh subject per probe: the service slows down callers that repeat mismatches.
    auto bearer = ts::auth::MintHs256Token(replicas_.front()->jwt_secret(), tenant_, kBothScopes,
                                           "prober-" + RandomHex(6), NowSeconds(), 3600);
    ASSERT_TRUE(bearer.ok());
    HttpRequest request{"PUT",
                        Item(Named("rot-", replica)),
                        {{"Authorization", "Bearer " + bearer.value()},
                         {"Content-Type", "application/json"}},
                        Body({{"name", "x"}, {"value", "sv-other-" + RandomHex(8)}})};
    ExchangeResult r = Send(replicas_[static_cast<std::size_t>(replica)]->port(), request);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.response.status, 400) << "replica " << replica << "\n" << r.response.Dump();
  }
}

}  // namespace
}  // namespace bb
