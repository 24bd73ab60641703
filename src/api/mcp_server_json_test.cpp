#include "api/mcp_server_json.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace ts::api {
namespace {

Result<service::McpServerUpsertCommand> Put(std::string_view json,
                                            const std::string& id = "orders") {
  return DecodeMcpServerPut(boost::json::parse(json), id);
}

std::vector<std::string> Fields(const Error& e) {
  std::vector<std::string> fields;
  for (const auto& d : e.details) fields.push_back(d.field);
  return fields;
}

constexpr std::string_view kFull = R"({
  "id": "orders", "name": "Orders", "enabled": true, "type": "custom",
  "transport": "streamable_http",
  "config": {"url": "https://mcp.example.com/orders", "authorizationHeaderName": "Authorization",
             "authorizationHeaderToken": {"id": "orders-token"}},
  "metadata": {"version": 3, "createdAt": "2026-01-01T00:00:00.000Z"}})";

TEST(DecodeMcpServerPutTest, DecodesEveryField) {
  auto c = Put(kFull);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->resource.id, "orders");
  EXPECT_EQ(c->resource.name, "Orders");
  EXPECT_TRUE(c->resource.enabled);
  EXPECT_EQ(c->resource.type, "custom");
  EXPECT_EQ(c->resource.transport, "streamable_http");
  EXPECT_EQ(c->resource.config.url, "https://mcp.example.com/orders");
  EXPECT_EQ(c->resource.config.authorization_header_name, "Authorization");
  EXPECT_EQ(c->resource.config.authorization_header_token_id, "orders-token");
  EXPECT_EQ(c->expected_version, 3);
}

TEST(DecodeMcpServerPutTest, OptionalFieldsTakeTheirDefaultsAndNullIsAbsent) {
  auto c = Put(R"({"name":"n","transport":"sse","config":{"url":"http://h/",
                 "authorizationHeaderName":null,"authorizationHeaderToken":null},"enabled":null})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->resource.enabled);
  EXPECT_EQ(c->resource.type, "custom");
  EXPECT_FALSE(c->resource.config.authorization_header_name.has_value());
  EXPECT_FALSE(c->resource.config.authorization_header_token_id.has_value());
  EXPECT_FALSE(c->expected_version.has_value());
}

TEST(DecodeMcpServerPutTest, RequiredFieldsAreNamed) {
  auto c = Put("{}");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(Fields(c.error()), (std::vector<std::string>{"name", "transport", "config"}));
  auto no_url = Put(R"({"name":"n","transport":"sse","config":{}})");
  ASSERT_FALSE(no_url.ok());
  EXPECT_EQ(Fields(no_url.error()), (std::vector<std::string>{"config.url"}));
  auto no_token_id = Put(
      R"({"name":"n","transport":"sse","config":{"url":"http://h/","authorizationHeaderToken":{}}})");
  ASSERT_FALSE(no_token_id.ok());
  EXPECT_EQ(Fields(no_token_id.error()),
            (std::vector<std::string>{"config.authorizationHeaderToken.id"}));
}

TEST(DecodeMcpServerPutTest, WrongTypesUnknownFieldsAndIdMismatchAreNamed) {
  auto c = Put(R"({"id":"other","name":1,"enabled":"yes","transport":"sse","value":"x",
                 "config":{"url":"http://h/","secret":1,"authorizationHeaderToken":{"id":"t","value":"v"}},
                 "metadata":{"version":0,"owner":"x"}})");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(Fields(c.error()),
            (std::vector<std::string>{"id", "name", "enabled", "value", "config.secret",
                                      "config.authorizationHeaderToken.value", "metadata.version",
                                      "metadata.owner"}));
}

TEST(DecodeMcpServerPutTest, AnExpandedTokenSentBackIsReadAsItsId) {
  auto c = Put(R"({"name":"n","transport":"sse","config":{"url":"http://h/",
                 "authorizationHeaderToken":{"id":"t","name":"Token",
                 "metadata":{"version":2,"createdAt":"x","modifiedAt":"y"}}}})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->resource.config.authorization_header_token_id, "t");
}

domain::McpServer Sample() {
  auto c = Put(kFull);
  domain::McpServer server = c->resource;
  server.metadata = {3, 1'000, 2'000};
  return server;
}

TEST(RenderMcpServerTest, RoundTripsEveryAcceptedField) {
  const std::string rendered =
      boost::json::serialize(RenderMcpServer(Sample(), query::Projection{}, nullptr));
  EXPECT_EQ(rendered,
            R"({"id":"orders","name":"Orders","enabled":true,"type":"custom",)"
            R"("transport":"streamable_http","config":{"url":"https://mcp.example.com/orders",)"
            R"("authorizationHeaderName":"Authorization",)"
            R"("authorizationHeaderToken":{"id":"orders-token"}},)"
            R"("metadata":{"version":3,"createdAt":"1970-01-01T00:00:01.000Z",)"
            R"("modifiedAt":"1970-01-01T00:00:02.000Z"}})");
  // What a read renders decodes back to the same server.
  auto again = DecodeMcpServerPut(boost::json::parse(rendered), "orders");
  ASSERT_TRUE(again.ok()) << again.error().message;
  domain::McpServer expected = Sample();
  EXPECT_EQ(again->resource.name, expected.name);
  EXPECT_EQ(again->resource.config, expected.config);
  EXPECT_EQ(again->resource.enabled, expected.enabled);
  EXPECT_EQ(again->resource.transport, expected.transport);
}

TEST(RenderMcpServerTest, AbsentOptionalsStayAbsent) {
  domain::McpServer server = Sample();
  server.config.authorization_header_name.reset();
  server.config.authorization_header_token_id.reset();
  auto out = RenderMcpServer(server, query::Projection{}, nullptr);
  EXPECT_FALSE(out.at("config").as_object().contains("authorizationHeaderName"));
  EXPECT_FALSE(out.at("config").as_object().contains("authorizationHeaderToken"));
}

TEST(RenderMcpServerTest, ExpandRendersTheTokensPublicFieldsOnly) {
  std::map<std::string, domain::Token> tokens{
      {"orders-token", domain::Token{"orders-token", "Orders key", {2, 5'000, 6'000}}}};
  auto out = RenderMcpServer(Sample(), query::Projection{}, &tokens);
  EXPECT_EQ(boost::json::serialize(out.at("config").at("authorizationHeaderToken")),
            R"({"id":"orders-token","name":"Orders key","metadata":{"version":2,)"
            R"("createdAt":"1970-01-01T00:00:05.000Z","modifiedAt":"1970-01-01T00:00:06.000Z"}})");
  // A token that vanished since the read is rendered as its id.
  std::map<std::string, domain::Token> none;
  auto gone = RenderMcpServer(Sample(), query::Projection{}, &none);
  EXPECT_EQ(boost::json::serialize(gone.at("config").at("authorizationHeaderToken")),
            R"({"id":"orders-token"})");
}

TEST(RenderMcpServerTest, ProjectionSelectsNestedFields) {
  auto fields = query::ParseFields("id,config.authorizationHeaderToken.id,metadata.version",
                                   domain::McpServerSchema());
  ASSERT_TRUE(fields.ok());
  std::map<std::string, domain::Token> tokens{
      {"orders-token", domain::Token{"orders-token", "Orders key", {2, 5'000, 6'000}}}};
  EXPECT_EQ(boost::json::serialize(RenderMcpServer(Sample(), *fields, &tokens)),
            R"({"id":"orders","config":{"authorizationHeaderToken":{"id":"orders-token"}},)"
            R"("metadata":{"version":3}})");
}

}  // namespace
}  // namespace ts::api
