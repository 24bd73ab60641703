// Test support for the service unit tests: a recording audit log and a fixture with the
// services over a fresh SQLite store in a temporary directory, a fake clock and a generated
// key ring. Test-only; thread-safe as far as the services are (the audit log locks).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crypto/key_ring.h"
#include "service/agent_service.h"
#include "service/mcp_server_service.h"
#include "service/token_service.h"
#include "store/sqlite/sqlite_store.h"

namespace ts::service {

// Keeps "<action> <id> <outcome>" per event.
class RecordingAuditLog final : public AuditLog {
 public:
  void Record(const AuditEvent& e) override {
    std::lock_guard<std::mutex> lock(mutex);
    lines.push_back(std::string(e.action) + " " + std::string(e.token_id) + " " +
                    std::string(e.outcome));
  }
  std::mutex mutex;
  std::vector<std::string> lines;
};

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ts-service-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto store = store::OpenSqliteStore({dir_ + "/t.db", "NORMAL"});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
    barrier_ = std::make_unique<crypto::ValueBarrier>(crypto::KeyRing::Generate());
    tokens_ = std::make_unique<TokenService>(*store_, *barrier_, clock_, audit_, throttle_);
    servers_ = std::make_unique<McpServerService>(*store_, clock_, audit_);
    agents_ = std::make_unique<AgentService>(*store_, clock_, audit_);
  }
  void TearDown() override {
    agents_.reset();
    servers_.reset();
    tokens_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void CreateToken(const std::string& id) {
    UpsertCommand c;
    c.id = id;
    c.name = "token " + id;
    c.value.emplace("sk-secret-" + id);
    ASSERT_TRUE(tokens_->Upsert(caller_, std::move(c)).result.ok());
  }

  static McpServerUpsertCommand Server(std::string id, std::optional<std::string> token_id) {
    McpServerUpsertCommand c;
    c.resource.id = std::move(id);
    c.resource.name = "Orders";
    c.resource.enabled = true;
    c.resource.transport = "streamable_http";
    c.resource.config.url = "https://mcp.example.com/orders";
    c.resource.config.authorization_header_name = "Authorization";
    c.resource.config.authorization_header_token_id = std::move(token_id);
    return c;
  }

  void CreateServer(const std::string& id, std::optional<std::string> token_id = std::nullopt) {
    ASSERT_TRUE(servers_->Upsert(caller_, Server(id, std::move(token_id))).ok());
  }

  Caller caller_{"acme", "alice", "req-1"};
  std::string dir_;
  FakeClock clock_{1764387000000};
  RecordingAuditLog audit_;
  MismatchThrottle throttle_{clock_};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<crypto::ValueBarrier> barrier_;
  std::unique_ptr<TokenService> tokens_;
  std::unique_ptr<McpServerService> servers_;
  std::unique_ptr<AgentService> agents_;
};

}  // namespace ts::service
