#include "service/agent_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "service/service_test_support.h"

namespace ts::service {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

class AgentServiceTest : public ServiceTest {
 protected:
  // An openai agent using token `token_id` and, in this order, a predefined server and the
  // custom servers `servers`.
  static AgentUpsertCommand Agent(std::string id, std::string token_id,
                                  std::vector<std::string> servers = {}) {
    AgentUpsertCommand c;
    domain::Agent& a = c.resource;
    a.id = std::move(id);
    a.name = {{"en", "Complaints"}, {"de", "Beschwerden"}};
    a.description = domain::LocalizedText{{"en", "Handles complaints"}};
    a.enabled = true;
    a.type = "complaint";
    a.tags = std::vector<std::string>{"support", "tier-1"};
    a.user_prompt = "You help customers.";
    a.llm_config.provider = "openai";
    a.llm_config.model = "gpt-4o";
    a.llm_config.temperature_tenths = 3;
    a.llm_config.max_tokens = 2048;
    a.llm_config.token_id = std::move(token_id);
    a.mcp_servers.push_back({"predefined", std::nullopt, "order", std::vector<std::string>{"list"}});
    for (std::string& server : servers) {
      a.mcp_servers.push_back({"custom", std::move(server), std::nullopt, std::nullopt});
    }
    return c;
  }

  domain::Agent MustGet(const std::string& id) {
    auto got = agents_->Get("acme", id);
    EXPECT_TRUE(got.ok()) << got.error().message << " / " << got.error().internal;
    return got.ok() ? *got : domain::Agent{};
  }
};

TEST_F(AgentServiceTest, EveryFieldRoundTripsAndMetadataIsSet) {
  CreateToken("llm");
  CreateServer("orders");
  CreateServer("crm");
  AgentUpsertCommand command = Agent("a1", "llm", {"orders", "crm"});
  const domain::Agent written = command.resource;
  auto created = agents_->Upsert(caller_, std::move(command));
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_TRUE(created->created);
  domain::Agent got = MustGet("a1");
  EXPECT_EQ(got.metadata.version, 1);
  EXPECT_EQ(got.metadata.created_at_ms, 1764387000000);
  got.metadata = {};
  domain::Agent expected = written;
  expected.metadata = {};
  EXPECT_EQ(got.name, expected.name);
  EXPECT_EQ(got.description, expected.description);
  EXPECT_EQ(got.tags, expected.tags);
  EXPECT_EQ(got.llm_config, expected.llm_config);
  EXPECT_EQ(got.mcp_servers, expected.mcp_servers);
  EXPECT_EQ(got.type, expected.type);
  EXPECT_EQ(got.user_prompt, expected.user_prompt);
  EXPECT_TRUE(got.enabled);
}

TEST_F(AgentServiceTest, SelfHostedParamsRoundTrip) {
  CreateToken("header");
  AgentUpsertCommand c = Agent("a1", "unused");
  c.resource.llm_config = {};
  c.resource.llm_config.provider = "self_hosted_ollama";
  c.resource.llm_config.model = "llama3";
  c.resource.llm_config.base_provider = "OPENAI";
  c.resource.llm_config.self_hosted_params =
      domain::SelfHostedParams{"https://llm.example.com", "X-Key", "header"};
  const domain::LlmConfig written = c.resource.llm_config;
  auto created = agents_->Upsert(caller_, std::move(c));
  ASSERT_TRUE(created.ok()) << created.error().message << " / " << created.error().internal;
  EXPECT_EQ(MustGet("a1").llm_config, written);
}

TEST_F(AgentServiceTest, MissingReferencesAreRefusedNamingTheField) {
  CreateToken("llm");
  CreateServer("orders");
  auto no_token = agents_->Upsert(caller_, Agent("a1", "nope", {"orders"}));
  ASSERT_FALSE(no_token.ok());
  EXPECT_EQ(no_token.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(no_token.error().details.at(0).field, "llmConfig.token.id");

  auto no_server = agents_->Upsert(caller_, Agent("a1", "llm", {"orders", "gone"}));
  ASSERT_FALSE(no_server.ok());
  EXPECT_EQ(no_server.error().details.at(0).field, "mcpServers[2].mcpServer.id");

  Caller other{"other", "bob", "req-2"};
  auto other_tenant = agents_->Upsert(other, Agent("a1", "llm"));
  ASSERT_FALSE(other_tenant.ok());
  EXPECT_EQ(other_tenant.error().details.at(0).field, "llmConfig.token.id");
  EXPECT_FALSE(agents_->Get("acme", "a1").ok());
}

TEST_F(AgentServiceTest, TokenDeleteIsRefusedThenForcedClearingTheAgentsReference) {
  CreateToken("llm");
  ASSERT_TRUE(agents_->Upsert(caller_, Agent("a1", "llm")).ok());
  auto refused = tokens_->Delete(caller_, "llm", false, std::nullopt);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(refused.error().details,
              ElementsAre(Field(&ErrorDetail::field, "agent/a1/llmConfig.token.id")));
  EXPECT_EQ(MustGet("a1").llm_config.token_id, "llm");

  clock_.Advance(5000);
  ASSERT_TRUE(tokens_->Delete(caller_, "llm", true, std::nullopt).ok());
  const domain::Agent after = MustGet("a1");
  EXPECT_EQ(after.llm_config.token_id, std::nullopt);
  EXPECT_EQ(after.metadata.version, 2);
  EXPECT_EQ(after.metadata.modified_at_ms, 1764387005000);
  EXPECT_FALSE(tokens_->Get("acme", "llm").ok());
}

TEST_F(AgentServiceTest, McpServerDeleteIsRefusedThenForcedRemovingTheEntry) {
  CreateToken("llm");
  CreateServer("orders");
  CreateServer("crm");
  ASSERT_TRUE(agents_->Upsert(caller_, Agent("a1", "llm", {"orders", "crm"})).ok());
  ASSERT_TRUE(agents_->Upsert(caller_, Agent("a2", "llm", {"crm"})).ok());

  auto refused = servers_->Delete(caller_, "crm", false, std::nullopt);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().details,
              ElementsAre(Field(&ErrorDetail::field, "agent/a1/mcpServers[2].mcpServer.id"),
                          Field(&ErrorDetail::field, "agent/a2/mcpServers[1].mcpServer.id")));

  clock_.Advance(1000);
  ASSERT_TRUE(servers_->Delete(caller_, "crm", true, std::nullopt).ok());
  const domain::Agent a1 = MustGet("a1");
  ASSERT_EQ(a1.mcp_servers.size(), 2u);
  EXPECT_EQ(a1.mcp_servers[0].type, "predefined");
  EXPECT_EQ(a1.mcp_servers[1].mcp_server_id, "orders");
  EXPECT_EQ(a1.metadata.version, 2);
  EXPECT_EQ(a1.metadata.modified_at_ms, 1764387001000);
  EXPECT_EQ(MustGet("a2").mcp_servers.size(), 1u);
  EXPECT_FALSE(servers_->Get("acme", "crm").ok());

  // The remaining use still blocks; once the agent is gone, nothing does.
  EXPECT_FALSE(servers_->Delete(caller_, "orders", false, std::nullopt).ok());
  ASSERT_TRUE(agents_->Delete(caller_, "a1", false, std::nullopt).ok());
  EXPECT_TRUE(servers_->Delete(caller_, "orders", false, std::nullopt).ok());
  EXPECT_FALSE(servers_->Get("acme", "orders").ok());
}

TEST_F(AgentServiceTest, UpdateReplacesTheMcpServerUses) {
  CreateToken("llm");
  CreateServer("orders");
  CreateServer("crm");
  ASSERT_TRUE(agents_->Upsert(caller_, Agent("a1", "llm", {"orders"})).ok());
  ASSERT_TRUE(agents_->Upsert(caller_, Agent("a1", "llm", {"crm"})).ok());
  EXPECT_TRUE(servers_->Delete(caller_, "orders", false, std::nullopt).ok());
  EXPECT_FALSE(servers_->Delete(caller_, "crm", false, std::nullopt).ok());
  EXPECT_EQ(MustGet("a1").metadata.version, 2);
}

TEST_F(AgentServiceTest, VersionsAndPreconditions) {
  CreateToken("llm");
  ASSERT_TRUE(agents_->Upsert(caller_, Agent("a1", "llm")).ok());
  AgentUpsertCommand stale = Agent("a1", "llm");
  stale.expected_version = 7;
  auto conflict = agents_->Upsert(caller_, std::move(stale));
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, ErrorCode::kConflict);

  AgentUpsertCommand absent = Agent("a2", "llm");
  absent.expected_version = 1;
  auto not_found = agents_->Upsert(caller_, std::move(absent));
  ASSERT_FALSE(not_found.ok());
  EXPECT_EQ(not_found.error().code, ErrorCode::kNotFound);

  Precondition wrong{false, {5}};
  auto failed = agents_->Delete(caller_, "a1", false, wrong);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kPreconditionFailed);
  EXPECT_TRUE(agents_->Delete(caller_, "a1", false, Precondition{false, {1}}).ok());
  EXPECT_TRUE(agents_->Delete(caller_, "a1", false, std::nullopt).ok());  // idempotent
}

TEST_F(AgentServiceTest, PatchChangesOnlyTheNamedFields) {
  CreateToken("llm");
  CreateToken("llm2");
  ASSERT_TRUE(agents_->Upsert(caller_, Agent("a1", "llm")).ok());
  std::vector<domain::PatchOperation> ops(3);
  ops[0].path = "/enabled";
  ops[0].has_value = true;
  ops[0].bool_value = false;
  ops[1].path = "/name/fr";
  ops[1].has_value = true;
  ops[1].value_is_string = true;
  ops[1].string_value = "Réclamations";
  ops[2].path = "/llmConfig/token";
  ops[2].has_value = true;
  ops[2].object_id = "llm2";
  auto patched = agents_->Patch(caller_, "a1", ops, std::nullopt);
  ASSERT_TRUE(patched.ok()) << patched.error().message;
  const domain::Agent got = MustGet("a1");
  EXPECT_FALSE(got.enabled);
  EXPECT_EQ(got.name.at("fr"), "Réclamations");
  EXPECT_EQ(got.name.at("en"), "Complaints");
  EXPECT_EQ(got.llm_config.token_id, "llm2");
  EXPECT_EQ(got.metadata.version, 2);

  ops.resize(1);
  ops[0] = {};
  ops[0].path = "/llmConfig/token";
  ops[0].has_value = true;
  ops[0].object_id = "missing";
  auto missing = agents_->Patch(caller_, "a1", ops, std::nullopt);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().details.at(0).field, "llmConfig.token.id");
}

TEST_F(AgentServiceTest, ListFiltersSortsAndExpands) {
  CreateToken("llm");
  CreateServer("orders");
  for (const char* id : {"c", "a", "b"}) {
    ASSERT_TRUE(agents_->Upsert(caller_, Agent(id, "llm", {"orders"})).ok());
  }
  std::vector<domain::PatchOperation> ops(1);
  ops[0].path = "/enabled";
  ops[0].has_value = true;
  ops[0].bool_value = false;
  ASSERT_TRUE(agents_->Patch(caller_, "b", ops, std::nullopt).ok());

  store::ListQuery query;
  query.tenant = "acme";
  query::Clause enabled;
  enabled.field = "enabled";
  enabled.type = query::FieldType::kBoolean;
  enabled.kind = query::Clause::Kind::kCompare;
  enabled.comparisons.push_back({query::CompareOp::kEq, true});
  query.filter.clauses.push_back(enabled);
  query.sort.push_back({"id", query::FieldType::kString, true});
  query.count_total = true;
  auto page = agents_->List(query);
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].id, "c");
  EXPECT_EQ(page->items[1].id, "a");
  EXPECT_EQ(page->total, 2);
  EXPECT_EQ(page->items[0].mcp_servers.size(), 2u);

  auto tokens = agents_->ReferencedTokens("acme", page->items);
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ(tokens->at("llm").name, "token llm");
  auto servers = agents_->ReferencedMcpServers("acme", page->items);
  ASSERT_TRUE(servers.ok());
  ASSERT_EQ(servers->size(), 1u);
  EXPECT_EQ(servers->at("orders").config.url, "https://mcp.example.com/orders");
}

}  // namespace
}  // namespace ts::service
