#include "http/open_file_limit.h"

#include <gtest/gtest.h>

namespace ts::http {
namespace {

TEST(OpenFileLimitTest, RaisesTheSoftLimitToTheHardLimit) {
  auto before = CurrentOpenFileLimit();
  ASSERT_TRUE(before.ok()) << before.error().message;
  auto raised = RaiseOpenFileLimit();
  ASSERT_TRUE(raised.ok()) << raised.error().message;
  EXPECT_GE(raised->soft, before->soft);
  EXPECT_EQ(raised->hard, before->hard);
  if (before->hard != UINT64_MAX) {
    EXPECT_EQ(raised->soft, raised->hard);
  }
  auto after = CurrentOpenFileLimit();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->soft, raised->soft);
  // A second call changes nothing.
  auto again = RaiseOpenFileLimit();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->soft, raised->soft);
}

}  // namespace
}  // namespace ts::http
