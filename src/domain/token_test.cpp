#include "domain/token.h"

#include <gtest/gtest.h>

namespace ts::domain {
namespace {

PatchOperation Op(PatchOperation::Op op, std::string path, std::optional<std::string> value) {
  PatchOperation o;
  o.op = op;
  o.path = std::move(path);
  if (value) {
    o.has_value = true;
    o.value_is_string = true;
    o.string_value = *value;
  }
  return o;
}

Token Sample() { return Token{"openai", "OpenAI", {3, 1000, 2000}}; }

TEST(TenantTest, AcceptsLowercaseDigitsUnderscoreDash) {
  EXPECT_TRUE(ValidateTenant("demo").ok());
  EXPECT_TRUE(ValidateTenant("a_b-c9").ok());
  EXPECT_TRUE(ValidateTenant(std::string(64, 'a')).ok());
}

TEST(TenantTest, RejectsUppercaseWithLowercaseMessage) {
  auto r = ValidateTenant("Demo");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("lowercase"), std::string::npos);
}

TEST(TenantTest, RejectsEmptyTooLongAndOtherCharacters) {
  EXPECT_FALSE(ValidateTenant("").ok());
  EXPECT_FALSE(ValidateTenant(std::string(65, 'a')).ok());
  EXPECT_FALSE(ValidateTenant("a.b").ok());
  EXPECT_FALSE(ValidateTenant("a b").ok());
  EXPECT_FALSE(ValidateTenant("a/b").ok());
}

TEST(ResourceIdTest, AcceptsUnreservedCharacters) {
  EXPECT_TRUE(ValidateResourceId("Az09._~-", "tokenId").ok());
  EXPECT_TRUE(ValidateResourceId(std::string(128, 'x'), "tokenId").ok());
  EXPECT_TRUE(ValidateResourceId("search", "tokenId").ok());
  EXPECT_TRUE(ValidateResourceId("...", "tokenId").ok());
}

TEST(ResourceIdTest, RejectsDotsEmptyLongAndReserved) {
  EXPECT_FALSE(ValidateResourceId(".", "tokenId").ok());
  EXPECT_FALSE(ValidateResourceId("..", "tokenId").ok());
  EXPECT_FALSE(ValidateResourceId("", "tokenId").ok());
  EXPECT_FALSE(ValidateResourceId(std::string(129, 'x'), "tokenId").ok());
  EXPECT_FALSE(ValidateResourceId("a/b", "tokenId").ok());
  EXPECT_FALSE(ValidateResourceId("a b", "tokenId").ok());
  EXPECT_FALSE(ValidateResourceId("é", "tokenId").ok());
  auto r = ValidateResourceId("a%b", "tokenId");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().details.at(0).field, "tokenId");
}

TEST(NameTest, CountsCharactersNotBytes) {
  std::string e255, e256;
  for (int i = 0; i < 255; ++i) e255 += "é";
  e256 = e255 + "é";
  EXPECT_TRUE(ValidateName(e255, "name").ok());
  EXPECT_FALSE(ValidateName(e256, "name").ok());
  EXPECT_TRUE(ValidateName(std::string(255, 'a'), "name").ok());
  EXPECT_FALSE(ValidateName(std::string(256, 'a'), "name").ok());
}

TEST(NameTest, RejectsEmptyAndBlank) {
  EXPECT_FALSE(ValidateName("", "name").ok());
  EXPECT_FALSE(ValidateName("  \t\n", "name").ok());
  EXPECT_TRUE(ValidateName(" a ", "name").ok());
}

TEST(ValueTest, BoundsInBytes) {
  EXPECT_FALSE(ValidateValue("", "value").ok());
  EXPECT_TRUE(ValidateValue("x", "value").ok());
  EXPECT_TRUE(ValidateValue(std::string(16384, 'v'), "value").ok());
  EXPECT_FALSE(ValidateValue(std::string(16385, 'v'), "value").ok());
  EXPECT_TRUE(ValidateValue(std::string("\0a", 2), "value").ok());
}

TEST(TokenSchemaTest, OffersTheSortableFieldsAndForbidsValue) {
  const auto& schema = TokenSchema();
  for (const char* f : {"id", "name", "metadata.version", "metadata.createdAt",
                        "metadata.modifiedAt"}) {
    ASSERT_NE(schema.Find(f), nullptr) << f;
    EXPECT_TRUE(schema.Find(f)->sortable);
  }
  EXPECT_EQ(schema.Find("value"), nullptr);
  EXPECT_EQ(schema.Find("metadata.version")->type, query::FieldType::kInteger);
  EXPECT_EQ(schema.Find("metadata.createdAt")->type, query::FieldType::kTimestamp);
}

TEST(PatchTest, AddAndReplaceSetTheName) {
  auto added = ApplyTokenPatch(Sample(), {Op(PatchOperation::Op::kAdd, "/name", "A")});
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(added->name, "A");
  auto replaced = ApplyTokenPatch(Sample(), {Op(PatchOperation::Op::kReplace, "/name", "A"),
                                             Op(PatchOperation::Op::kReplace, "/name", "B")});
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->name, "B");
  EXPECT_EQ(replaced->id, "openai");
  EXPECT_EQ(replaced->metadata.version, 3);  // the service, not the patch, bumps versions
}

TEST(PatchTest, RemoveNameIsRejected) {
  auto r = ApplyTokenPatch(Sample(), {Op(PatchOperation::Op::kRemove, "/name", std::nullopt)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST(PatchTest, ValueIdMetadataAndOtherPathsAreRejected) {
  for (const char* path : {"/value", "/id", "/metadata", "/metadata/version",
                           "/metadata/createdAt", "/description", "name", "/name/x", ""}) {
    auto r = ApplyTokenPatch(Sample(), {Op(PatchOperation::Op::kReplace, path, "x")});
    EXPECT_FALSE(r.ok()) << path;
  }
}

TEST(PatchTest, NameMustBeANonBlankString) {
  EXPECT_FALSE(ApplyTokenPatch(Sample(), {Op(PatchOperation::Op::kReplace, "/name", "  ")}).ok());
  EXPECT_FALSE(ApplyTokenPatch(Sample(), {Op(PatchOperation::Op::kReplace, "/name", "")}).ok());
  PatchOperation number;
  number.op = PatchOperation::Op::kReplace;
  number.path = "/name";
  number.has_value = true;
  EXPECT_FALSE(ApplyTokenPatch(Sample(), {number}).ok());
  EXPECT_FALSE(
      ApplyTokenPatch(Sample(), {Op(PatchOperation::Op::kAdd, "/name", std::nullopt)}).ok());
}

TEST(PatchTest, AllOrNothing) {
  auto r = ApplyTokenPatch(Sample(), {Op(PatchOperation::Op::kReplace, "/name", "ok"),
                                      Op(PatchOperation::Op::kReplace, "/value", "x")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().details.at(0).field, "[1].path");
}

TEST(PatchTest, OperationCountBounds) {
  EXPECT_FALSE(ApplyTokenPatch(Sample(), {}).ok());
  std::vector<PatchOperation> many(200, Op(PatchOperation::Op::kReplace, "/name", "n"));
  EXPECT_TRUE(ApplyTokenPatch(Sample(), many).ok());
  many.push_back(Op(PatchOperation::Op::kReplace, "/name", "n"));
  EXPECT_FALSE(ApplyTokenPatch(Sample(), many).ok());
}

}  // namespace
}  // namespace ts::domain
