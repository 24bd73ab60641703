// Faults: PostgreSQL stops under load and comes back. While it is down every request must get an
// answer (503 with the documented error body: no hang, no crash) and /health/ready must say "not
// ready"; once it is back the service recovers by itself, without a restart, and every write it
// acknowledged (201/204) before the stop is still there. PostgreSQL only; the test runs its own
// PostgreSQL server, since it stops it.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "blackbox/contract_fixture.h"
#include "blackbox/harness.h"
#include "blackbox/http_client.h"
#include "support/pg_test_server.h"

namespace bb {
namespace {
namespace json = boost::json;

using Clock = std::chrono::steady_clock;

// Generous: these bound "eventually", they are not performance expectations.
constexpr auto kDeadline = std::chrono::seconds(90);
// A request that takes longer than this is a hang (the service's own limits are 10 s).
constexpr auto kRequestTimeout = std::chrono::seconds(30);

// What one writer knows the service acknowledged.
struct Acked {
  std::int64_t version = 0;  // from the ETag of the last 201/204
  std::string name;          // the name that write set
};

class FaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    pg_ = ts::pgtest::PgTestServer::Start(ts::pgtest::PgTestServerOptions{}, &error);
    ASSERT_NE(pg_, nullptr) << error;
    const std::string database = pg_->CreateDatabase(&error);
    ASSERT_FALSE(database.empty()) << error;
    ServerConfig config;
    config.backend = PostgresBackend();
    config.database_url = pg_->AppUrl(database);
    server_ = ServerProcess::Start(config, &error);
    ASSERT_NE(server_, nullptr) << error;
    tenant_ = "flt" + RandomHex(6);
    auth_ = "Bearer " + MintToken(server_->jwt_secret(), tenant_, kBothScopes);
  }

  void TearDown() override {
    if (server_) {
      std::string status;
      EXPECT_TRUE(server_->Running(&status)) << "the service died: " << status << "\n"
                                             << server_->StderrTail();
      EXPECT_EQ(server_->Stop(), 0) << server_->StderrTail();
      const std::string output = server_->AllOutput();
      EXPECT_EQ(output.find(pg_->app_password()), std::string::npos)
          << "the database password appeared in the service's output";
    }
  }

  std::string Item(const std::string& id) const {
    return "/ai-service/" + tenant_ + "/agentic/tokens/" + id;
  }

  ExchangeResult Call(const std::string& method, const std::string& target,
                      const std::optional<std::string>& body = std::nullopt,
                      bool authorized = true) {
    HttpRequest request{method, target, {}, body};
    if (authorized) request.headers.emplace_back("Authorization", auth_);
    if (body) request.headers.emplace_back("Content-Type", "application/json");
    ClientOptions options;
    options.timeout = kRequestTimeout;
    return Send(server_->port(), request, options);
  }

  static std::int64_t ETagVersion(const HttpResponse& r) {
    auto etag = r.Header("ETag");
    if (!etag || etag->size() < 3) return -1;
    return std::atoll(etag->substr(1, etag->size() - 2).c_str());
  }

  // Checks an answer given while the database may be down: a real response, and if it is a
  // 503, the documented error body.
  void CheckAnswer(const ExchangeResult& r, const std::string& what) {
    if (!r.ok) {
      ++no_answer_;
      std::lock_guard lock(mu_);
      problems_.push_back(what + ": no answer (" + r.error + ")");
      return;
    }
    if (r.response.status != 503) return;
    ++unavailable_;
    boost::system::error_code ec;
    json::value body = json::parse(r.response.body, ec);
    const bool documented =
        !ec && Int(At(body, "code")) == 503 && Str(At(body, "status")) == "Service Unavailable" &&
        !Str(At(body, "message")).empty() &&
        r.response.Header("Content-Type").value_or("").rfind("application/json", 0) == 0 &&
        r.response.Header("Cache-Control").value_or("") == "no-store" &&
        r.response.body.find("postgres") == std::string::npos &&
        r.response.body.find("SQLSTATE") == std::string::npos;
    if (!documented) {
      std::lock_guard lock(mu_);
      problems_.push_back(what + ": 503 without the documented body: " + r.response.Dump());
    }
  }

  int ReadyStatus() {
    ExchangeResult r = Call("GET", "/health/ready", std::nullopt, false);
    return r.ok ? r.response.status : 0;
  }

  std::unique_ptr<ts::pgtest::PgTestServer> pg_;
  std::unique_ptr<ServerProcess> server_;
  std::string tenant_;
  std::string auth_;

  std::mutex mu_;
  std::vector<std::string> problems_;  // guarded by mu_
  std::atomic<int> no_answer_{0};
  std::atomic<int> unavailable_{0};
};

TEST_F(FaultsTest, DatabaseStopUnderLoadAnswers503ThenRecoversWithoutLosingAcknowledgedWrites) {
  constexpr int kPatchers = 4;
  constexpr int kTokensEach = 3;
  // Tokens the patchers rename over and over, created before the load starts.
  for (int p = 0; p < kPatchers; ++p) {
    for (int k = 0; k < kTokensEach; ++k) {
      const std::string id = Named(Named("p", p) + "-", k);
      ExchangeResult r =
          Call("PUT", Item(id), json::serialize(json::object{{"name", id}, {"value", "sv-x"}}));
      ASSERT_TRUE(r.ok && r.response.status == 201) << r.error << r.response.Dump();
    }
  }

  std::atomic<bool> stop_load{false};
  std::atomic<int> acked_writes{0};
  std::atomic<bool> database_down{false};
  std::atomic<int> answers_while_down{0};
  std::vector<std::map<std::string, Acked>> acked(kPatchers);  // each owned by one thread
  std::vector<std::thread> load;
  for (int p = 0; p < kPatchers; ++p) {
    load.emplace_back([&, p] {
      for (std::int64_t n = 0; !stop_load.load(); ++n) {
        const std::string id = Named(Named("p", p) + "-", n % kTokensEach);
        const std::string name = id + Named("-gen-", n);
        json::array ops{json::object{{"op", "REPLACE"}, {"path", "/name"}, {"value", name}}};
        ExchangeResult r = Call("PATCH", Item(id), json::serialize(ops));
        CheckAnswer(r, "PATCH " + id);
        if (database_down.load()) ++answers_while_down;
        if (r.ok && r.response.status == 204) {
          acked[static_cast<std::size_t>(p)][id] = Acked{ETagVersion(r.response), name};
          ++acked_writes;
        } else if (r.ok && r.response.status != 503) {
          std::lock_guard lock(mu_);
          problems_.push_back("PATCH " + id + Named(" answered ", r.response.status));
        }
      }
    });
  }
  // Creates and deletes of fresh tokens: acknowledged creates must exist afterwards, and
  // acknowledged deletes must stay deleted.
  std::set<std::string> created;
  std::set<std::string> deleted;
  load.emplace_back([&] {
    for (int n = 0; !stop_load.load(); ++n) {
      const std::string id = Named("c-", n);
      ExchangeResult r =
          Call("PUT", Item(id), json::serialize(json::object{{"name", id}, {"value", "sv-c"}}));
      CheckAnswer(r, "PUT " + id);
      if (database_down.load()) ++answers_while_down;
      if (!r.ok || r.response.status != 201) continue;
      if (n % 2 != 0) {
        created.insert(id);
        continue;
      }
      ExchangeResult d = Call("DELETE", Item(id));
      CheckAnswer(d, "DELETE " + id);
      // A delete that got no 204 may or may not have happened: that token proves nothing.
      if (d.ok && d.response.status == 204) deleted.insert(id);
    }
  });
  // Readers.
  load.emplace_back([&] {
    while (!stop_load.load()) {
      CheckAnswer(Call("GET", "/ai-service/" + tenant_ + "/agentic/tokens?q=name:~gen"), "list");
      if (database_down.load()) ++answers_while_down;
    }
  });

  auto wait_for = [&](const std::function<bool()>& condition) {
    const auto deadline = Clock::now() + kDeadline;
    while (!condition()) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  };

  // 1. Load is flowing.
  EXPECT_TRUE(wait_for([&] { return acked_writes.load() >= 100; }))
      << "writers made too little progress: " << acked_writes.load();

  // 2. The database stops (fast shutdown: sessions are terminated, committed data stays).
  std::string error;
  ASSERT_TRUE(pg_->Stop(&error)) << error;
  database_down = true;
  const int unavailable_before = unavailable_.load();
  EXPECT_TRUE(wait_for([&] {
    return answers_while_down.load() >= 50 && unavailable_.load() >= unavailable_before + 30;
  })) << "requests while the database is down got no 503s ("
      << answers_while_down.load() << " answers)";
  EXPECT_TRUE(wait_for([&] { return ReadyStatus() == 503; })) << "/health/ready still says ready";
  {
    ExchangeResult ready = Call("GET", "/health/ready", std::nullopt, false);
    ASSERT_TRUE(ready.ok) << ready.error;
    EXPECT_EQ(ready.response.status, 503);
    EXPECT_NE(ready.response.body.find(R"({"name":"store","status":"DOWN"})"), std::string::npos)
        << ready.response.body;
    EXPECT_EQ(ready.response.body.find("postgres"), std::string::npos) << "no internals";
  }
  std::string status;
  ASSERT_TRUE(server_->Running(&status)) << "the service died with the database down: " << status;

  // 3. The database comes back; the service recovers by itself.
  ASSERT_TRUE(pg_->StartAgain(&error)) << error;
  database_down = false;
  EXPECT_TRUE(wait_for([&] { return ReadyStatus() == 200; })) << "not ready again";
  const int acked_before = acked_writes.load();
  EXPECT_TRUE(wait_for([&] { return acked_writes.load() >= acked_before + 50; }))
      << "writes do not succeed again";
  stop_load = true;
  for (auto& thread : load) thread.join();

  // Every answer was a real response; every 503 had the documented body.
  EXPECT_EQ(no_answer_.load(), 0);
  {
    std::lock_guard lock(mu_);
    EXPECT_TRUE(problems_.empty()) << ::testing::PrintToString(std::vector<std::string>(
        problems_.begin(), problems_.begin() + std::min<std::size_t>(problems_.size(), 10)));
  }
  EXPECT_GT(unavailable_.load(), 0);

  // 4. Nothing acknowledged is missing. A write that got a 503 may or may not have happened
  // (the connection broke before its outcome was known), so a stored version may be newer than
  // the last acknowledged one, never older; if it is the same, so is the name.
  for (const auto& per_thread : acked) {
    for (const auto& [id, ack] : per_thread) {
      ExchangeResult r = Call("GET", Item(id));
      ASSERT_TRUE(r.ok && r.response.status == 200) << id << ": " << r.response.Dump();
      json::value token = json::parse(r.response.body);
      const std::int64_t version = Int(At(token, "metadata.version"));
      EXPECT_GE(version, ack.version) << id << ": an acknowledged write was lost";
      if (version == ack.version) {
        EXPECT_EQ(Str(At(token, "name")), ack.name) << id;
      }
    }
  }
  for (const std::string& id : created) {
    ExchangeResult r = Call("GET", Item(id));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.response.status, 200) << id << ": an acknowledged create was lost";
  }
  for (const std::string& id : deleted) {
    ExchangeResult r = Call("GET", Item(id));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.response.status, 404) << id << ": an acknowledged delete was lost";
  }
  EXPECT_FALSE(created.empty());
  EXPECT_FALSE(deleted.empty());
}

}  // namespace
}  // namespace bb
