#include "api/agent_json.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "api/json_text.h"

namespace ts::api {
namespace {

Result<service::AgentUpsertCommand> Put(std::string_view json,
                                        const std::string& id = "complaints") {
  return DecodeAgentPut(boost::json::parse(json), id);
}

std::vector<std::string> Fields(const Error& e) {
  std::vector<std::string> fields;
  for (const auto& d : e.details) fields.push_back(d.field);
  return fields;
}

constexpr std::string_view kFull = R"({
  "id": "complaints",
  "name": {"en": "Complaint agent", "de": "Beschwerde-Agent"},
  "description": {"en": "Handles complaints"},
  "enabled": true, "type": "complaint", "tags": ["support", "b2c"],
  "userPrompt": "You handle complaints.",
  "llmConfig": {"provider": "openai", "model": "gpt-4.1-mini", "temperature": 0.3,
                "maxTokens": 1000, "token": {"id": "openai-key"}},
  "mcpServers": [{"type": "custom", "mcpServer": {"id": "orders"}},
                 {"type": "predefined", "domain": "order", "tools": ["getOrder", "listOrders"]}],
  "metadata": {"version": 4, "createdAt": "2026-01-01T00:00:00.000Z"}})";

constexpr std::string_view kSelfHosted = R"({
  "name": {"en": "Local"}, "userPrompt": "p", "mcpServers": [],
  "llmConfig": {"provider": "self_hosted_ollama", "model": "llama3", "baseProvider": "OPENAI",
                "selfHostedParams": {"url": "https://llm.example.com/v1",
                                     "authorizationHeaderName": "Authorization",
                                     "authorizationHeaderToken": {"id": "llm-key"}}}})";

TEST(DecodeAgentPutTest, DecodesEveryField) {
  auto c = Put(kFull);
  ASSERT_TRUE(c.ok()) << c.error().message;
  const domain::Agent& a = c->resource;
  EXPECT_EQ(a.id, "complaints");
  EXPECT_EQ(a.name, (domain::LocalizedText{{"en", "Complaint agent"}, {"de", "Beschwerde-Agent"}}));
  EXPECT_EQ(a.description, (domain::LocalizedText{{"en", "Handles complaints"}}));
  EXPECT_TRUE(a.enabled);
  EXPECT_EQ(a.type, "complaint");
  EXPECT_EQ(a.tags, (std::vector<std::string>{"support", "b2c"}));
  EXPECT_EQ(a.user_prompt, "You handle complaints.");
  EXPECT_EQ(a.llm_config.provider, "openai");
  EXPECT_EQ(a.llm_config.model, "gpt-4.1-mini");
  EXPECT_EQ(a.llm_config.temperature_tenths, 3);
  EXPECT_EQ(a.llm_config.max_tokens, 1000);
  EXPECT_EQ(a.llm_config.token_id, "openai-key");
  ASSERT_EQ(a.mcp_servers.size(), 2u);
  EXPECT_EQ(a.mcp_servers[0],
            (domain::AgentMcpServer{"custom", "orders", std::nullopt, std::nullopt}));
  EXPECT_EQ(a.mcp_servers[1],
            (domain::AgentMcpServer{"predefined", std::nullopt, "order",
                                    std::vector<std::string>{"getOrder", "listOrders"}}));
  EXPECT_EQ(c->expected_version, 4);
  EXPECT_TRUE(domain::ValidateAgent(a).ok());
}

TEST(DecodeAgentPutTest, DecodesSelfHostedParams) {
  auto c = Put(kSelfHosted);
  ASSERT_TRUE(c.ok()) << c.error().message;
  const domain::LlmConfig& llm = c->resource.llm_config;
  EXPECT_EQ(llm.base_provider, "OPENAI");
  ASSERT_TRUE(llm.self_hosted_params.has_value());
  EXPECT_EQ(*llm.self_hosted_params,
            (domain::SelfHostedParams{"https://llm.example.com/v1", "Authorization", "llm-key"}));
  EXPECT_FALSE(llm.token_id.has_value());
  EXPECT_TRUE(domain::ValidateAgent(c->resource).ok());
}

TEST(DecodeAgentPutTest, OptionalFieldsTakeTheirDefaultsAndNullIsAbsent) {
  auto c = Put(R"({"name":{"en":"n"},"userPrompt":"p","mcpServers":[],"description":null,
                 "enabled":null,"type":null,"tags":null,"metadata":null,
                 "llmConfig":{"provider":"emporix_openai","model":"m","temperature":null,
                              "maxTokens":null,"token":null}})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  const domain::Agent& a = c->resource;
  EXPECT_FALSE(a.enabled);
  EXPECT_FALSE(a.description || a.type || a.tags);
  EXPECT_FALSE(a.llm_config.temperature_tenths || a.llm_config.max_tokens || a.llm_config.token_id);
  EXPECT_TRUE(a.mcp_servers.empty());
  EXPECT_FALSE(c->expected_version.has_value());
}

TEST(DecodeAgentPutTest, RequiredFieldsAreNamed) {
  auto c = Put("{}");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(Fields(c.error()),
            (std::vector<std::string>{"name", "userPrompt", "llmConfig", "mcpServers"}));
  auto nested = Put(R"({"name":{"en":"n"},"userPrompt":"p",
      "llmConfig":{"token":{},"selfHostedParams":{}},
      "mcpServers":[{"mcpServer":{"id":"x"}},{"type":"custom","mcpServer":{}}]})");
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(Fields(nested.error()),
            (std::vector<std::string>{"llmConfig.token.id", "llmConfig.selfHostedParams.url",
                                      "llmConfig.provider", "llmConfig.model", "mcpServers[0].type",
                                      "mcpServers[1].mcpServer.id"}));
}

TEST(DecodeAgentPutTest, WrongTypesUnknownFieldsAndIdMismatchAreNamed) {
  auto c = Put(R"({"id":"other","name":{"en":1},"description":"text","enabled":"yes","type":2,
      "tags":["a",3],"userPrompt":[],"triggers":[],"nativeTools":[],
      "llmConfig":{"provider":"openai","model":"m","temperature":"0.3","maxTokens":1.5,
                   "token":{"id":5,"value":"v"},"apiKey":"k",
                   "selfHostedParams":{"url":"http://h/","oauth":{"id":"o"}}},
      "mcpServers":[{"type":"predefined","domain":"order","tools":"all"},
                    {"type":"custom","mcpServer":{"id":"s","secret":1}},"x"],
      "metadata":{"version":0,"owner":"x"}})");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(Fields(c.error()), (std::vector<std::string>{"id",
                                                         "name.en",
                                                         "description",
                                                         "enabled",
                                                         "type",
                                                         "tags[1]",
                                                         "userPrompt",
                                                         "triggers",
                                                         "nativeTools",
                                                         "llmConfig.temperature",
                                                         "llmConfig.maxTokens",
                                                         "llmConfig.token.id",
                                                         "llmConfig.token.value",
                                                         "llmConfig.apiKey",
                                                         "llmConfig.selfHostedParams.oauth",
                                                         "mcpServers[0].tools",
                                                         "mcpServers[1].mcpServer.secret",
                                                         "mcpServers[2]",
                                                         "metadata.version",
                                                         "metadata.owner"}));
}

TEST(DecodeAgentPutTest, TemperatureMustBeExactlyATenth) {
  auto body = [](std::string_view temperature) {
    return R"({"name":{"en":"n"},"userPrompt":"p","mcpServers":[],)"
           R"("llmConfig":{"provider":"emporix_openai","model":"m","temperature":)" +
           std::string(temperature) + "}}";
  };
  const std::pair<std::string_view, std::int64_t> good[] = {
      {"0.1", 1}, {"0.3", 3}, {"0.7", 7}, {"1.0", 10}, {"1", 10}, {"3e-1", 3}, {"0.30", 3}};
  for (const auto& [text, tenths] : good) {
    auto c = Put(body(text));
    ASSERT_TRUE(c.ok()) << text << ": " << c.error().message;
    EXPECT_EQ(c->resource.llm_config.temperature_tenths, tenths) << text;
  }
  for (std::string_view text :
       {"0.35", "0.30001", "0", "0.0", "1.1", "-0.3", "2", "1e300", "18446744073709551615"}) {
    auto c = Put(body(text));
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(Fields(c.error()), (std::vector<std::string>{"llmConfig.temperature"})) << text;
  }
}

TEST(DecodeAgentPutTest, ExpandedReferencesSentBackAreReadAsTheirIds) {
  auto c = Put(R"({"name":{"en":"n"},"userPrompt":"p",
      "llmConfig":{"provider":"openai","model":"m","token":{"id":"t","name":"Key",
                   "metadata":{"version":2,"createdAt":"x","modifiedAt":"y"}}},
      "mcpServers":[{"type":"custom","mcpServer":{"id":"s","name":"S","enabled":true,
          "type":"custom","transport":"sse","config":{"url":"http://h/"},
          "metadata":{"version":1}}}]})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->resource.llm_config.token_id, "t");
  EXPECT_EQ(c->resource.mcp_servers.at(0).mcp_server_id, "s");
}

TEST(DecodeAgentPutTest, TooManyMcpServersAreRefusedBeforeDecodingThem) {
  std::string servers = "[";
  for (int i = 0; i < 51; ++i) servers += std::string(i ? "," : "") + R"({"type":"x"})";
  auto c = Put(R"({"name":{"en":"n"},"userPrompt":"p","llmConfig":{"provider":"emporix_openai",)"
               R"("model":"m"},"mcpServers":)" +
               servers + "]}");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(Fields(c.error()), (std::vector<std::string>{"mcpServers"}));
}

domain::Agent Sample() {
  auto c = Put(kFull);
  domain::Agent agent = c->resource;
  agent.metadata = {4, 1'000, 2'000};
  return agent;
}

constexpr std::string_view kSampleRendered =
    R"({"id":"complaints","name":{"de":"Beschwerde-Agent","en":"Complaint agent"},)"
    R"("description":{"en":"Handles complaints"},"enabled":true,"type":"complaint",)"
    R"("tags":["support","b2c"],"userPrompt":"You handle complaints.",)"
    R"("llmConfig":{"provider":"openai","model":"gpt-4.1-mini","temperature":0.3,)"
    R"("maxTokens":1000,"token":{"id":"openai-key"}},)"
    R"("mcpServers":[{"type":"custom","mcpServer":{"id":"orders"}},)"
    R"({"type":"predefined","domain":"order","tools":["getOrder","listOrders"]}],)"
    R"("metadata":{"version":4,"createdAt":"1970-01-01T00:00:01.000Z",)"
    R"("modifiedAt":"1970-01-01T00:00:02.000Z"}})";

TEST(RenderAgentTest, RendersEveryFieldExactlyAndReadsBackAsTheSameAgent) {
  const std::string rendered =
      SerializeJson(RenderAgent(Sample(), query::Projection{}, nullptr, nullptr));
  EXPECT_EQ(rendered, kSampleRendered);
  // What a read renders decodes back to the same agent.
  auto again = DecodeAgentPut(boost::json::parse(rendered), "complaints");
  ASSERT_TRUE(again.ok()) << again.error().message;
  domain::Agent expected = Sample();
  again->resource.metadata = expected.metadata;
  EXPECT_EQ(again->resource.name, expected.name);
  EXPECT_EQ(again->resource.description, expected.description);
  EXPECT_EQ(again->resource.tags, expected.tags);
  EXPECT_EQ(again->resource.llm_config, expected.llm_config);
  EXPECT_EQ(again->resource.mcp_servers, expected.mcp_servers);
  EXPECT_EQ(again->expected_version, 4);
}

TEST(RenderAgentTest, EveryTemperatureRendersAsWritten) {
  domain::Agent agent = Sample();
  for (int tenths = 1; tenths <= 10; ++tenths) {
    agent.llm_config.temperature_tenths = tenths;
    const std::string text = tenths == 10 ? "1.0" : "0." + std::to_string(tenths);
    auto fields = query::ParseFields("llmConfig.temperature", domain::AgentSchema());
    ASSERT_TRUE(fields.ok());
    EXPECT_EQ(SerializeJson(RenderAgent(agent, *fields, nullptr, nullptr)),
              R"({"llmConfig":{"temperature":)" + text + "}}");
    auto back = Put(R"({"name":{"en":"n"},"userPrompt":"p","mcpServers":[],)"
                    R"("llmConfig":{"provider":"emporix_openai","model":"m","temperature":)" +
                    text + "}}");
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->resource.llm_config.temperature_tenths, tenths);
  }
}

TEST(RenderAgentTest, AbsentOptionalsStayAbsentAndSelfHostedParamsRoundTrip) {
  auto c = Put(kSelfHosted, "local");
  ASSERT_TRUE(c.ok());
  const std::string rendered =
      SerializeJson(RenderAgent(c->resource, query::Projection{}, nullptr, nullptr));
  EXPECT_EQ(rendered,
            R"({"id":"local","name":{"en":"Local"},"enabled":false,"userPrompt":"p",)"
            R"("llmConfig":{"provider":"self_hosted_ollama","model":"llama3",)"
            R"("baseProvider":"OPENAI","selfHostedParams":{"url":"https://llm.example.com/v1",)"
            R"("authorizationHeaderName":"Authorization",)"
            R"("authorizationHeaderToken":{"id":"llm-key"}}},"mcpServers":[],)"
            R"("metadata":{"version":1,"createdAt":"1970-01-01T00:00:00.000Z",)"
            R"("modifiedAt":"1970-01-01T00:00:00.000Z"}})");
  auto again = DecodeAgentPut(boost::json::parse(rendered), "local");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->resource.llm_config, c->resource.llm_config);
}

TEST(RenderAgentTest, ExpandTokenRendersTheTokensPublicFieldsOnly) {
  std::map<std::string, domain::Token> tokens{
      {"openai-key", domain::Token{"openai-key", "OpenAI key", {2, 5'000, 6'000}}},
      {"llm-key", domain::Token{"llm-key", "LLM key", {1, 5'000, 5'000}}}};
  auto out = RenderAgent(Sample(), query::Projection{}, &tokens, nullptr);
  EXPECT_EQ(SerializeJson(out.at("llmConfig").at("token")),
            R"({"id":"openai-key","name":"OpenAI key","metadata":{"version":2,)"
            R"("createdAt":"1970-01-01T00:00:05.000Z","modifiedAt":"1970-01-01T00:00:06.000Z"}})");
  auto self_hosted = Put(kSelfHosted, "local");
  ASSERT_TRUE(self_hosted.ok());
  auto local = RenderAgent(self_hosted->resource, query::Projection{}, &tokens, nullptr);
  EXPECT_EQ(
      SerializeJson(local.at("llmConfig").at("selfHostedParams").at("authorizationHeaderToken")),
      R"({"id":"llm-key","name":"LLM key","metadata":{"version":1,)"
      R"("createdAt":"1970-01-01T00:00:05.000Z","modifiedAt":"1970-01-01T00:00:05.000Z"}})");
  // A token that vanished since the read is rendered as its id; the MCP servers stay ids.
  std::map<std::string, domain::Token> none;
  auto gone = RenderAgent(Sample(), query::Projection{}, &none, nullptr);
  EXPECT_EQ(SerializeJson(gone.at("llmConfig").at("token")), R"({"id":"openai-key"})");
  EXPECT_EQ(SerializeJson(gone.at("mcpServers").at(0).at("mcpServer")), R"({"id":"orders"})");
}

TEST(RenderAgentTest, ExpandMcpServersRendersEachCustomServerAsTheServerRendererDoes) {
  domain::McpServer orders{
      "orders",         "Orders", true,
      "custom",         "sse",    {"https://mcp.example.com/", "Authorization", "orders-token"},
      {3, 7'000, 8'000}};
  std::map<std::string, domain::McpServer> servers{{"orders", orders}};
  std::map<std::string, domain::Token> tokens;
  auto out = RenderAgent(Sample(), query::Projection{}, &tokens, &servers);
  const boost::json::array& entries = out.at("mcpServers").as_array();
  EXPECT_EQ(SerializeJson(entries.at(0)),
            R"({"type":"custom","mcpServer":{"id":"orders","name":"Orders","enabled":true,)"
            R"("type":"custom","transport":"sse","config":{"url":"https://mcp.example.com/",)"
            R"("authorizationHeaderName":"Authorization",)"
            R"("authorizationHeaderToken":{"id":"orders-token"}},)"
            R"("metadata":{"version":3,"createdAt":"1970-01-01T00:00:07.000Z",)"
            R"("modifiedAt":"1970-01-01T00:00:08.000Z"}}})");
  EXPECT_EQ(SerializeJson(entries.at(1)),
            R"({"type":"predefined","domain":"order","tools":["getOrder","listOrders"]})");
  // An expanded read sent back is the same agent.
  auto again = DecodeAgentPut(boost::json::parse(SerializeJson(out)), "complaints");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->resource.mcp_servers, Sample().mcp_servers);
  // A server deleted since the read is rendered as its id.
  std::map<std::string, domain::McpServer> none;
  EXPECT_EQ(SerializeJson(
                RenderAgent(Sample(), query::Projection{}, nullptr, &none).at("mcpServers").at(0)),
            R"({"type":"custom","mcpServer":{"id":"orders"}})");
}

TEST(RenderAgentTest, ProjectionSelectsNestedFields) {
  auto fields = query::ParseFields("id,llmConfig.token.id,llmConfig.model,metadata.version",
                                   domain::AgentSchema());
  ASSERT_TRUE(fields.ok()) << fields.error().message;
  std::map<std::string, domain::Token> tokens{
      {"openai-key", domain::Token{"openai-key", "OpenAI key", {2, 5'000, 6'000}}}};
  EXPECT_EQ(SerializeJson(RenderAgent(Sample(), *fields, &tokens, nullptr)),
            R"({"id":"complaints","llmConfig":{"model":"gpt-4.1-mini",)"
            R"("token":{"id":"openai-key"}},"metadata":{"version":4}})");
  auto whole_token = query::ParseFields("llmConfig.token,mcpServers", domain::AgentSchema());
  ASSERT_TRUE(whole_token.ok());
  EXPECT_EQ(SerializeJson(RenderAgent(Sample(), *whole_token, &tokens, nullptr)),
            R"({"llmConfig":{"token":{"id":"openai-key","name":"OpenAI key",)"
            R"("metadata":{"version":2,"createdAt":"1970-01-01T00:00:05.000Z",)"
            R"("modifiedAt":"1970-01-01T00:00:06.000Z"}}},)"
            R"("mcpServers":[{"type":"custom","mcpServer":{"id":"orders"}},)"
            R"({"type":"predefined","domain":"order","tools":["getOrder","listOrders"]}]})");
}

TEST(SerializeJsonTest, WritesFractionsPlainlyAndEverythingElseAsBoost) {
  EXPECT_EQ(SerializeJson(boost::json::parse(
                R"({"a":[0.1,1.0,2.5,1e300,-0.25],"b":"q\"\u0001","c":null,"d":true,"e":-7})")),
            R"({"a":[0.1,1.0,2.5,1e+300,-0.25],"b":"q\"\u0001","c":null,"d":true,"e":-7})");
}

}  // namespace
}  // namespace ts::api
