#include "service/mcp_server_service.h"

#include <gtest/gtest.h>

#include "service/service_test_support.h"

namespace ts::service {
namespace {

using McpServerServiceTest = ServiceTest;

TEST_F(McpServerServiceTest, CreateThenUpdateSetsMetadata) {
  CreateToken("tok");
  auto created = servers_->Upsert(caller_, Server("s1", "tok"));
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_TRUE(created->created);
  EXPECT_EQ(created->version, 1);
  clock_.Advance(1000);
  McpServerUpsertCommand update = Server("s1", std::nullopt);
  update.resource.name = "Renamed";
  update.expected_version = 1;
  auto updated = servers_->Upsert(caller_, update);
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  EXPECT_FALSE(updated->created);
  EXPECT_EQ(updated->version, 2);
  auto got = servers_->Get("acme", "s1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "Renamed");
  EXPECT_FALSE(got->config.authorization_header_token_id.has_value());
  EXPECT_EQ(got->metadata.version, 2);
  EXPECT_EQ(got->metadata.created_at_ms, 1764387000000);
  EXPECT_EQ(got->metadata.modified_at_ms, 1764387001000);
}

TEST_F(McpServerServiceTest, InvalidFieldsAndMissingTokensAreRefusedNamingTheField) {
  McpServerUpsertCommand bad_url = Server("s1", std::nullopt);
  bad_url.resource.config.url = "ftp://x";
  auto r = servers_->Upsert(caller_, bad_url);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().details.at(0).field, "config.url");

  auto missing = servers_->Upsert(caller_, Server("s1", "nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(missing.error().details.at(0).field, "config.authorizationHeaderToken.id");
  EXPECT_EQ(servers_->Get("acme", "s1").error().code, ErrorCode::kNotFound);

  // Another tenant's token of that id does not count.
  Caller other{"globex", "bob", "req-2"};
  UpsertCommand c;
  c.id = "theirs";
  c.name = "n";
  c.value.emplace("v");
  ASSERT_TRUE(tokens_->Upsert(other, std::move(c)).result.ok());
  auto foreign = servers_->Upsert(caller_, Server("s1", "theirs"));
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().details.at(0).field, "config.authorizationHeaderToken.id");
}

TEST_F(McpServerServiceTest, VersionAndPreconditionRules) {
  McpServerUpsertCommand versioned = Server("s1", std::nullopt);
  versioned.expected_version = 1;
  EXPECT_EQ(servers_->Upsert(caller_, versioned).error().code, ErrorCode::kNotFound);
  McpServerUpsertCommand if_match = Server("s1", std::nullopt);
  if_match.if_match = Precondition{true, {}};
  EXPECT_EQ(servers_->Upsert(caller_, if_match).error().code, ErrorCode::kPreconditionFailed);

  ASSERT_TRUE(servers_->Upsert(caller_, Server("s1", std::nullopt)).ok());
  versioned.expected_version = 7;
  EXPECT_EQ(servers_->Upsert(caller_, versioned).error().code, ErrorCode::kConflict);
  McpServerUpsertCommand stale_if_match = Server("s1", std::nullopt);
  stale_if_match.if_match = Precondition{false, {3}};
  EXPECT_EQ(servers_->Upsert(caller_, stale_if_match).error().code, ErrorCode::kPreconditionFailed);
  EXPECT_EQ(servers_->Get("acme", "s1")->metadata.version, 1);
}

TEST_F(McpServerServiceTest, DeleteIsIdempotentAndHonoursIfMatch) {
  EXPECT_TRUE(servers_->Delete(caller_, "absent", false, std::nullopt).ok());
  ASSERT_TRUE(servers_->Upsert(caller_, Server("s1", std::nullopt)).ok());
  EXPECT_EQ(servers_->Delete(caller_, "s1", false, Precondition{false, {2}}).error().code,
            ErrorCode::kPreconditionFailed);
  EXPECT_TRUE(servers_->Delete(caller_, "s1", false, Precondition{false, {1}}).ok());
  EXPECT_EQ(servers_->Get("acme", "s1").error().code, ErrorCode::kNotFound);
}

TEST_F(McpServerServiceTest, ReferencedTokenDeleteIs400ListingReferrersUnlessForced) {
  CreateToken("tok");
  ASSERT_TRUE(servers_->Upsert(caller_, Server("s2", "tok")).ok());
  ASSERT_TRUE(servers_->Upsert(caller_, Server("s1", "tok")).ok());
  auto refused = tokens_->Delete(caller_, "tok", false, std::nullopt);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  ASSERT_EQ(refused.error().details.size(), 2u);
  EXPECT_EQ(refused.error().details[0].field, "mcpServer/s1/config.authorizationHeaderToken.id");
  EXPECT_EQ(refused.error().details[1].field, "mcpServer/s2/config.authorizationHeaderToken.id");
  EXPECT_TRUE(tokens_->Get("acme", "tok").ok());

  clock_.Advance(5000);
  ASSERT_TRUE(tokens_->Delete(caller_, "tok", true, std::nullopt).ok());
  EXPECT_EQ(tokens_->Get("acme", "tok").error().code, ErrorCode::kNotFound);
  auto s1 = servers_->Get("acme", "s1");
  ASSERT_TRUE(s1.ok());
  EXPECT_FALSE(s1->config.authorization_header_token_id.has_value());
  EXPECT_EQ(s1->metadata.version, 2);
  EXPECT_EQ(s1->metadata.modified_at_ms, 1764387005000);
}

TEST_F(McpServerServiceTest, PatchAppliesOperationsUnderTheReadVersion) {
  CreateToken("tok");
  ASSERT_TRUE(servers_->Upsert(caller_, Server("s1", std::nullopt)).ok());
  domain::PatchOperation set_token;
  set_token.op = domain::PatchOperation::Op::kAdd;
  set_token.path = "/config/authorizationHeaderToken";
  set_token.has_value = true;
  set_token.object_id = "tok";
  clock_.Advance(2000);
  auto patched = servers_->Patch(caller_, "s1", {set_token}, std::nullopt);
  ASSERT_TRUE(patched.ok()) << patched.error().message;
  EXPECT_EQ(patched->version, 2);
  auto got = servers_->Get("acme", "s1");
  EXPECT_EQ(got->config.authorization_header_token_id, "tok");
  EXPECT_EQ(got->metadata.modified_at_ms, 1764387002000);

  set_token.object_id = "missing";
  auto missing = servers_->Patch(caller_, "s1", {set_token}, std::nullopt);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().details.at(0).field, "config.authorizationHeaderToken.id");
  EXPECT_EQ(servers_->Patch(caller_, "s1", {set_token}, Precondition{false, {1}}).error().code,
            ErrorCode::kPreconditionFailed);
  EXPECT_EQ(servers_->Patch(caller_, "ghost", {set_token}, std::nullopt).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(servers_->Get("acme", "s1")->metadata.version, 2);
}

TEST_F(McpServerServiceTest, ReferencedTokensAreThePublicProjectionOfExistingTokens) {
  CreateToken("a");
  CreateToken("b");
  ASSERT_TRUE(servers_->Upsert(caller_, Server("s1", "a")).ok());
  ASSERT_TRUE(servers_->Upsert(caller_, Server("s2", "a")).ok());
  ASSERT_TRUE(servers_->Upsert(caller_, Server("s3", std::nullopt)).ok());
  auto page = servers_->List([] {
    store::ListQuery q;
    q.tenant = "acme";
    q.sort.push_back({"id", query::FieldType::kString, false});
    return q;
  }());
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 3u);
  auto tokens = servers_->ReferencedTokens("acme", page->items);
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ(tokens->at("a").name, "token a");
  EXPECT_EQ(tokens->at("a").metadata.version, 1);
}

}  // namespace
}  // namespace ts::service
