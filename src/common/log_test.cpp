#include "common/log.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

namespace ts::log {
namespace {

// Runs `write` with stderr captured; returns what it wrote.
template <typename Fn>
std::string Captured(Fn&& write) {
  ::testing::internal::CaptureStderr();
  write();
  return ::testing::internal::GetCapturedStderr();
}

TEST(LogTest, OneJsonObjectPerLineWithEscapedStringsAndBareNumbers) {
  SetLevel(Level::kInfo);
  const std::string line = Captured([] {
    Info("test.event", {{"text", "quote\" back\\slash\nline\x01"}, {"count", "42", true}});
  });
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "exactly one line: " << line;
  const auto parsed = boost::json::parse(line).as_object();
  EXPECT_EQ(parsed.at("level").as_string(), "info");
  EXPECT_EQ(parsed.at("event").as_string(), "test.event");
  EXPECT_EQ(parsed.at("text").as_string(), "quote\" back\\slash\nline\x01");
  EXPECT_EQ(parsed.at("count").as_int64(), 42);
  EXPECT_TRUE(parsed.at("time").is_string());
}

TEST(LogTest, LinesBelowTheLevelAreNotWritten) {
  SetLevel(Level::kWarn);
  EXPECT_EQ(Captured([] { Info("test.quiet"); }), "");
  EXPECT_NE(Captured([] { Warn("test.loud"); }), "");
  SetLevel(Level::kInfo);
}

}  // namespace
}  // namespace ts::log
