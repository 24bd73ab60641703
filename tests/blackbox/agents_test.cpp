// Agents (issue 5): the resource over HTTP on both backends, its references to tokens and MCP
// servers, `expand=token` / `expand=mcpServers`, and the deletes of a referenced token or MCP
// server that refuse (400 listing the agents) or, with force=true, remove the reference. The
// fixture's TearDown checks that no token value registered here appears in any response.
#include "blackbox/contract_fixture.h"

namespace bb {
namespace {
namespace json = boost::json;

BB_CONTRACT_SUITE(AgentTest);

std::string AgentsBase(const Tenant& t) { return "/ai-service/" + t.name + "/agentic/agents"; }
std::string ServersBase(const Tenant& t) {
  return "/ai-service/" + t.name + "/agentic/mcp-servers";
}

struct AgentSpec {
  std::string name = "Complaint agent";
  bool enabled = true;
  std::string provider = "openai";
  std::optional<std::string> token_id;
  std::vector<std::string> mcp_server_ids;  // custom entries, then one predefined entry
  std::string type = "complaint";
};

json::object AgentObject(const AgentSpec& spec) {
  json::object llm{{"provider", spec.provider},
                   {"model", "gpt-4.1-mini"},
                   {"temperature", 0.3},
                   {"maxTokens", 1000}};
  if (spec.token_id) llm["token"] = json::object{{"id", *spec.token_id}};
  json::array servers;
  for (const std::string& id : spec.mcp_server_ids) {
    servers.push_back(json::object{{"type", "custom"}, {"mcpServer", json::object{{"id", id}}}});
  }
  servers.push_back(json::object{
      {"type", "predefined"}, {"domain", "order"}, {"tools", json::array{"getOrder"}}});
  return json::object{{"name", json::object{{"en", spec.name}, {"de", spec.name + " (de)"}}},
                      {"description", json::object{{"en", "Handles complaints"}}},
                      {"enabled", spec.enabled},
                      {"type", spec.type},
                      {"tags", json::array{"support"}},
                      {"userPrompt", "You handle complaints."},
                      {"llmConfig", llm},
                      {"mcpServers", servers}};
}

std::string AgentBody(const AgentSpec& spec) { return json::serialize(AgentObject(spec)); }

std::string ServerBody(const std::string& name, const std::optional<std::string>& token_id) {
  json::object config{{"url", "https://mcp.example.com/x"}};
  if (token_id) {
    config["authorizationHeaderName"] = "Authorization";
    config["authorizationHeaderToken"] = json::object{{"id", *token_id}};
  }
  return json::serialize(json::object{
      {"name", name}, {"enabled", true}, {"transport", "streamable_http"}, {"config", config}});
}

// The `field` and `type` of every detail of an error body.
std::vector<std::pair<std::string, std::string>> DetailFieldsAndTypes(const json::value& error) {
  std::vector<std::pair<std::string, std::string>> out;
  const json::value details = At(error, "details");  // At returns a copy: keep it alive
  if (!details.is_array()) return out;
  for (const json::value& d : details.as_array()) {
    out.emplace_back(Str(At(d, "field")), Str(At(d, "type")));
  }
  return out;
}

json::value Entry(const json::value& agent, std::size_t i) {
  const json::value servers = At(agent, "mcpServers");
  if (!servers.is_array() || servers.as_array().size() <= i) return nullptr;
  return servers.as_array()[i];
}

TEST_P(AgentTest, CreateReadAndExpandTokensAndMcpServersWithoutAnyValue) {
  Tenant t = NewTenant();
  ASSERT_TRUE(Create(t, "openai-key", "OpenAI key", NewValue()));
  ASSERT_TRUE(Create(t, "orders-token", "Orders key", NewValue()));
  ASSERT_EQ(
      Call("PUT", ServersBase(t) + "/orders", t.rw, ServerBody("Orders", "orders-token")).status,
      201);
  AgentSpec spec;
  spec.token_id = "openai-key";
  spec.mcp_server_ids = {"orders"};
  HttpResponse created = Call("PUT", AgentsBase(t) + "/complaints", t.rw, AgentBody(spec));
  ASSERT_EQ(created.status, 201) << created.Dump();
  EXPECT_EQ(Str(At(ParseBody(created), "id")), "complaints");
  EXPECT_EQ(created.Header("Location"), AgentsBase(t) + "/complaints");
  EXPECT_EQ(created.Header("ETag"), "\"1\"");

  HttpResponse read = Call("GET", AgentsBase(t) + "/complaints", t.read);
  ASSERT_EQ(read.status, 200) << read.Dump();
  EXPECT_EQ(read.Header("ETag"), "\"1\"");
  // Exactly as written: the temperature is 0.3 in the text, not 3E-1.
  EXPECT_NE(read.body.find(R"("temperature":0.3,)"), std::string::npos) << read.body;
  json::value agent = ParseBody(read);
  EXPECT_EQ(Keys(agent),
            (std::vector<std::string>{"description", "enabled", "id", "llmConfig", "mcpServers",
                                      "metadata", "name", "tags", "type", "userPrompt"}));
  json::value written = AgentObject(spec);
  for (const char* field : {"name", "description", "enabled", "type", "tags", "userPrompt",
                            "llmConfig", "mcpServers"}) {
    // json::value equality ignores the order of object members (name is rendered sorted).
    EXPECT_TRUE(At(agent, field) == At(written, field))
        << field << ": " << Serialize(At(agent, field)) << " != " << Serialize(At(written, field));
  }
  EXPECT_EQ(Int(At(agent, "metadata.version")), 1);

  HttpResponse with_token = Call("GET", AgentsBase(t) + "/complaints?expand=token", t.read);
  ASSERT_EQ(with_token.status, 200) << with_token.Dump();
  json::value token = At(ParseBody(with_token), "llmConfig.token");
  EXPECT_EQ(Keys(token), (std::vector<std::string>{"id", "metadata", "name"}));
  EXPECT_EQ(Str(At(token, "name")), "OpenAI key");
  EXPECT_EQ(Serialize(At(Entry(ParseBody(with_token), 0), "mcpServer")), R"({"id":"orders"})");

  HttpResponse with_servers = Call("GET", AgentsBase(t) + "/complaints?expand=mcpServers", t.read);
  ASSERT_EQ(with_servers.status, 200) << with_servers.Dump();
  json::value server = At(Entry(ParseBody(with_servers), 0), "mcpServer");
  EXPECT_EQ(Keys(server), (std::vector<std::string>{"config", "enabled", "id", "metadata", "name",
                                                    "transport", "type"}));
  EXPECT_EQ(Str(At(server, "name")), "Orders");
  EXPECT_EQ(Serialize(At(server, "config.authorizationHeaderToken")), R"({"id":"orders-token"})");
  EXPECT_EQ(Serialize(At(ParseBody(with_servers), "llmConfig.token")), R"({"id":"openai-key"})");
  EXPECT_EQ(Serialize(Entry(ParseBody(with_servers), 1)), Serialize(Entry(written, 1)));

  HttpResponse both = Call("GET", AgentsBase(t) + "?expand=mcpServers,token", t.read);
  ASSERT_EQ(both.status, 200) << both.Dump();
  const json::value list = ParseBody(both);
  ASSERT_TRUE(list.is_array() && list.as_array().size() == 1) << both.Dump();
  EXPECT_EQ(Str(At(list.as_array().at(0), "llmConfig.token.name")), "OpenAI key");
  EXPECT_EQ(Str(At(Entry(list.as_array().at(0), 0), "mcpServer.name")), "Orders");
  ExpectBadRequest(Call("GET", AgentsBase(t) + "/complaints?expand=value", t.read));
  ExpectBadRequest(Call("GET", AgentsBase(t) + "?expand=token,", t.read));

  // What a read returned, expanded or not, can be sent back as an update.
  HttpResponse again = Call("PUT", AgentsBase(t) + "/complaints", t.rw, Serialize(agent));
  EXPECT_EQ(again.status, 204) << again.Dump();
  // Read expanded again: the PUT above made version 2, and a body still saying version 1
  // would rightly be a 409.
  HttpResponse reread = Call("GET", AgentsBase(t) + "/complaints?expand=mcpServers,token", t.read);
  ASSERT_EQ(reread.status, 200) << reread.Dump();
  HttpResponse expanded_again =
      Call("PUT", AgentsBase(t) + "/complaints", t.rw, Serialize(ParseBody(reread)));
  EXPECT_EQ(expanded_again.status, 204) << expanded_again.Dump();
  json::value after = ParseBody(Call("GET", AgentsBase(t) + "/complaints", t.read));
  EXPECT_EQ(Int(At(after, "metadata.version")), 3);
  EXPECT_TRUE(At(after, "llmConfig") == At(written, "llmConfig")) << Serialize(after);
  EXPECT_EQ(VersionOf(t, "openai-key"), 1);
}

TEST_P(AgentTest, AReferenceToATokenOrMcpServerThatDoesNotExistInTheTenantIs400NamingTheField) {
  Tenant t = NewTenant();
  Tenant other = NewTenant();
  ASSERT_TRUE(Create(other, "theirs", "n", NewValue()));
  ASSERT_EQ(Call("PUT", ServersBase(other) + "/their-server", other.rw, ServerBody("S", {})).status,
            201);
  ASSERT_TRUE(Create(t, "key", "n", NewValue()));
  for (const std::string token_id : {"missing", "theirs"}) {
    AgentSpec spec;
    spec.token_id = token_id;
    HttpResponse r = Call("PUT", AgentsBase(t) + "/a", t.rw, AgentBody(spec));
    ExpectBadRequest(r);
    EXPECT_TRUE(ErrorMentions(r, "llmConfig.token.id")) << r.Dump();
  }
  for (const std::string server_id : {"missing", "their-server"}) {
    AgentSpec spec;
    spec.token_id = "key";
    spec.mcp_server_ids = {server_id};
    HttpResponse r = Call("PUT", AgentsBase(t) + "/a", t.rw, AgentBody(spec));
    ExpectBadRequest(r);
    EXPECT_TRUE(ErrorMentions(r, "mcpServers[0].mcpServer.id")) << r.Dump();
  }
  ExpectNotFound(Call("GET", AgentsBase(t) + "/a", t.read), "a");
}

TEST_P(AgentTest, FieldRulesAre400NamingTheField) {
  Tenant t = NewTenant();
  ASSERT_TRUE(Create(t, "key", "n", NewValue()));
  AgentSpec spec;
  spec.token_id = "key";
  const json::object valid = AgentObject(spec);
  struct Case {
    std::string pointer;  // JSON pointer of the member of the valid body to change
    json::value value;    // null: remove
    std::string field;
  };
  const Case cases[] = {
      {"/name", nullptr, "name"},
      {"/name", json::object{}, "name"},
      {"/name", json::object{{"EN", "x"}}, "name"},
      {"/userPrompt", " ", "userPrompt"},
      {"/type", "sales", "type"},
      {"/enabled", "yes", "enabled"},
      {"/llmConfig/provider", "mistral", "llmConfig.provider"},
      {"/llmConfig/temperature", 0.35, "llmConfig.temperature"},
      {"/llmConfig/temperature", 1.5, "llmConfig.temperature"},
      {"/llmConfig/maxTokens", 0, "llmConfig.maxTokens"},
      {"/llmConfig/token", nullptr, "llmConfig.token.id"},
      {"/llmConfig/selfHostedParams", json::object{{"url", "http://h/"}},
       "llmConfig.selfHostedParams"},
      {"/mcpServers", nullptr, "mcpServers"},
      {"/mcpServers/0/type", "dynamic", "mcpServers[0].type"},
      {"/mcpServers/0/domain", "billing", "mcpServers[0].domain"},
      {"/triggers", json::array{}, "triggers"},
      {"/nativeTools", json::array{}, "nativeTools"},
      {"/agentCollaborations", json::array{}, "agentCollaborations"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.pointer + " " + c.field);
    json::value body = valid;
    const std::size_t slash = c.pointer.rfind('/');
    boost::system::error_code ec;
    json::value* parent = slash == 0 ? &body : body.find_pointer(c.pointer.substr(0, slash), ec);
    ASSERT_NE(parent, nullptr);
    const std::string key = c.pointer.substr(slash + 1);
    ASSERT_TRUE(parent->is_object());
    if (c.value.is_null()) {
      parent->as_object().erase(key);
    } else {
      parent->as_object()[key] = c.value;
    }
    HttpResponse r = Call("PUT", AgentsBase(t) + "/a", t.rw, Serialize(body));
    ExpectBadRequest(r);
    EXPECT_TRUE(ErrorMentions(r, c.field)) << r.Dump();
  }
}

TEST_P(AgentTest, ListsFilterSortPageAndCountLikeTokens) {
  Tenant t = NewTenant();
  ASSERT_TRUE(Create(t, "key", "n", NewValue()));
  for (int i = 1; i <= 3; ++i) {
    AgentSpec spec;
    spec.enabled = i != 3;
    spec.provider = i == 2 ? "emporix_openai" : "openai";
    if (i != 2) spec.token_id = "key";
    spec.type = i == 1 ? "generic" : "complaint";
    HttpResponse r = Call("PUT", AgentsBase(t) + "/" + Named("agent-", i), t.rw, AgentBody(spec));
    ASSERT_EQ(r.status, 201) << r.Dump();
  }
  auto ids = [&](const std::string& query) {
    HttpResponse r = Call("GET", AgentsBase(t) + "?" + query, t.read);
    EXPECT_EQ(r.status, 200) << r.Dump();
    return r.status == 200 ? Ids(ParseBody(r).as_array()) : std::vector<std::string>{};
  };
  EXPECT_EQ(ids(""), (std::vector<std::string>{"agent-1", "agent-2", "agent-3"}));
  EXPECT_EQ(ids("q=enabled:true"), (std::vector<std::string>{"agent-1", "agent-2"}));
  EXPECT_EQ(ids("q=llmConfig.provider:emporix_openai"), (std::vector<std::string>{"agent-2"}));
  EXPECT_EQ(ids("q=type:complaint"), (std::vector<std::string>{"agent-2", "agent-3"}));
  EXPECT_EQ(ids("q=llmConfig.token.id:key"), (std::vector<std::string>{"agent-1", "agent-3"}));
  EXPECT_EQ(ids("q=llmConfig.token.id:missing"), (std::vector<std::string>{"agent-2"}));
  EXPECT_EQ(ids("q=llmConfig.model:~GPT"),
            (std::vector<std::string>{"agent-1", "agent-2", "agent-3"}));
  EXPECT_EQ(ids("sort=enabled:desc,id:desc"),
            (std::vector<std::string>{"agent-2", "agent-1", "agent-3"}));
  EXPECT_EQ(ids("fields=id&pageSize=1&pageNumber=2"), (std::vector<std::string>{"agent-2"}));
  HttpResponse projected =
      Call("GET", AgentsBase(t) + "/agent-1?fields=id,llmConfig.provider", t.read);
  ASSERT_EQ(projected.status, 200) << projected.Dump();
  EXPECT_EQ(projected.body, R"({"id":"agent-1","llmConfig":{"provider":"openai"}})");
  HttpResponse counted = Call("POST", AgentsBase(t) + "/search?pageSize=1", t.read,
                              R"({"q":"enabled:true"})", {{"X-Total-Count", "true"}});
  ASSERT_EQ(counted.status, 200) << counted.Dump();
  EXPECT_EQ(counted.Header("X-Total-Count"), "2");
  EXPECT_EQ(ParseBody(counted).as_array().size(), 1u);
  // Localized names and tags are not queryable or sortable (yet).
  ExpectBadRequest(Call("GET", AgentsBase(t) + "?q=name.en:x", t.read));
  ExpectBadRequest(Call("GET", AgentsBase(t) + "?sort=name", t.read));
  ExpectBadRequest(Call("GET", AgentsBase(t) + "?q=value:x", t.read));
  ExpectBadRequest(Call("GET", AgentsBase(t) + "?sort=type", t.read));  // optional: unsortable
  // Scopes and tenants as for tokens.
  ExpectForbidden(Call("GET", AgentsBase(t), t.manage));
  ExpectForbidden(Call("GET", AgentsBase(t) + "/agent-1", t.manage));
  ExpectForbidden(Call("PUT", AgentsBase(t) + "/x", t.read, AgentBody(AgentSpec{})));
  ExpectForbidden(
      Call("PATCH", AgentsBase(t) + "/agent-1", t.read, R"([{"op":"REMOVE","path":"/enabled"}])"));
  ExpectForbidden(Call("DELETE", AgentsBase(t) + "/agent-1", t.read));
  Tenant other = NewTenant();
  ExpectForbidden(Call("GET", AgentsBase(t), other.rw));
  EXPECT_EQ(Call("GET", AgentsBase(other), other.rw).body, "[]");
  ExpectNotFound(Call("GET", AgentsBase(other) + "/agent-1", other.rw), "agent-1");
}

TEST_P(AgentTest, VersionsLocksAndDelete) {
  Tenant t = NewTenant();
  AgentSpec spec;
  spec.provider = "emporix_openai";
  const std::string item = AgentsBase(t) + "/a";
  json::object with_version = AgentObject(spec);
  with_version["metadata"] = json::object{{"version", 1}};
  ExpectNotFound(Call("PUT", item, t.rw, Serialize(with_version)), "a");
  ASSERT_EQ(Call("PUT", item, t.rw, AgentBody(spec)).status, 201);
  HttpResponse updated = Call("PUT", item, t.rw, Serialize(with_version));
  EXPECT_EQ(updated.status, 204) << updated.Dump();
  EXPECT_EQ(updated.Header("ETag"), "\"2\"");
  ExpectConflict(Call("PUT", item, t.rw, Serialize(with_version)));  // version is 2 now
  ExpectPreconditionFailed(Call("PUT", item, t.rw, AgentBody(spec), {{"If-Match", "\"1\""}}));
  EXPECT_EQ(Call("PUT", item, t.rw, AgentBody(spec), {{"If-Match", "\"2\""}}).status, 204);
  ExpectPreconditionFailed(Call("DELETE", item, t.rw, std::nullopt, {{"If-Match", "\"1\""}}));
  ExpectBadRequest(Call("DELETE", item + "?force=maybe", t.rw));
  EXPECT_EQ(Call("DELETE", item, t.rw, std::nullopt, {{"If-Match", "\"3\""}}).status, 204);
  EXPECT_EQ(Call("DELETE", item, t.rw).status, 204);  // idempotent
  EXPECT_EQ(Call("DELETE", item + "?force=true", t.rw).status, 204);
  ExpectNotFound(Call("GET", item, t.read), "a");
}

TEST_P(AgentTest, PatchSetsAndRemovesFieldsIncludingTheTokenReference) {
  Tenant t = NewTenant();
  ASSERT_TRUE(Create(t, "key", "n", NewValue()));
  ASSERT_TRUE(Create(t, "key-2", "n", NewValue()));
  AgentSpec spec;
  spec.token_id = "key";
  const std::string item = AgentsBase(t) + "/a";
  ASSERT_EQ(Call("PUT", item, t.rw, AgentBody(spec)).status, 201);
  HttpResponse patched =
      Call("PATCH", item, t.rw,
           R"([{"op":"REPLACE","path":"/name/en","value":"Renamed"},)"
           R"({"op":"replace","path":"/enabled","value":false},)"
           R"({"op":"ADD","path":"/name/fr","value":"Agent des plaintes"},)"
           R"({"op":"REPLACE","path":"/llmConfig/token","value":{"id":"key-2"}}])",
           {{"If-Match", "\"1\""}});
  EXPECT_EQ(patched.status, 204) << patched.Dump();
  EXPECT_EQ(patched.Header("ETag"), "\"2\"");
  json::value agent = ParseBody(Call("GET", item, t.read));
  EXPECT_EQ(Str(At(agent, "name.en")), "Renamed");
  EXPECT_EQ(Str(At(agent, "name.fr")), "Agent des plaintes");
  EXPECT_EQ(At(agent, "enabled"), json::value(false));
  EXPECT_EQ(Str(At(agent, "llmConfig.token.id")), "key-2");
  EXPECT_EQ(Int(At(agent, "metadata.version")), 2);

  HttpResponse missing = Call(
      "PATCH", item, t.rw, R"([{"op":"REPLACE","path":"/llmConfig/token","value":{"id":"no"}}])");
  ExpectBadRequest(missing);
  EXPECT_TRUE(ErrorMentions(missing, "llmConfig.token.id")) << missing.Dump();
  // An openai agent needs its token: removing it is refused by the result's validation.
  HttpResponse removed =
      Call("PATCH", item, t.rw, R"([{"op":"REMOVE","path":"/llmConfig/token"}])");
  ExpectBadRequest(removed);
  EXPECT_TRUE(ErrorMentions(removed, "llmConfig.token.id")) << removed.Dump();
  ExpectBadRequest(Call("PATCH", item, t.rw, R"([{"op":"REMOVE","path":"/userPrompt"}])"));
  ExpectBadRequest(
      Call("PATCH", item, t.rw, R"([{"op":"REPLACE","path":"/llmConfig/temperature","value":1}])"));
  ExpectBadRequest(Call("PATCH", item, t.rw, R"([{"op":"REPLACE","path":"/id","value":"x"}])"));
  ExpectBadRequest(Call("PATCH", item, t.rw, R"({"op":"REMOVE","path":"/enabled"})"));
  ExpectPreconditionFailed(
      Call("PATCH", item, t.rw, R"([{"op":"REMOVE","path":"/enabled"}])", {{"If-Match", "\"1\""}}));
  ExpectNotFound(
      Call("PATCH", AgentsBase(t) + "/ghost", t.rw, R"([{"op":"REMOVE","path":"/enabled"}])"),
      "ghost");
  agent = ParseBody(Call("GET", item, t.read));
  EXPECT_EQ(Int(At(agent, "metadata.version")), 2);
  // The first token is unreferenced now: it deletes without force.
  EXPECT_EQ(Call("DELETE", t.Item("key"), t.rw).status, 204);
}

TEST_P(AgentTest, DeletingATokenAnAgentUsesNeedsForceAndThenRemovesTheReference) {
  Tenant t = NewTenant();
  ASSERT_TRUE(Create(t, "key", "n", NewValue()));
  AgentSpec spec;
  spec.token_id = "key";
  ASSERT_EQ(Call("PUT", AgentsBase(t) + "/b", t.rw, AgentBody(spec)).status, 201);
  ASSERT_EQ(Call("PUT", AgentsBase(t) + "/a", t.rw, AgentBody(spec)).status, 201);

  HttpResponse refused = Call("DELETE", t.Item("key"), t.rw);
  ExpectBadRequest(refused);
  using Detail = std::pair<std::string, std::string>;
  EXPECT_EQ(DetailFieldsAndTypes(ParseBody(refused)),
            (std::vector<Detail>{{"agent/a/llmConfig.token.id", "referenced"},
                                 {"agent/b/llmConfig.token.id", "referenced"}}))
      << refused.Dump();
  EXPECT_EQ(Call("GET", t.Item("key"), t.read).status, 200);
  ExpectBadRequest(Call("DELETE", t.Item("key") + "?force=false", t.rw));

  const std::int64_t before = NowMillis();
  EXPECT_EQ(Call("DELETE", t.Item("key") + "?force=true", t.rw).status, 204);
  ExpectNotFound(Call("GET", t.Item("key"), t.read), "key");
  for (const std::string id : {"a", "b"}) {
    HttpResponse r = Call("GET", AgentsBase(t) + "/" + id + "?expand=token", t.read);
    ASSERT_EQ(r.status, 200) << r.Dump();
    json::value agent = ParseBody(r);
    EXPECT_TRUE(At(agent, "llmConfig.token").is_null()) << r.body;
    EXPECT_EQ(Str(At(agent, "llmConfig.provider")), "openai");
    EXPECT_EQ(Int(At(agent, "metadata.version")), 2);
    auto modified = ParseApiTimestamp(Str(At(agent, "metadata.modifiedAt")));
    ASSERT_TRUE(modified.has_value());
    EXPECT_GE(*modified, before - 1000);
  }
}

TEST_P(AgentTest, DeletingAnMcpServerAnAgentUsesNeedsForceAndThenRemovesTheEntry) {
  Tenant t = NewTenant();
  ASSERT_EQ(Call("PUT", ServersBase(t) + "/orders", t.rw, ServerBody("Orders", {})).status, 201);
  ASSERT_EQ(Call("PUT", ServersBase(t) + "/other", t.rw, ServerBody("Other", {})).status, 201);
  AgentSpec spec;
  spec.provider = "emporix_openai";
  spec.mcp_server_ids = {"orders", "other"};
  ASSERT_EQ(Call("PUT", AgentsBase(t) + "/a", t.rw, AgentBody(spec)).status, 201);

  HttpResponse refused = Call("DELETE", ServersBase(t) + "/orders", t.rw);
  ExpectBadRequest(refused);
  using Detail = std::pair<std::string, std::string>;
  EXPECT_EQ(DetailFieldsAndTypes(ParseBody(refused)),
            (std::vector<Detail>{{"agent/a/mcpServers[0].mcpServer.id", "referenced"}}))
      << refused.Dump();
  EXPECT_EQ(Call("GET", ServersBase(t) + "/orders", t.read).status, 200);

  EXPECT_EQ(Call("DELETE", ServersBase(t) + "/orders?force=true", t.rw).status, 204);
  ExpectNotFound(Call("GET", ServersBase(t) + "/orders", t.read), "orders");
  HttpResponse r = Call("GET", AgentsBase(t) + "/a", t.read);
  ASSERT_EQ(r.status, 200) << r.Dump();
  json::value agent = ParseBody(r);
  EXPECT_EQ(Int(At(agent, "metadata.version")), 2);
  const json::value entries = At(agent, "mcpServers");
  ASSERT_TRUE(entries.is_array()) << r.body;
  ASSERT_EQ(entries.as_array().size(), 2u) << r.body;
  EXPECT_EQ(Serialize(entries.as_array()[0]), R"({"type":"custom","mcpServer":{"id":"other"}})");
  EXPECT_EQ(Str(At(entries.as_array()[1], "type")), "predefined");
  // The remaining server is now listed at position 0 and is still protected.
  HttpResponse still = Call("DELETE", ServersBase(t) + "/other", t.rw);
  ExpectBadRequest(still);
  EXPECT_EQ(DetailFieldsAndTypes(ParseBody(still)),
            (std::vector<Detail>{{"agent/a/mcpServers[0].mcpServer.id", "referenced"}}));
}

// The vendor's `force` on an MCP server's PUT and PATCH: disabling a server that enabled agents
// use is a 400 naming them (nothing changes); with force=true the server and those agents are
// disabled together.
TEST_P(AgentTest, DisablingAnMcpServerEnabledAgentsUseNeedsForceAndThenDisablesThem) {
  Tenant t = NewTenant();
  ASSERT_EQ(Call("PUT", ServersBase(t) + "/orders", t.rw, ServerBody("Orders", {})).status, 201);
  AgentSpec spec;
  spec.provider = "emporix_openai";
  spec.mcp_server_ids = {"orders"};
  ASSERT_EQ(Call("PUT", AgentsBase(t) + "/on", t.rw, AgentBody(spec)).status, 201);
  spec.enabled = false;
  ASSERT_EQ(Call("PUT", AgentsBase(t) + "/off", t.rw, AgentBody(spec)).status, 201);

  json::object disabled = ParseBody(Call("GET", ServersBase(t) + "/orders", t.read)).as_object();
  disabled["enabled"] = false;
  disabled.erase("metadata");
  const std::string body = json::serialize(disabled);
  using Detail = std::pair<std::string, std::string>;
  for (const std::string query : {"", "?force=false"}) {
    HttpResponse refused = Call("PUT", ServersBase(t) + "/orders" + query, t.rw, body);
    ExpectBadRequest(refused);
    EXPECT_EQ(DetailFieldsAndTypes(ParseBody(refused)),
              (std::vector<Detail>{{"agent/on/mcpServers[0].mcpServer.id", "usedByEnabledAgent"}}))
        << refused.Dump();
  }
  HttpResponse bad_force = Call("PUT", ServersBase(t) + "/orders?force=maybe", t.rw, body);
  ExpectBadRequest(bad_force);
  EXPECT_TRUE(ErrorMentions(bad_force, "force")) << bad_force.Dump();
  const std::string patch = R"([{"op":"REPLACE","path":"/enabled","value":false}])";
  ExpectBadRequest(Call("PATCH", ServersBase(t) + "/orders", t.rw, patch));
  json::value server = ParseBody(Call("GET", ServersBase(t) + "/orders", t.read));
  EXPECT_EQ(At(server, "enabled"), json::value(true));
  EXPECT_EQ(Int(At(server, "metadata.version")), 1);
  EXPECT_EQ(At(ParseBody(Call("GET", AgentsBase(t) + "/on", t.read)), "enabled"),
            json::value(true));

  // PATCH with force=true: the server and the enabled agent are disabled, the other agent is
  // left alone.
  HttpResponse forced = Call("PATCH", ServersBase(t) + "/orders?force=true", t.rw, patch);
  ASSERT_EQ(forced.status, 204) << forced.Dump();
  server = ParseBody(Call("GET", ServersBase(t) + "/orders", t.read));
  EXPECT_EQ(At(server, "enabled"), json::value(false));
  EXPECT_EQ(Int(At(server, "metadata.version")), 2);
  json::value on = ParseBody(Call("GET", AgentsBase(t) + "/on", t.read));
  EXPECT_EQ(At(on, "enabled"), json::value(false));
  EXPECT_EQ(Int(At(on, "metadata.version")), 2);
  EXPECT_EQ(Int(At(ParseBody(Call("GET", AgentsBase(t) + "/off", t.read)), "metadata.version")), 1);

  // Enabled again, and used by a re-enabled agent: PUT with force=true disables both.
  disabled["enabled"] = true;
  ASSERT_EQ(Call("PUT", ServersBase(t) + "/orders", t.rw, json::serialize(disabled)).status, 204);
  spec.enabled = true;
  ASSERT_EQ(Call("PUT", AgentsBase(t) + "/off", t.rw, AgentBody(spec)).status, 204);
  ASSERT_EQ(Call("PUT", ServersBase(t) + "/orders?force=true", t.rw, body).status, 204);
  EXPECT_EQ(At(ParseBody(Call("GET", AgentsBase(t) + "/off", t.read)), "enabled"),
            json::value(false));
}

}  // namespace
}  // namespace bb
