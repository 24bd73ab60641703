// MCP servers (issue 5): the resource over HTTP on both backends, its reference to a token,
// `expand=token`, and the token delete that refuses (400 listing referrers) or, with
// force=true, removes the reference. The fixture's TearDown checks that no token value
// registered here appears in any response.
#include "blackbox/contract_fixture.h"

namespace bb {
namespace {
namespace json = boost::json;

BB_CONTRACT_SUITE(McpServerTest);

std::string ServersBase(const Tenant& t) {
  return "/ai-service/" + t.name + "/agentic/mcp-servers";
}

std::string ServerBody(const std::string& name, const std::optional<std::string>& token_id,
                       bool enabled = true, const std::string& url = "https://mcp.example.com/x") {
  json::object config{{"url", url}, {"authorizationHeaderName", "Authorization"}};
  if (token_id) config["authorizationHeaderToken"] = json::object{{"id", *token_id}};
  return json::serialize(json::object{{"name", name},
                                      {"enabled", enabled},
                                      {"type", "custom"},
                                      {"transport", "streamable_http"},
                                      {"config", config}});
}

TEST_P(McpServerTest, CreateReadAndExpandTheTokenWithoutItsValue) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "orders-token", "Orders key", value));
  HttpResponse created =
      Call("PUT", ServersBase(t) + "/orders", t.rw, ServerBody("Orders", "orders-token"));
  ASSERT_EQ(created.status, 201) << created.Dump();
  EXPECT_EQ(Str(At(ParseBody(created), "id")), "orders");
  EXPECT_EQ(created.Header("Location"), ServersBase(t) + "/orders");

  HttpResponse read = Call("GET", ServersBase(t) + "/orders", t.read);
  ASSERT_EQ(read.status, 200) << read.Dump();
  EXPECT_EQ(read.Header("ETag"), "\"1\"");
  json::value server = ParseBody(read);
  EXPECT_EQ(Keys(server), (std::vector<std::string>{"config", "enabled", "id", "metadata", "name",
                                                    "transport", "type"}));
  EXPECT_EQ(Str(At(server, "name")), "Orders");
  EXPECT_EQ(At(server, "enabled"), json::value(true));
  EXPECT_EQ(Str(At(server, "type")), "custom");
  EXPECT_EQ(Str(At(server, "transport")), "streamable_http");
  EXPECT_EQ(Str(At(server, "config.url")), "https://mcp.example.com/x");
  EXPECT_EQ(Str(At(server, "config.authorizationHeaderName")), "Authorization");
  EXPECT_EQ(Serialize(At(server, "config.authorizationHeaderToken")), R"({"id":"orders-token"})");
  EXPECT_EQ(Int(At(server, "metadata.version")), 1);

  HttpResponse expanded = Call("GET", ServersBase(t) + "/orders?expand=token", t.read);
  ASSERT_EQ(expanded.status, 200) << expanded.Dump();
  json::value token = At(ParseBody(expanded), "config.authorizationHeaderToken");
  EXPECT_EQ(Keys(token), (std::vector<std::string>{"id", "metadata", "name"}));
  EXPECT_EQ(Str(At(token, "name")), "Orders key");
  HttpResponse listed = Call("GET", ServersBase(t) + "?expand=token", t.read);
  ASSERT_EQ(listed.status, 200) << listed.Dump();
  const json::value list = ParseBody(listed);
  ASSERT_TRUE(list.is_array() && list.as_array().size() == 1) << listed.Dump();
  EXPECT_EQ(Str(At(list.as_array().at(0), "config.authorizationHeaderToken.name")), "Orders key");
  ExpectBadRequest(Call("GET", ServersBase(t) + "/orders?expand=value", t.read));

  // What a read returned can be sent back as an update.
  HttpResponse again = Call("PUT", ServersBase(t) + "/orders", t.rw, Serialize(server));
  EXPECT_EQ(again.status, 204) << again.Dump();
  EXPECT_EQ(VersionOf(t, "orders-token"), 1);
}

TEST_P(McpServerTest, AReferenceToATokenThatDoesNotExistInTheTenantIs400NamingTheField) {
  Tenant t = NewTenant();
  Tenant other = NewTenant();
  ASSERT_TRUE(Create(other, "theirs", "n", NewValue()));
  for (const std::string token_id : {"missing", "theirs"}) {
    HttpResponse r = Call("PUT", ServersBase(t) + "/s", t.rw, ServerBody("S", token_id));
    ExpectBadRequest(r);
    EXPECT_TRUE(ErrorMentions(r, "config.authorizationHeaderToken.id")) << r.Dump();
  }
  ExpectNotFound(Call("GET", ServersBase(t) + "/s", t.read), "s");
}

TEST_P(McpServerTest, FieldRulesAre400NamingTheField) {
  Tenant t = NewTenant();
  struct Case {
    std::string body;
    std::string field;
  };
  const Case cases[] = {
      {R"({"transport":"sse","config":{"url":"http://h/"}})", "name"},
      {R"({"name":"n","transport":"stdio","config":{"url":"http://h/"}})", "transport"},
      {R"({"name":"n","type":"dynamic","transport":"sse","config":{"url":"http://h/"}})", "type"},
      {R"({"name":"n","transport":"sse","config":{"url":"ftp://h/"}})", "config.url"},
      {R"({"name":"n","transport":"sse","config":{"url":"http://h/","authorizationHeaderName":"a b"}})",
       "config.authorizationHeaderName"},
      {R"({"name":"n","transport":"sse","enabled":"yes","config":{"url":"http://h/"}})", "enabled"},
      {R"({"name":"n","transport":"sse","config":{"url":"http://h/"},"tools":[]})", "tools"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    HttpResponse r = Call("PUT", ServersBase(t) + "/s", t.rw, c.body);
    ExpectBadRequest(r);
    EXPECT_TRUE(ErrorMentions(r, c.field)) << r.Dump();
  }
}

TEST_P(McpServerTest, DeletingAReferencedTokenNeedsForceAndThenRemovesTheReference) {
  Tenant t = NewTenant();
  ASSERT_TRUE(Create(t, "tok", "n", NewValue()));
  ASSERT_EQ(Call("PUT", ServersBase(t) + "/b", t.rw, ServerBody("B", "tok")).status, 201);
  ASSERT_EQ(Call("PUT", ServersBase(t) + "/a", t.rw, ServerBody("A", "tok")).status, 201);

  HttpResponse refused = Call("DELETE", t.Item("tok"), t.rw);
  ExpectBadRequest(refused);
  json::value error = ParseBody(refused);
  const json::value details = At(error, "details");  // At returns a copy: keep it alive
  ASSERT_TRUE(details.is_array()) << refused.Dump();
  std::vector<std::string> fields;
  for (const json::value& d : details.as_array()) fields.push_back(Str(At(d, "field")));
  EXPECT_EQ(fields, (std::vector<std::string>{"mcpServer/a/config.authorizationHeaderToken.id",
                                              "mcpServer/b/config.authorizationHeaderToken.id"}));
  EXPECT_EQ(Call("GET", t.Item("tok"), t.read).status, 200);
  ExpectBadRequest(Call("DELETE", t.Item("tok") + "?force=false", t.rw));

  const std::int64_t before = NowMillis();
  EXPECT_EQ(Call("DELETE", t.Item("tok") + "?force=true", t.rw).status, 204);
  ExpectNotFound(Call("GET", t.Item("tok"), t.read), "tok");
  for (const std::string id : {"a", "b"}) {
    HttpResponse r = Call("GET", ServersBase(t) + "/" + id, t.read);
    ASSERT_EQ(r.status, 200) << r.Dump();
    json::value server = ParseBody(r);
    EXPECT_TRUE(At(server, "config.authorizationHeaderToken").is_null()) << r.body;
    EXPECT_EQ(Str(At(server, "config.authorizationHeaderName")), "Authorization");
    EXPECT_EQ(Int(At(server, "metadata.version")), 2);
    auto modified = ParseApiTimestamp(Str(At(server, "metadata.modifiedAt")));
    ASSERT_TRUE(modified.has_value());
    EXPECT_GE(*modified, before - 1000);
  }
}

TEST_P(McpServerTest, ListsFilterSortPageAndCountLikeTokens) {
  Tenant t = NewTenant();
  ASSERT_EQ(Call("PUT", ServersBase(t) + "/c", t.rw,
                 ServerBody("Gamma", std::nullopt, false, "https://c.example.org/"))
                .status,
            201);
  ASSERT_EQ(Call("PUT", ServersBase(t) + "/a", t.rw,
                 ServerBody("Alpha", std::nullopt, true, "https://orders.example.com/"))
                .status,
            201);
  ASSERT_EQ(Call("PUT", ServersBase(t) + "/b", t.rw,
                 ServerBody("Beta", std::nullopt, true, "https://b.example.org/"))
                .status,
            201);
  auto ids = [&](const std::string& query) {
    HttpResponse r = Call("GET", ServersBase(t) + "?" + query, t.read);
    EXPECT_EQ(r.status, 200) << r.Dump();
    return r.status == 200 ? Ids(ParseBody(r).as_array()) : std::vector<std::string>{};
  };
  EXPECT_EQ(ids(""), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(ids("q=enabled:true"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ids("q=config.url:~ORDERS"), (std::vector<std::string>{"a"}));
  EXPECT_EQ(ids("q=config.authorizationHeaderToken.id:missing"),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(ids("sort=enabled:desc,name:desc"), (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_EQ(ids("fields=id&pageSize=1&pageNumber=2"), (std::vector<std::string>{"b"}));
  HttpResponse counted = Call("POST", ServersBase(t) + "/search?pageSize=1", t.read,
                              R"({"q":"enabled:true"})", {{"X-Total-Count", "true"}});
  ASSERT_EQ(counted.status, 200) << counted.Dump();
  EXPECT_EQ(counted.Header("X-Total-Count"), "2");
  ExpectBadRequest(Call("GET", ServersBase(t) + "?q=value:x", t.read));
  ExpectBadRequest(Call("GET", ServersBase(t) + "?sort=config.authorizationHeaderName", t.read));
  // Scopes and tenants as for tokens.
  ExpectForbidden(Call("GET", ServersBase(t), t.manage));
  ExpectForbidden(Call("PUT", ServersBase(t) + "/x", t.read, ServerBody("X", std::nullopt)));
  Tenant other = NewTenant();
  ExpectForbidden(Call("GET", ServersBase(t), other.rw));
  EXPECT_EQ(Call("GET", ServersBase(other), other.rw).body, "[]");
}

TEST_P(McpServerTest, VersionsLocksAndDelete) {
  Tenant t = NewTenant();
  const std::string item = ServersBase(t) + "/s";
  json::value with_version = json::parse(ServerBody("S", std::nullopt));
  with_version.as_object()["metadata"] = json::object{{"version", 1}};
  ExpectNotFound(Call("PUT", item, t.rw, Serialize(with_version)), "s");
  ASSERT_EQ(Call("PUT", item, t.rw, ServerBody("S", std::nullopt)).status, 201);
  EXPECT_EQ(Call("PUT", item, t.rw, Serialize(with_version)).status, 204);
  ExpectConflict(Call("PUT", item, t.rw, Serialize(with_version)));  // version is 2 now
  ExpectPreconditionFailed(
      Call("PUT", item, t.rw, ServerBody("S", std::nullopt), {{"If-Match", "\"1\""}}));
  ExpectPreconditionFailed(Call("DELETE", item, t.rw, std::nullopt, {{"If-Match", "\"1\""}}));
  EXPECT_EQ(Call("DELETE", item, t.rw, std::nullopt, {{"If-Match", "\"2\""}}).status, 204);
  EXPECT_EQ(Call("DELETE", item, t.rw).status, 204);  // idempotent
  ExpectNotFound(Call("GET", item, t.read), "s");
}

TEST_P(McpServerTest, PatchSetsAndRemovesFieldsIncludingTheTokenReference) {
  Tenant t = NewTenant();
  ASSERT_TRUE(Create(t, "tok", "n", NewValue()));
  const std::string item = ServersBase(t) + "/s";
  ASSERT_EQ(Call("PUT", item, t.rw, ServerBody("S", std::nullopt)).status, 201);
  HttpResponse patched =
      Call("PATCH", item, t.rw,
           R"([{"op":"REPLACE","path":"/name","value":"Renamed"},)"
           R"({"op":"replace","path":"/enabled","value":false},)"
           R"({"op":"ADD","path":"/config/authorizationHeaderToken","value":{"id":"tok"}}])",
           {{"If-Match", "\"1\""}});
  EXPECT_EQ(patched.status, 204) << patched.Dump();
  EXPECT_EQ(patched.Header("ETag"), "\"2\"");
  json::value server = ParseBody(Call("GET", item, t.read));
  EXPECT_EQ(Str(At(server, "name")), "Renamed");
  EXPECT_EQ(At(server, "enabled"), json::value(false));
  EXPECT_EQ(Str(At(server, "config.authorizationHeaderToken.id")), "tok");

  HttpResponse missing = Call("PATCH", item, t.rw,
                              R"([{"op":"REPLACE","path":"/config/authorizationHeaderToken/id",)"
                              R"("value":"nope"}])");
  ExpectBadRequest(missing);
  EXPECT_TRUE(ErrorMentions(missing, "config.authorizationHeaderToken.id")) << missing.Dump();
  ExpectBadRequest(Call("PATCH", item, t.rw, R"([{"op":"REMOVE","path":"/config/url"}])"));
  ExpectBadRequest(Call("PATCH", item, t.rw, R"([{"op":"REPLACE","path":"/id","value":"x"}])"));
  ExpectPreconditionFailed(
      Call("PATCH", item, t.rw, R"([{"op":"REMOVE","path":"/enabled"}])", {{"If-Match", "\"1\""}}));
  ExpectNotFound(
      Call("PATCH", ServersBase(t) + "/ghost", t.rw, R"([{"op":"REMOVE","path":"/enabled"}])"),
      "ghost");

  EXPECT_EQ(
      Call("PATCH", item, t.rw, R"([{"op":"REMOVE","path":"/config/authorizationHeaderToken"}])")
          .status,
      204);
  server = ParseBody(Call("GET", item, t.read));
  EXPECT_TRUE(At(server, "config.authorizationHeaderToken").is_null());
  EXPECT_EQ(Int(At(server, "metadata.version")), 3);
  // Unreferenced now: the token deletes without force.
  EXPECT_EQ(Call("DELETE", t.Item("tok"), t.rw).status, 204);
}

}  // namespace
}  // namespace bb
