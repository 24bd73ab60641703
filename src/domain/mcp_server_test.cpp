#include "domain/mcp_server.h"

#include <gtest/gtest.h>

#include <string>

namespace ts::domain {
namespace {

McpServer Valid() {
  McpServer server;
  server.id = "orders";
  server.name = "Orders MCP";
  server.enabled = true;
  server.transport = "streamable_http";
  server.config.url = "https://mcp.example.com/orders";
  server.config.authorization_header_name = "Authorization";
  server.config.authorization_header_token_id = "orders-token";
  return server;
}

// The single detail's field of a failed validation, or "" when it passed.
std::string FailedField(const McpServer& server) {
  auto r = ValidateMcpServer(server);
  if (r.ok()) return "";
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().details.size(), 1u);
  return r.error().details.empty() ? "?" : r.error().details.front().field;
}

TEST(McpServerTest, DefaultsAreTheVendorDefaults) {
  McpServer server;
  EXPECT_FALSE(server.enabled);
  EXPECT_EQ(server.type, "custom");
  EXPECT_FALSE(server.config.authorization_header_name.has_value());
  EXPECT_FALSE(server.config.authorization_header_token_id.has_value());
}

TEST(McpServerTest, AcceptsAFullCustomServer) { EXPECT_EQ(FailedField(Valid()), ""); }

TEST(McpServerTest, AcceptsAServerWithoutAuthorization) {
  McpServer server = Valid();
  server.config.authorization_header_name.reset();
  server.config.authorization_header_token_id.reset();
  server.transport = "sse";
  server.enabled = false;
  EXPECT_EQ(FailedField(server), "");
}

TEST(McpServerTest, NameFollowsTheTokenNameRule) {
  McpServer server = Valid();
  server.name = "";
  EXPECT_EQ(FailedField(server), "name");
  server.name = " \t";
  EXPECT_EQ(FailedField(server), "name");
  server.name = std::string(256, 'n');
  EXPECT_EQ(FailedField(server), "name");
  server.name = std::string(255, 'n');
  EXPECT_EQ(FailedField(server), "");
}

TEST(McpServerTest, OnlyTheCustomTypeIsSupported) {
  McpServer server = Valid();
  server.type = "dynamic";
  EXPECT_EQ(FailedField(server), "type");
  auto r = ValidateMcpServer(server);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not supported"), std::string::npos);
  server.type = "Custom";
  EXPECT_EQ(FailedField(server), "type");
  server.type = "";
  EXPECT_EQ(FailedField(server), "type");
}

TEST(McpServerTest, TransportIsOneOfTwoExactValues) {
  McpServer server = Valid();
  for (const char* bad : {"", "SSE", "http", "streamable-http", "stdio"}) {
    server.transport = bad;
    EXPECT_EQ(FailedField(server), "transport") << bad;
  }
  server.transport = "sse";
  EXPECT_EQ(FailedField(server), "");
}

TEST(McpServerTest, UrlMustBeAnAbsoluteHttpUrlWithAHost) {
  McpServer server = Valid();
  for (const char* good :
       {"http://localhost:8080/mcp", "https://a.example", "HTTPS://A.example/x?y#z",
        "https://user@host/p", "http://[::1]:9000/"}) {
    server.config.url = good;
    EXPECT_EQ(FailedField(server), "") << good;
  }
  for (const char* bad :
       {"", "ftp://host/", "//host/x", "https://", "https:///path", "https://:80/",
        "https://host/a b", "https://host/\t", "mailto:x@y", "https://user@/x"}) {
    server.config.url = bad;
    EXPECT_EQ(FailedField(server), "config.url") << bad;
  }
  server.config.url = "https://h/" + std::string(kMaxUrlBytes - 10, 'p');
  EXPECT_EQ(FailedField(server), "");
  server.config.url += "p";
  EXPECT_EQ(FailedField(server), "config.url");
}

TEST(McpServerTest, HeaderNameMustBeAnHttpFieldName) {
  McpServer server = Valid();
  for (const char* good : {"Authorization", "X-Api-Key", "x_token", "A!#$%&'*+-.^_`|~9"}) {
    server.config.authorization_header_name = good;
    EXPECT_EQ(FailedField(server), "") << good;
  }
  for (const char* bad : {"", "Bad Header", "Colon:", "Quote\"", "Tab\t", "Ünicode"}) {
    server.config.authorization_header_name = bad;
    EXPECT_EQ(FailedField(server), "config.authorizationHeaderName") << bad;
  }
  server.config.authorization_header_name = std::string(kMaxHeaderNameBytes, 'h');
  EXPECT_EQ(FailedField(server), "");
  server.config.authorization_header_name = std::string(kMaxHeaderNameBytes + 1, 'h');
  EXPECT_EQ(FailedField(server), "config.authorizationHeaderName");
}

TEST(McpServerTest, TokenReferenceMustBeAValidTokenId) {
  McpServer server = Valid();
  for (const char* bad : {"", "a/b", ".", "..", "sp ace"}) {
    server.config.authorization_header_token_id = bad;
    EXPECT_EQ(FailedField(server), "config.authorizationHeaderToken.id") << bad;
  }
  server.config.authorization_header_token_id = std::string(kMaxIdLength, 't');
  EXPECT_EQ(FailedField(server), "");
  server.config.authorization_header_token_id = std::string(kMaxIdLength + 1, 't');
  EXPECT_EQ(FailedField(server), "config.authorizationHeaderToken.id");
}

TEST(McpServerTest, FieldsAreCheckedInDocumentOrder) {
  McpServer server = Valid();
  server.name = "";
  server.transport = "bad";
  server.config.url = "bad";
  EXPECT_EQ(FailedField(server), "name");
  server.name = "ok";
  EXPECT_EQ(FailedField(server), "transport");
}

TEST(McpServerSchemaTest, QueriesBooleansNestedFieldsAndReferences) {
  const query::ResourceSchema& schema = McpServerSchema();
  auto parsed = query::ParseQuery(
      "enabled:true config.url:~example transport:sse config.authorizationHeaderToken.id:t1 "
      "config.authorizationHeaderName:missing",
      schema);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->clauses.size(), 5u);
  EXPECT_EQ(parsed->clauses[0].type, query::FieldType::kBoolean);
  EXPECT_EQ(std::get<bool>(parsed->clauses[0].comparisons.at(0).value), true);
  EXPECT_EQ(parsed->clauses[1].kind, query::Clause::Kind::kRegex);
  EXPECT_EQ(parsed->clauses[4].kind, query::Clause::Kind::kMissing);
  EXPECT_FALSE(query::ParseQuery("enabled:yes", schema).ok());
  EXPECT_FALSE(query::ParseQuery("value:x", schema).ok());
}

TEST(McpServerSchemaTest, OptionalFieldsAreNotSortable) {
  const query::ResourceSchema& schema = McpServerSchema();
  EXPECT_TRUE(query::ParseSort("enabled:desc,config.url,transport,type,name", schema).ok());
  EXPECT_FALSE(query::ParseSort("config.authorizationHeaderName", schema).ok());
  EXPECT_FALSE(query::ParseSort("config.authorizationHeaderToken.id", schema).ok());
}

TEST(McpServerSchemaTest, ProjectsNestedObjects) {
  const query::ResourceSchema& schema = McpServerSchema();
  auto fields = query::ParseFields("id,config.authorizationHeaderToken,metadata.version", schema);
  ASSERT_TRUE(fields.ok()) << fields.error().message;
  EXPECT_TRUE(fields->Includes("config"));
  EXPECT_TRUE(fields->IncludesExactly("config.authorizationHeaderToken.id"));
  EXPECT_FALSE(fields->Includes("config.url"));
  EXPECT_FALSE(query::ParseFields("config.secret", schema).ok());
}

}  // namespace
}  // namespace ts::domain

namespace ts::domain {
namespace {

PatchOperation Patch(PatchOperation::Op op, std::string path) {
  PatchOperation o;
  o.op = op;
  o.path = std::move(path);
  return o;
}
PatchOperation SetString(std::string path, std::string value) {
  PatchOperation o = Patch(PatchOperation::Op::kReplace, std::move(path));
  o.has_value = true;
  o.value_is_string = true;
  o.string_value = std::move(value);
  return o;
}
PatchOperation SetBool(std::string path, bool value) {
  PatchOperation o = Patch(PatchOperation::Op::kAdd, std::move(path));
  o.has_value = true;
  o.bool_value = value;
  return o;
}
PatchOperation SetReference(std::string path, std::string id) {
  PatchOperation o = Patch(PatchOperation::Op::kReplace, std::move(path));
  o.has_value = true;
  o.object_id = std::move(id);
  return o;
}
PatchOperation Remove(std::string path) {
  return Patch(PatchOperation::Op::kRemove, std::move(path));
}

McpServer Current() {
  McpServer server;
  server.id = "s";
  server.name = "Orders";
  server.enabled = true;
  server.transport = "sse";
  server.config.url = "https://a.example/";
  server.config.authorization_header_name = "Authorization";
  server.config.authorization_header_token_id = "t1";
  server.metadata = {4, 1'000, 2'000};
  return server;
}

std::string FirstField(const Result<McpServer>& r) {
  return r.ok() || r.error().details.empty() ? "" : r.error().details.front().field;
}

TEST(McpServerPatchTest, SetsEveryWritablePath) {
  auto r = ApplyMcpServerPatch(
      Current(),
      {SetString("/name", "Renamed"), SetBool("/enabled", false), SetString("/type", "custom"),
       SetString("/transport", "streamable_http"), SetString("/config/url", "http://b.example/"),
       SetString("/config/authorizationHeaderName", "X-Key"),
       SetString("/config/authorizationHeaderToken/id", "t2")});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->name, "Renamed");
  EXPECT_FALSE(r->enabled);
  EXPECT_EQ(r->transport, "streamable_http");
  EXPECT_EQ(r->config.url, "http://b.example/");
  EXPECT_EQ(r->config.authorization_header_name, "X-Key");
  EXPECT_EQ(r->config.authorization_header_token_id, "t2");
  EXPECT_EQ(r->metadata.version, 4);  // the service bumps it on write
  auto reference =
      ApplyMcpServerPatch(Current(), {SetReference("/config/authorizationHeaderToken", "t3")});
  ASSERT_TRUE(reference.ok());
  EXPECT_EQ(reference->config.authorization_header_token_id, "t3");
}

TEST(McpServerPatchTest, RemoveMakesOptionalFieldsAbsentAndRequiredOnesAre400) {
  auto r = ApplyMcpServerPatch(
      Current(), {Remove("/config/authorizationHeaderToken"),
                  Remove("/config/authorizationHeaderName"), Remove("/enabled"), Remove("/type")});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->config.authorization_header_token_id.has_value());
  EXPECT_FALSE(r->config.authorization_header_name.has_value());
  EXPECT_FALSE(r->enabled);
  EXPECT_EQ(r->type, "custom");
  for (const char* path :
       {"/name", "/transport", "/config/url", "/config/authorizationHeaderToken/id"}) {
    EXPECT_EQ(FirstField(ApplyMcpServerPatch(Current(), {Remove(path)})), "[0].path") << path;
  }
}

TEST(McpServerPatchTest, WrongValueTypesReadOnlyAndUnknownPathsAre400) {
  EXPECT_EQ(FirstField(ApplyMcpServerPatch(Current(), {SetBool("/name", true)})), "[0].value");
  EXPECT_EQ(FirstField(ApplyMcpServerPatch(Current(), {SetString("/enabled", "true")})),
            "[0].value");
  EXPECT_EQ(FirstField(ApplyMcpServerPatch(Current(),
                                           {SetString("/config/authorizationHeaderToken", "t2")})),
            "[0].value");
  EXPECT_EQ(
      FirstField(ApplyMcpServerPatch(Current(), {SetString("/name", "ok"), SetString("/id", "x")})),
      "[1].path");
  EXPECT_EQ(FirstField(ApplyMcpServerPatch(Current(), {SetString("/metadata/version", "9")})),
            "[0].path");
  EXPECT_EQ(FirstField(ApplyMcpServerPatch(Current(), {SetString("/config", "x")})), "[0].path");
  EXPECT_EQ(FirstField(ApplyMcpServerPatch(Current(), {SetString("/tools", "x")})), "[0].path");
  EXPECT_FALSE(ApplyMcpServerPatch(Current(), {}).ok());
}

TEST(McpServerPatchTest, TheResultIsValidatedAsAWhole) {
  EXPECT_EQ(FirstField(ApplyMcpServerPatch(Current(), {SetString("/config/url", "ftp://x")})),
            "config.url");
  EXPECT_EQ(FirstField(ApplyMcpServerPatch(Current(), {SetString("/type", "dynamic")})), "type");
  EXPECT_EQ(FirstField(ApplyMcpServerPatch(
                Current(), {SetString("/config/authorizationHeaderToken/id", "a/b")})),
            "config.authorizationHeaderToken.id");
}

}  // namespace
}  // namespace ts::domain
