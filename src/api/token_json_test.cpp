#include "api/token_json.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/error_mapping.h"
#include "api/json_body.h"

namespace ts::api {
namespace {

Result<service::UpsertCommand> Put(std::string_view json, const std::string& id = "openai") {
  boost::json::value v = boost::json::parse(json);
  return DecodeTokenPut(v, id);
}

bool HasDetailField(const Error& e, std::string_view field) {
  for (const auto& d : e.details) {
    if (d.field == field) return true;
  }
  return false;
}

TEST(DecodeTokenPutTest, NameAndValue) {
  auto c = Put(R"({"name":"OpenAI","value":"sk-secret"})");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->name, "OpenAI");
  ASSERT_TRUE(c->value.has_value());
  EXPECT_EQ(c->value->view(), "sk-secret");
  EXPECT_FALSE(c->expected_version.has_value());
}

TEST(DecodeTokenPutTest, ValueBytesAreWipedFromTheJsonDocument) {
  boost::json::value v = boost::json::parse(R"({"name":"n","value":"sk-distinctive"})");
  auto c = DecodeTokenPut(v, "x");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(boost::json::serialize(v).find("sk-distinctive"), std::string::npos);
}

TEST(DecodeTokenPutTest, SendBackWhatWasReadIsAccepted) {
  auto c = Put(
      R"({"id":"openai","name":"n","value":"v","metadata":{"version":3,)"
      R"("createdAt":"2026-01-01T00:00:00.000Z","modifiedAt":"2026-01-01T00:00:00.000Z"}})");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->expected_version, 3);
}

TEST(DecodeTokenPutTest, ValueIsOptional) {
  auto c = Put(R"({"name":"n"})");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->value.has_value());
}

TEST(DecodeTokenPutTest, BodyIdMustEqualPathId) {
  auto c = Put(R"({"id":"other","name":"n"})");
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(HasDetailField(c.error(), "id"));
  EXPECT_FALSE(Put(R"({"id":5,"name":"n"})").ok());
}

TEST(DecodeTokenPutTest, UnknownFieldsAreNamed) {
  auto c = Put(R"({"name":"n","colour":"red"})");
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(HasDetailField(c.error(), "colour"));
  EXPECT_NE(c.error().message.find("colour"), std::string::npos);
  auto m = Put(R"({"name":"n","metadata":{"owner":"x"}})");
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(HasDetailField(m.error(), "metadata.owner"));
}

TEST(DecodeTokenPutTest, LongUnknownFieldNamesAreQuotedShort) {
  std::string key(5000, 'k');
  auto c = Put("{\"name\":\"n\",\"" + key + "\":1}");
  ASSERT_FALSE(c.ok());
  EXPECT_LT(c.error().message.size(), 200u);
  EXPECT_EQ(c.error().message.find(key), std::string::npos);
}

TEST(DecodeTokenPutTest, ManyUnknownFieldsGiveABoundedAnswer) {
  std::string body = "{\"name\":\"n\"";
  for (int i = 0; i < 5000; ++i) body += ",\"k" + std::to_string(i) + "\":1";
  body += "}";
  auto c = Put(body);
  ASSERT_FALSE(c.ok());
  EXPECT_LE(c.error().details.size(), 21u);
  EXPECT_EQ(c.error().details.back().field, "body");
}

TEST(DecodeTokenPutTest, NameRules) {
  EXPECT_FALSE(Put(R"({"value":"v"})").ok());
  EXPECT_FALSE(Put(R"({"name":null,"value":"v"})").ok());
  EXPECT_FALSE(Put(R"({"name":"   ","value":"v"})").ok());
  EXPECT_FALSE(Put(R"({"name":5,"value":"v"})").ok());
  EXPECT_FALSE(Put(R"({"name":["a"],"value":"v"})").ok());
}

TEST(DecodeTokenPutTest, ValueRules) {
  EXPECT_FALSE(Put(R"({"name":"n","value":""})").ok());
  EXPECT_FALSE(Put(R"({"name":"n","value":12})").ok());
  EXPECT_TRUE(Put(R"({"name":"n","value":")" + std::string(16384, 'v') + "\"}").ok());
  EXPECT_FALSE(Put(R"({"name":"n","value":")" + std::string(16385, 'v') + "\"}").ok());
}

TEST(DecodeTokenPutTest, VersionMustBeAPositiveInteger) {
  EXPECT_FALSE(Put(R"({"name":"n","metadata":{"version":0}})").ok());
  EXPECT_FALSE(Put(R"({"name":"n","metadata":{"version":-1}})").ok());
  EXPECT_FALSE(Put(R"({"name":"n","metadata":{"version":1.5}})").ok());
  EXPECT_FALSE(Put(R"({"name":"n","metadata":{"version":"1"}})").ok());
  EXPECT_FALSE(Put(R"({"name":"n","metadata":{"version":18446744073709551615}})").ok());
  EXPECT_FALSE(Put(R"({"name":"n","metadata":5})").ok());
}

TEST(DecodeTokenPutTest, BodyMustBeAnObject) {
  EXPECT_FALSE(Put(R"([])").ok());
  EXPECT_FALSE(Put(R"("x")").ok());
}

TEST(DecodePatchTest, OperationsCaseInsensitive) {
  auto ops = DecodePatch(boost::json::parse(
      R"([{"op":"add","path":"/name","value":"a"},{"op":"Replace","path":"/name","value":"b"},)"
      R"({"op":"REMOVE","path":"/x"}])"));
  ASSERT_TRUE(ops.ok());
  ASSERT_EQ(ops->size(), 3u);
  EXPECT_EQ((*ops)[0].op, domain::PatchOperation::Op::kAdd);
  EXPECT_EQ((*ops)[1].op, domain::PatchOperation::Op::kReplace);
  EXPECT_EQ((*ops)[2].op, domain::PatchOperation::Op::kRemove);
  EXPECT_TRUE((*ops)[1].value_is_string);
  EXPECT_FALSE((*ops)[2].has_value);
}

TEST(DecodePatchTest, MalformedBodies) {
  EXPECT_FALSE(DecodePatch(boost::json::parse(R"({})")).ok());
  EXPECT_FALSE(DecodePatch(boost::json::parse(R"([])")).ok());
  EXPECT_FALSE(DecodePatch(boost::json::parse(R"([1])")).ok());
  EXPECT_FALSE(DecodePatch(boost::json::parse(R"([{"op":"move","path":"/name"}])")).ok());
  EXPECT_FALSE(DecodePatch(boost::json::parse(R"([{"path":"/name","value":"x"}])")).ok());
  EXPECT_FALSE(DecodePatch(boost::json::parse(R"([{"op":"add","value":"x"}])")).ok());
  EXPECT_FALSE(DecodePatch(boost::json::parse(R"([{"op":"add","path":5}])")).ok());
  EXPECT_FALSE(
      DecodePatch(boost::json::parse(R"([{"op":"add","path":"/name","value":"x","from":"/a"}])"))
          .ok());
  std::string many = "[";
  for (int i = 0; i < 201; ++i) many += std::string(i ? "," : "") + R"({"op":"add","path":"/name","value":"x"})";
  many += "]";
  EXPECT_FALSE(DecodePatch(boost::json::parse(many)).ok());
}

TEST(DecodeSearchBodyTest, Forms) {
  EXPECT_EQ(*DecodeSearchBody(std::nullopt), "");
  EXPECT_EQ(*DecodeSearchBody(boost::json::parse("{}")), "");
  EXPECT_EQ(*DecodeSearchBody(boost::json::parse(R"({"q":"name:x"})")), "name:x");
  EXPECT_FALSE(DecodeSearchBody(boost::json::parse(R"({"q":1})")).ok());
  EXPECT_FALSE(DecodeSearchBody(boost::json::parse(R"({"q":null})")).ok());
  EXPECT_FALSE(DecodeSearchBody(boost::json::parse(R"({"q":"x","sort":"id"})")).ok());
  EXPECT_FALSE(DecodeSearchBody(boost::json::parse(R"([])")).ok());
}

TEST(RenderTokenTest, FullAndProjected) {
  domain::Token t{"openai", "OpenAI", {2, 1764387000123, 1764387001000}};
  EXPECT_EQ(boost::json::serialize(RenderToken(t, {})),
            R"({"id":"openai","name":"OpenAI","metadata":{"version":2,)"
            R"("createdAt":"2025-11-29T03:30:00.123Z","modifiedAt":"2025-11-29T03:30:01.000Z"}})");
  query::Projection p;
  p.names = {"id", "metadata.version"};
  EXPECT_EQ(boost::json::serialize(RenderToken(t, p)),
            R"({"id":"openai","metadata":{"version":2}})");
}

TEST(ErrorMappingTest, BodiesFollowTheContract) {
  auto unauth = RenderError(Error{ErrorCode::kUnauthenticated, "x", {}, "secret internals", {}});
  EXPECT_EQ(unauth.status, 401);
  EXPECT_EQ(unauth.body,
            R"({"fault":{"faultstring":"Invalid access token","detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}})");
  auto expired = RenderError(Error{ErrorCode::kTokenExpired, "x", {}, {}, {}});
  EXPECT_EQ(expired.body,
            R"({"fault":{"faultstring":"Access Token expired","detail":{"errorcode":"keymanagement.service.access_token_expired"}}})");
  auto missing = RenderError(Error::NotFound("abc", "Token abc not found"));
  EXPECT_EQ(missing.body,
            R"({"resourceId":"abc","code":404,"status":"Not Found","message":"Token abc not found"})");
  auto internal = RenderError(Error::Internal("SELECT * FROM tokens failed"));
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body.find("SELECT"), std::string::npos);
  auto bad = RenderError(Error::InvalidField("name", "blank", "name must not be blank"));
  EXPECT_EQ(bad.body,
            R"({"code":400,"status":"Bad Request","message":"name must not be blank",)"
            R"("details":[{"field":"name","type":"blank","message":"name must not be blank"}]})");
}

TEST(JsonBodyTest, DepthLimitAndMediaType) {
  http::HttpRequest request;
  request.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  request.body = std::string(64, '[') + std::string(64, ']');
  EXPECT_TRUE(ParseJsonBody(request).ok());
  request.body = std::string(65, '[') + std::string(65, ']');
  auto deep = ParseJsonBody(request);
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().code, ErrorCode::kInvalidArgument);
  request.body = "{not json";
  EXPECT_EQ(ParseJsonBody(request).error().code, ErrorCode::kInvalidArgument);
  request.body = "{}";
  request.headers = {{"Content-Type", "text/plain"}};
  EXPECT_EQ(ParseJsonBody(request).error().code, ErrorCode::kUnsupportedMediaType);
  request.headers = {};
  EXPECT_EQ(ParseJsonBody(request).error().code, ErrorCode::kUnsupportedMediaType);
  request.headers = {{"content-type", "application/json-patch+json"}};
  EXPECT_TRUE(ParseJsonBody(request).ok());
  request.body = "\"\xff\"";
  request.headers = {{"Content-Type", "application/json"}};
  EXPECT_EQ(ParseJsonBody(request).error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ts::api
