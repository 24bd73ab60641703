#include "http/request_checks.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace ts::http {
namespace {

TEST(RequestIdTest, AcceptsOnlyShortSafeIds) {
  EXPECT_TRUE(IsValidRequestId("a"));
  EXPECT_TRUE(IsValidRequestId("Abc-123_x.y"));
  EXPECT_TRUE(IsValidRequestId(std::string(64, 'z')));
  EXPECT_FALSE(IsValidRequestId(""));
  EXPECT_FALSE(IsValidRequestId(std::string(65, 'z')));
  EXPECT_FALSE(IsValidRequestId("has space"));
  EXPECT_FALSE(IsValidRequestId("new\nline"));
  EXPECT_FALSE(IsValidRequestId("quote\""));
  EXPECT_FALSE(IsValidRequestId("slash/"));
}

TEST(RequestIdTest, GeneratedIdsAreSixteenHexCharsAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string id = GenerateRequestId();
    EXPECT_EQ(id.size(), 16u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_TRUE(IsValidRequestId(id));
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(ClassifyOversizedHeaderTest, LongTargetIsUrlTooLong) {
  const std::string long_target = "/" + std::string(100, 'a');
  EXPECT_EQ(ClassifyOversizedHeader("GET " + long_target + " HTTP/1.1\r\nHost: h\r\n", 50),
            OversizedHeader::kUrlTooLong);
  // No line end yet: the target is at least as long as what arrived.
  EXPECT_EQ(ClassifyOversizedHeader("GET " + long_target, 50), OversizedHeader::kUrlTooLong);
}

TEST(ClassifyOversizedHeaderTest, ShortTargetIsFieldsTooLarge) {
  EXPECT_EQ(ClassifyOversizedHeader("GET /a HTTP/1.1\r\nX: " + std::string(1000, 'v'), 50),
            OversizedHeader::kFieldsTooLarge);
  // The target is measured without method and version.
  EXPECT_EQ(ClassifyOversizedHeader("GET /" + std::string(49, 'a') + " HTTP/1.1\r\nX: y", 50),
            OversizedHeader::kFieldsTooLarge);
  EXPECT_EQ(ClassifyOversizedHeader("GET /" + std::string(50, 'a') + " HTTP/1.1\r\nX: y", 50),
            OversizedHeader::kUrlTooLong);
}

TEST(HeaderListHasTokenTest, FindsTokenIgnoringCaseAndSpaces) {
  EXPECT_TRUE(HeaderListHasToken("close", "close"));
  EXPECT_TRUE(HeaderListHasToken("keep-alive, Close ", "close"));
  EXPECT_FALSE(HeaderListHasToken("keep-alive", "close"));
  EXPECT_FALSE(HeaderListHasToken("closed", "close"));
  EXPECT_FALSE(HeaderListHasToken("", "close"));
}

}  // namespace
}  // namespace ts::http
