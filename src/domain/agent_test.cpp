#include "domain/agent.h"

#include <gtest/gtest.h>

namespace ts::domain {
namespace {

Agent Valid() {
  Agent agent;
  agent.id = "complaints";
  agent.name = {{"en", "Complaint agent"}, {"de", "Beschwerde-Agent"}};
  agent.description = LocalizedText{{"en", "Reads complaint emails"}};
  agent.enabled = true;
  agent.type = "complaint";
  agent.tags = std::vector<std::string>{"productivity"};
  agent.user_prompt = "You handle complaints.";
  agent.llm_config.provider = "openai";
  agent.llm_config.model = "gpt-4.1";
  agent.llm_config.temperature_tenths = 2;
  agent.llm_config.max_tokens = 100000;
  agent.llm_config.token_id = "openai-token";
  agent.mcp_servers = {
      AgentMcpServer{"custom", "orders", std::nullopt, std::nullopt},
      AgentMcpServer{"predefined", std::nullopt, "order", std::vector<std::string>{"get-order"}}};
  return agent;
}

std::string FailedField(const Agent& agent) {
  auto r = ValidateAgent(agent);
  if (r.ok()) return "";
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  return r.error().details.empty() ? "?" : r.error().details.front().field;
}

TEST(AgentTest, AcceptsTheSupportedFields) { EXPECT_EQ(FailedField(Valid()), ""); }

TEST(AgentTest, NameIsALocalizedMapOfNonBlankTexts) {
  Agent agent = Valid();
  agent.name.clear();
  EXPECT_EQ(FailedField(agent), "name");
  agent.name = {{"en", " "}};
  EXPECT_EQ(FailedField(agent), "name.en");
  agent.name = {{"EN", "x"}};
  EXPECT_EQ(FailedField(agent), "name");
  agent.name = {{"en-US", "x"}, {"zh-Hant-TW", "y"}};
  EXPECT_EQ(FailedField(agent), "");
  agent.description = LocalizedText{{"en", std::string(kMaxDescriptionBytes + 1, 'd')}};
  EXPECT_EQ(FailedField(agent), "description.en");
  agent.description = LocalizedText{{"en", ""}};  // an empty description is allowed
  EXPECT_EQ(FailedField(agent), "");
}

TEST(AgentTest, TypeTagsAndUserPrompt) {
  Agent agent = Valid();
  agent.type = "sales";
  EXPECT_EQ(FailedField(agent), "type");
  agent.type.reset();
  agent.tags = std::vector<std::string>{"ok", ""};
  EXPECT_EQ(FailedField(agent), "tags[1]");
  agent.tags.reset();
  agent.user_prompt = "  ";
  EXPECT_EQ(FailedField(agent), "userPrompt");
  agent.user_prompt = std::string(kMaxUserPromptBytes + 1, 'p');
  EXPECT_EQ(FailedField(agent), "userPrompt");
}

TEST(AgentTest, ApiKeyProvidersNeedATokenAndOthersMustNotHaveOne) {
  Agent agent = Valid();
  agent.llm_config.token_id.reset();
  EXPECT_EQ(FailedField(agent), "llmConfig.token.id");
  agent.llm_config.token_id = "a/b";
  EXPECT_EQ(FailedField(agent), "llmConfig.token.id");
  agent.llm_config.provider = "emporix_openai";
  agent.llm_config.token_id = "t";
  EXPECT_EQ(FailedField(agent), "llmConfig.token");
  agent.llm_config.token_id.reset();
  EXPECT_EQ(FailedField(agent), "");
  agent.llm_config.provider = "mistral";
  EXPECT_EQ(FailedField(agent), "llmConfig.provider");
}

TEST(AgentTest, SelfHostedProvidersNeedParamsWithAUrl) {
  Agent agent = Valid();
  agent.llm_config.provider = "self_hosted_ollama";
  agent.llm_config.token_id.reset();
  EXPECT_EQ(FailedField(agent), "llmConfig.selfHostedParams");
  agent.llm_config.self_hosted_params = SelfHostedParams{"ftp://x", std::nullopt, std::nullopt};
  EXPECT_EQ(FailedField(agent), "llmConfig.selfHostedParams.url");
  agent.llm_config.self_hosted_params->url = "http://ollama.internal:11434";
  agent.llm_config.self_hosted_params->authorization_header_token_id = "..";
  EXPECT_EQ(FailedField(agent), "llmConfig.selfHostedParams.authorizationHeaderToken.id");
  agent.llm_config.self_hosted_params->authorization_header_token_id = "ollama-key";
  agent.llm_config.base_provider = "MISTRAL";
  EXPECT_EQ(FailedField(agent), "llmConfig.baseProvider");
  agent.llm_config.base_provider = "OPENAI";
  EXPECT_EQ(FailedField(agent), "");
  agent.llm_config.provider = "openai";
  agent.llm_config.token_id = "t";
  EXPECT_EQ(FailedField(agent), "llmConfig.selfHostedParams");
}

TEST(AgentTest, TemperatureAndMaxTokensRanges) {
  Agent agent = Valid();
  for (std::int64_t tenths : {0, 11, -1}) {
    agent.llm_config.temperature_tenths = tenths;
    EXPECT_EQ(FailedField(agent), "llmConfig.temperature") << tenths;
  }
  agent.llm_config.temperature_tenths = 10;
  agent.llm_config.max_tokens = 0;
  EXPECT_EQ(FailedField(agent), "llmConfig.maxTokens");
  agent.llm_config.max_tokens = kMaxLlmTokens;
  EXPECT_EQ(FailedField(agent), "");
}

TEST(AgentTest, McpServerEntries) {
  Agent agent = Valid();
  agent.mcp_servers.push_back(AgentMcpServer{"custom", "orders", std::nullopt, std::nullopt});
  EXPECT_EQ(FailedField(agent), "mcpServers[2].mcpServer.id");  // listed twice
  agent.mcp_servers.back().mcp_server_id.reset();
  EXPECT_EQ(FailedField(agent), "mcpServers[2].mcpServer.id");
  agent.mcp_servers.back() = AgentMcpServer{"predefined", std::nullopt, "billing", std::nullopt};
  EXPECT_EQ(FailedField(agent), "mcpServers[2].domain");
  agent.mcp_servers.back() = AgentMcpServer{"dynamic", "d", std::nullopt, std::nullopt};
  EXPECT_EQ(FailedField(agent), "mcpServers[2].type");
  agent.mcp_servers.back() =
      AgentMcpServer{"custom", "other", "order", std::nullopt};  // custom takes no domain
  EXPECT_EQ(FailedField(agent), "mcpServers[2]");
  agent.mcp_servers.clear();
  EXPECT_EQ(FailedField(agent), "");  // an agent may use no MCP server
}

TEST(AgentTest, ReferencesNameEveryReferringField) {
  Agent agent = Valid();
  agent.mcp_servers.push_back(AgentMcpServer{"custom", "billing", std::nullopt, std::nullopt});
  using T = AgentReference::Target;
  EXPECT_EQ(ReferencesOf(agent), (std::vector<AgentReference>{
                                     {T::kToken, "openai-token", "llmConfig.token.id"},
                                     {T::kMcpServer, "orders", "mcpServers[0].mcpServer.id"},
                                     {T::kMcpServer, "billing", "mcpServers[2].mcpServer.id"}}));
  agent.llm_config = LlmConfig{"self_hosted_vllm",
                               "m",
                               std::nullopt,
                               std::nullopt,
                               std::nullopt,
                               std::nullopt,
                               SelfHostedParams{"http://h/", std::nullopt, "vllm-key"}};
  agent.mcp_servers.clear();
  EXPECT_EQ(
      ReferencesOf(agent),
      (std::vector<AgentReference>{
          {T::kToken, "vllm-key", "llmConfig.selfHostedParams.authorizationHeaderToken.id"}}));
}

TEST(AgentSchemaTest, QueriesBooleansAndNestedReferences) {
  const query::ResourceSchema& schema = AgentSchema();
  EXPECT_TRUE(
      query::ParseQuery("enabled:true llmConfig.token.id:t1 llmConfig.provider:~open", schema)
          .ok());
  EXPECT_TRUE(query::ParseSort("llmConfig.provider,enabled:desc", schema).ok());
  EXPECT_FALSE(query::ParseSort("llmConfig.token.id", schema).ok());
  EXPECT_TRUE(query::ParseFields("id,name,llmConfig.token", schema).ok());
}

PatchOperation Op(std::string path, std::optional<std::string> text,
                  PatchOperation::Op op = PatchOperation::Op::kReplace) {
  PatchOperation o;
  o.op = op;
  o.path = std::move(path);
  if (text) {
    o.has_value = true;
    o.value_is_string = true;
    o.string_value = *text;
  }
  return o;
}

std::string PatchFailure(const std::vector<PatchOperation>& ops) {
  auto r = ApplyAgentPatch(Valid(), ops);
  if (r.ok()) return "";
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  return r.error().details.empty() ? "?" : r.error().details.front().field;
}

TEST(AgentPatchTest, ChangesLanguagesScalarsAndReferences) {
  PatchOperation enabled = Op("/enabled", std::nullopt);
  enabled.has_value = true;
  enabled.bool_value = false;
  PatchOperation token = Op("/llmConfig/token", std::nullopt);
  token.has_value = true;
  token.object_id = "other-token";
  auto r = ApplyAgentPatch(
      Valid(), {Op("/name/fr", "Agent de réclamation"), Op("/name/de", std::nullopt,
                                                           PatchOperation::Op::kRemove),
                Op("/description/en", std::nullopt, PatchOperation::Op::kRemove), enabled,
                Op("/userPrompt", "Be brief."), Op("/llmConfig/model", "gpt-4o"), token,
                Op("/type", std::nullopt, PatchOperation::Op::kRemove)});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->name, (LocalizedText{{"en", "Complaint agent"}, {"fr", "Agent de réclamation"}}));
  EXPECT_EQ(r->description, std::nullopt);  // its last language removed
  EXPECT_FALSE(r->enabled);
  EXPECT_EQ(r->user_prompt, "Be brief.");
  EXPECT_EQ(r->llm_config.model, "gpt-4o");
  EXPECT_EQ(r->llm_config.token_id, "other-token");
  EXPECT_EQ(r->type, std::nullopt);
  EXPECT_EQ(r->mcp_servers, Valid().mcp_servers);
}

TEST(AgentPatchTest, RefusesWhatItCannotApplyNamingTheOperation) {
  EXPECT_EQ(PatchFailure({}), "body");
  EXPECT_EQ(PatchFailure({Op("/name", "Complaint Agent")}), "[0].path");
  EXPECT_EQ(PatchFailure({Op("/name/en", "x"), Op("/name/EN!", "x")}), "[1].path");
  EXPECT_EQ(PatchFailure({Op("/enabled", "yes")}), "[0].value");
  EXPECT_EQ(PatchFailure({Op("/userPrompt", std::nullopt, PatchOperation::Op::kRemove)}),
            "[0].path");
  EXPECT_EQ(PatchFailure({Op("/llmConfig/token", "t")}), "[0].value");
  EXPECT_EQ(PatchFailure({Op("/metadata/version", "2")}), "[0].path");
  EXPECT_EQ(PatchFailure({Op("/mcpServers", "x")}), "[0].path");
  EXPECT_EQ(PatchFailure({Op("/llmConfig/selfHostedParams/authorizationHeaderToken", "x")}),
            "[0].path");
  // The result is validated as a whole: an openai agent needs its token.
  EXPECT_EQ(PatchFailure({Op("/llmConfig/token", std::nullopt, PatchOperation::Op::kRemove)}),
            "llmConfig.token.id");
  EXPECT_EQ(PatchFailure({Op("/name/en", std::nullopt, PatchOperation::Op::kRemove),
                          Op("/name/de", std::nullopt, PatchOperation::Op::kRemove)}),
            "name");
}

}  // namespace
}  // namespace ts::domain
