#include "store/agent_doc.h"

#include <gtest/gtest.h>

namespace ts::store {
namespace {

domain::Agent Full() {
  domain::Agent a;
  a.id = "not-in-the-document";
  a.name = {{"en", "Orders \"quoted\" \\ \n"}, {"de", std::string("nul\0byte", 8)}};
  a.description = domain::LocalizedText{{"en", "Ünïcödé ✓"}};
  a.tags = std::vector<std::string>{"a", "b"};
  a.user_prompt = "prompt";
  a.llm_config.provider = "self_hosted_vllm";
  a.llm_config.model = "m";
  a.llm_config.temperature_tenths = 10;
  a.llm_config.max_tokens = 5;
  a.llm_config.base_provider = "GOOGLE";
  a.llm_config.self_hosted_params = domain::SelfHostedParams{"https://h", "X-Key", "tok"};
  a.mcp_servers = {{"custom", "s1", std::nullopt, std::nullopt},
                   {"predefined", std::nullopt, "order", std::vector<std::string>{"t1", "t2"}},
                   {"custom", "s2", std::nullopt, std::nullopt}};
  return a;
}

TEST(AgentDocTest, KeepsEveryDocumentFieldAndNoColumnField) {
  const domain::Agent full = Full();
  const std::string doc = EncodeAgentDoc(full);
  EXPECT_EQ(doc.find("not-in-the-document"), std::string::npos);
  EXPECT_EQ(doc.find("\"tok\""), std::string::npos);  // token references are columns
  domain::Agent read;
  ASSERT_TRUE(DecodeAgentDoc(doc, read).ok());
  EXPECT_EQ(read.name, full.name);
  EXPECT_EQ(read.description, full.description);
  EXPECT_EQ(read.tags, full.tags);
  EXPECT_EQ(read.user_prompt, full.user_prompt);
  EXPECT_EQ(read.llm_config.temperature_tenths, 10);
  EXPECT_EQ(read.llm_config.max_tokens, 5);
  EXPECT_EQ(read.llm_config.base_provider, "GOOGLE");
  ASSERT_TRUE(read.llm_config.self_hosted_params);
  EXPECT_EQ(read.llm_config.self_hosted_params->url, "https://h");
  EXPECT_EQ(read.llm_config.self_hosted_params->authorization_header_name, "X-Key");
  EXPECT_EQ(read.mcp_servers, full.mcp_servers);
  EXPECT_TRUE(read.id.empty());
}

TEST(AgentDocTest, ACorruptDocumentIsAnInternalError) {
  for (const char* doc : {"", "[]", "{\"v\":2,\"name\":{},\"mcpServers\":[]}",
                          "{\"v\":1,\"name\":{\"en\":1},\"mcpServers\":[]}",
                          "{\"v\":1,\"name\":{\"en\":\"x\"}}",
                          "{\"v\":1,\"name\":{\"en\":\"x\"},\"mcpServers\":[1]}"}) {
    domain::Agent agent;
    auto r = DecodeAgentDoc(doc, agent);
    ASSERT_FALSE(r.ok()) << doc;
    EXPECT_EQ(r.error().code, ErrorCode::kInternal) << doc;
  }
}

TEST(AgentDocTest, EntriesAreFoundAndRemovedByServerId) {
  domain::Agent a = Full();
  EXPECT_EQ(McpServerEntryField(a, "s2"), "mcpServers[2].mcpServer.id");
  EXPECT_EQ(McpServerEntryField(a, "zz"), "mcpServers");
  EXPECT_TRUE(RemoveMcpServerEntry(a, "s1"));
  EXPECT_FALSE(RemoveMcpServerEntry(a, "s1"));
  ASSERT_EQ(a.mcp_servers.size(), 2u);
  EXPECT_EQ(a.mcp_servers[0].type, "predefined");
  EXPECT_EQ(McpServerEntryField(a, "s2"), "mcpServers[1].mcpServer.id");
}

}  // namespace
}  // namespace ts::store
