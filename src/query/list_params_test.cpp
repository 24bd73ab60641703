#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "query/query.h"
#include "query/test_schema.h"

namespace ts::query {
namespace {

using test_schemas::RichSchema;
using test_schemas::TokenLikeSchema;
using ::testing::HasSubstr;

void ExpectFieldError(const Error& error, std::string_view field, std::string_view type) {
  EXPECT_EQ(error.code, ErrorCode::kInvalidArgument);
  ASSERT_EQ(error.details.size(), 1u);
  EXPECT_EQ(error.details[0].field, field);
  EXPECT_EQ(error.details[0].type, type) << error.message;
}

// ---- ResourceSchema ----

TEST(ResourceSchemaTest, FindByFullPath) {
  const ResourceSchema& schema = RichSchema();
  ASSERT_NE(schema.Find("metadata.version"), nullptr);
  EXPECT_EQ(schema.Find("metadata.version")->type, FieldType::kInteger);
  EXPECT_EQ(schema.Find("config.url")->type, FieldType::kString);
  EXPECT_EQ(schema.Find("metadata"), nullptr);
  EXPECT_EQ(schema.Find("version"), nullptr);
  EXPECT_EQ(schema.Find("Name"), nullptr);
  EXPECT_EQ(schema.Find(""), nullptr);
  EXPECT_EQ(schema.Find("value"), nullptr);
}

// ---- sort ----

std::vector<SortKey> SortOk(std::string_view sort, const ResourceSchema& schema = RichSchema()) {
  auto result = ParseSort(sort, schema);
  EXPECT_TRUE(result.ok()) << sort << ": " << (result.ok() ? "" : result.error().message);
  return result.ok() ? *result : std::vector<SortKey>{};
}

Error SortError(std::string_view sort) {
  auto result = ParseSort(sort, RichSchema());
  EXPECT_FALSE(result.ok()) << sort;
  return result.ok() ? Error{} : result.error();
}

TEST(ParseSortTest, EmptyMeansIdAscending) {
  for (std::string_view sort : {"", " ", "\t"}) {
    auto keys = SortOk(sort);
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_EQ(keys[0].field, "id");
    EXPECT_FALSE(keys[0].descending);
    EXPECT_EQ(keys[0].type, FieldType::kString);
  }
}

TEST(ParseSortTest, FieldsWithDirectionsThenId) {
  auto keys = SortOk("name,metadata.createdAt:desc");
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].field, "name");
  EXPECT_FALSE(keys[0].descending);
  EXPECT_EQ(keys[1].field, "metadata.createdAt");
  EXPECT_TRUE(keys[1].descending);
  EXPECT_EQ(keys[1].type, FieldType::kTimestamp);
  EXPECT_EQ(keys[2].field, "id");
  EXPECT_FALSE(keys[2].descending);
}

TEST(ParseSortTest, DirectionIsCaseInsensitive) {
  EXPECT_TRUE(SortOk("name:DESC")[0].descending);
  EXPECT_TRUE(SortOk("name:Desc")[0].descending);
  EXPECT_FALSE(SortOk("name:ASC")[0].descending);
  EXPECT_FALSE(SortOk("name:asc")[0].descending);
}

TEST(ParseSortTest, ExplicitIdIsNotRepeated) {
  auto keys = SortOk("id:desc,name");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].field, "id");
  EXPECT_TRUE(keys[0].descending);
  EXPECT_EQ(keys[1].field, "name");
}

TEST(ParseSortTest, WhiteSpaceAroundItemsIsTrimmed) {
  auto keys = SortOk(" name : desc , metadata.version ");
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].field, "name");
  EXPECT_TRUE(keys[0].descending);
  EXPECT_EQ(keys[1].field, "metadata.version");
  EXPECT_EQ(keys[1].type, FieldType::kInteger);
}

TEST(ParseSortTest, AllTokenFieldsAreSortable) {
  auto keys =
      SortOk("id,name,metadata.version,metadata.createdAt,metadata.modifiedAt", TokenLikeSchema());
  EXPECT_EQ(keys.size(), 5u);
}

TEST(ParseSortTest, UnknownFieldIsNamed) {
  Error error = SortError("nme");
  ExpectFieldError(error, "sort", "unknownField");
  EXPECT_THAT(error.message, HasSubstr("'nme'"));
  ExpectFieldError(SortError("value"), "sort", "unknownField");
  ExpectFieldError(SortError("metadata"), "sort", "unknownField");
  ExpectFieldError(SortError("Name"), "sort", "unknownField");
}

TEST(ParseSortTest, NonSortableField) {
  Error error = SortError("description");
  ExpectFieldError(error, "sort", "notSortable");
  EXPECT_THAT(error.message, HasSubstr("'description'"));
}

TEST(ParseSortTest, DuplicateField) {
  ExpectFieldError(SortError("name,name:desc"), "sort", "duplicate");
  ExpectFieldError(SortError("id,name,id"), "sort", "duplicate");
}

TEST(ParseSortTest, BadDirection) {
  ExpectFieldError(SortError("name:down"), "sort", "syntax");
  ExpectFieldError(SortError("name:"), "sort", "syntax");
  ExpectFieldError(SortError("name:desc:asc"), "sort", "syntax");
  ExpectFieldError(SortError("name desc"), "sort", "unknownField");
}

TEST(ParseSortTest, EmptyItems) {
  ExpectFieldError(SortError(","), "sort", "syntax");
  ExpectFieldError(SortError("name,"), "sort", "syntax");
  ExpectFieldError(SortError(",name"), "sort", "syntax");
  ExpectFieldError(SortError("name,,id"), "sort", "syntax");
  ExpectFieldError(SortError("name, ,id"), "sort", "syntax");
  ExpectFieldError(SortError(":desc"), "sort", "unknownField");
}

TEST(ParseSortTest, LongFieldIsQuotedAtMost100Characters) {
  Error error = SortError(std::string(300, 'z'));
  EXPECT_EQ(error.message.find(std::string(101, 'z')), std::string::npos);
}

// Found by tests/fuzz/query_fuzz (corpus/query/regress_truncate_continuation_bytes): stray UTF-8
// continuation bytes did not count towards the 100-character quote, so each of them came out as
// a 3-byte U+FFFD and the message grew with the input.
TEST(ParseSortTest, IllFormedUtf8IsQuotedAtMost100Characters) {
  const std::string sort = std::string(9, '3') + std::string(400, '\x90') + std::string(40, '+');
  Error error = SortError(sort);
  EXPECT_LE(error.message.size(), 400u) << error.message.size();
}

// ---- fields ----

Projection FieldsOk(std::string_view fields, const ResourceSchema& schema = TokenLikeSchema()) {
  auto result = ParseFields(fields, schema);
  EXPECT_TRUE(result.ok()) << fields << ": " << (result.ok() ? "" : result.error().message);
  return result.ok() ? *result : Projection{};
}

Error FieldsError(std::string_view fields, const ResourceSchema& schema = TokenLikeSchema()) {
  auto result = ParseFields(fields, schema);
  EXPECT_FALSE(result.ok()) << fields;
  return result.ok() ? Error{} : result.error();
}

TEST(ParseFieldsTest, EmptyMeansEverything) {
  EXPECT_TRUE(FieldsOk("").names.empty());
  EXPECT_TRUE(FieldsOk("  ").names.empty());
}

TEST(ParseFieldsTest, ListInOrder) {
  EXPECT_THAT(FieldsOk("id,name").names, ::testing::ElementsAre("id", "name"));
  EXPECT_THAT(FieldsOk(" metadata.version , id ").names,
              ::testing::ElementsAre("metadata.version", "id"));
  EXPECT_THAT(
      FieldsOk("id,name,metadata,metadata.version,metadata.createdAt,metadata.modifiedAt").names,
      ::testing::SizeIs(6));
}

TEST(ParseFieldsTest, DuplicatesCollapse) {
  EXPECT_THAT(FieldsOk("id,name,id").names, ::testing::ElementsAre("id", "name"));
}

TEST(ParseFieldsTest, ValueIsNeverReturned) {
  Error error = FieldsError("id,value");
  ExpectFieldError(error, "fields", "forbidden");
  EXPECT_THAT(error.message, HasSubstr("'value'"));
  EXPECT_THAT(error.message, HasSubstr("never returned"));
  ExpectFieldError(FieldsError("value.x"), "fields", "forbidden");
  ExpectFieldError(FieldsError("config.secret", RichSchema()), "fields", "forbidden");
  // "valueX" is not below "value": it is just unknown.
  ExpectFieldError(FieldsError("valueX"), "fields", "unknownField");
}

TEST(ParseFieldsTest, UnknownFieldIsNamed) {
  Error error = FieldsError("id,nme");
  ExpectFieldError(error, "fields", "unknownField");
  EXPECT_THAT(error.message, HasSubstr("'nme'"));
  ExpectFieldError(FieldsError("metadata.foo"), "fields", "unknownField");
  ExpectFieldError(FieldsError("ID"), "fields", "unknownField");
  ExpectFieldError(FieldsError("enabled"), "fields", "unknownField");
  EXPECT_THAT(FieldsOk("enabled,config.url", RichSchema()).names, ::testing::SizeIs(2));
}

TEST(ParseFieldsTest, EmptyItems) {
  ExpectFieldError(FieldsError("id,"), "fields", "syntax");
  ExpectFieldError(FieldsError(",id"), "fields", "syntax");
  ExpectFieldError(FieldsError("id,,name"), "fields", "syntax");
  ExpectFieldError(FieldsError(","), "fields", "syntax");
}

TEST(ParseFieldsTest, LongFieldIsQuotedAtMost100Characters) {
  Error error = FieldsError(std::string(300, 'z'));
  EXPECT_EQ(error.message.find(std::string(101, 'z')), std::string::npos);
}

TEST(ParseFieldsTest, IllFormedUtf8IsQuotedAtMost100Characters) {
  Error error = FieldsError(std::string(400, '\x90'));
  EXPECT_LE(error.message.size(), 400u) << error.message.size();
}

// ---- Projection ----

TEST(ProjectionTest, EmptyIncludesEverything) {
  Projection all;
  EXPECT_TRUE(all.Includes("id"));
  EXPECT_TRUE(all.Includes("metadata.version"));
  EXPECT_TRUE(all.IncludesExactly("metadata"));
}

TEST(ProjectionTest, IncludesSelfAncestorsAndDescendants) {
  Projection p{{"id", "metadata.version"}};
  EXPECT_TRUE(p.Includes("id"));
  EXPECT_TRUE(p.Includes("metadata.version"));
  EXPECT_TRUE(p.Includes("metadata"));  // as the container of metadata.version
  EXPECT_FALSE(p.Includes("metadata.createdAt"));
  EXPECT_FALSE(p.Includes("name"));
  EXPECT_FALSE(p.Includes("i"));
  EXPECT_FALSE(p.Includes("metadata.ver"));
  EXPECT_FALSE(p.Includes("metadata.versionX"));
  EXPECT_FALSE(p.Includes(""));
}

TEST(ProjectionTest, AncestorIncludesDescendants) {
  Projection p{{"metadata"}};
  EXPECT_TRUE(p.Includes("metadata"));
  EXPECT_TRUE(p.Includes("metadata.version"));
  EXPECT_TRUE(p.Includes("metadata.createdAt"));
  EXPECT_FALSE(p.Includes("metadataX"));
  EXPECT_FALSE(p.Includes("id"));
}

TEST(ProjectionTest, IncludesExactly) {
  Projection p{{"id", "metadata.version"}};
  EXPECT_TRUE(p.IncludesExactly("id"));
  EXPECT_TRUE(p.IncludesExactly("metadata.version"));
  EXPECT_FALSE(p.IncludesExactly("metadata"));  // only partly selected
  EXPECT_FALSE(p.IncludesExactly("metadata.createdAt"));
  Projection whole{{"metadata"}};
  EXPECT_TRUE(whole.IncludesExactly("metadata"));
  EXPECT_TRUE(whole.IncludesExactly("metadata.createdAt"));
  EXPECT_FALSE(whole.IncludesExactly("metadataX"));
}

// ---- paging ----

Error PagingError(std::optional<std::string_view> size, std::optional<std::string_view> number) {
  auto result = ParsePaging(size, number);
  EXPECT_FALSE(result.ok());
  return result.ok() ? Error{} : result.error();
}

TEST(ParsePagingTest, Defaults) {
  auto paging = ParsePaging(std::nullopt, std::nullopt);
  ASSERT_TRUE(paging.ok());
  EXPECT_EQ(paging->page_size, kDefaultPageSize);
  EXPECT_EQ(paging->page_size, 60);
  EXPECT_EQ(paging->page_number, 1);
  EXPECT_EQ(paging->Offset(), 0);
}

TEST(ParsePagingTest, Values) {
  auto paging = ParsePaging("25", "3");
  ASSERT_TRUE(paging.ok());
  EXPECT_EQ(paging->page_size, 25);
  EXPECT_EQ(paging->page_number, 3);
  EXPECT_EQ(paging->Offset(), 50);
  auto leading_zeros = ParsePaging("010", "007");
  ASSERT_TRUE(leading_zeros.ok());
  EXPECT_EQ(leading_zeros->page_size, 10);
  EXPECT_EQ(leading_zeros->page_number, 7);
}

TEST(ParsePagingTest, Bounds) {
  EXPECT_TRUE(ParsePaging("1", "1").ok());
  EXPECT_TRUE(ParsePaging("1000", std::nullopt).ok());
  auto last = ParsePaging("1000", "1000000000");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->Offset(), 999'999'999'000);
  ExpectFieldError(PagingError("0", std::nullopt), "pageSize", "range");
  ExpectFieldError(PagingError("1001", std::nullopt), "pageSize", "range");
  ExpectFieldError(PagingError(std::nullopt, "0"), "pageNumber", "range");
  ExpectFieldError(PagingError(std::nullopt, "1000000001"), "pageNumber", "range");
  ExpectFieldError(PagingError("99999999999999999999999", std::nullopt), "pageSize", "range");
  ExpectFieldError(PagingError(std::nullopt, "99999999999999999999999"), "pageNumber", "range");
}

TEST(ParsePagingTest, NotWholeNumbers) {
  for (std::string_view bad :
       {"", " ", "abc", "-1", "+1", "1.0", "1e2", " 5", "5 ", "0x10", "١٢", "5a", "-0"}) {
    ExpectFieldError(PagingError(bad, std::nullopt), "pageSize", "type");
    ExpectFieldError(PagingError(std::nullopt, bad), "pageNumber", "type");
  }
}

TEST(ParsePagingTest, PageSizeIsCheckedFirst) {
  ExpectFieldError(PagingError("x", "y"), "pageSize", "type");
}

TEST(ParsePagingTest, MessageNamesTheParameter) {
  EXPECT_THAT(PagingError("abc", std::nullopt).message, HasSubstr("pageSize"));
  EXPECT_THAT(PagingError(std::nullopt, "0").message, HasSubstr("pageNumber"));
}

}  // namespace
}  // namespace ts::query
