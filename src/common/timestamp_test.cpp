#include "common/timestamp.h"

#include <gtest/gtest.h>

namespace ts {
namespace {

TEST(FormatTimestampTest, FixedWidthUtcWithMilliseconds) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(1764387000123), "2025-11-29T03:30:00.123Z");
  EXPECT_EQ(FormatTimestamp(951782400000 + 86399999), "2000-02-29T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(253402300799999), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(-62135596800000), "0001-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(1000 * 61 + 7), "1970-01-01T00:01:01.007Z");
}

TEST(FormatTimestampTest, YearsBeyondFourDigitsStillFormat) {
  EXPECT_EQ(FormatTimestamp(253402300800000), "10000-01-01T00:00:00.000Z");
}

TEST(FormatTimestampTest, RoundTripsThroughParse) {
  for (std::int64_t ms : {0LL, 1LL, 999LL, 1764387000123LL, 4102444799999LL, -86400000LL}) {
    EXPECT_EQ(ParseTimestamp(FormatTimestamp(ms)), ms) << ms;
  }
}

}  // namespace
}  // namespace ts
