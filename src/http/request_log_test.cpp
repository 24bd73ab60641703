#include "http/request_log.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "common/log.h"

namespace ts::http {
namespace {

using namespace std::chrono_literals;

boost::json::object LoggedLine(const RequestRecord& record) {
  ::testing::internal::CaptureStderr();
  LogRequest(record);
  const std::string text = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line: " << text;
  return boost::json::parse(text).as_object();
}

TEST(RequestLogTest, OneLineWithEveryKnownField) {
  log::SetLevel(log::Level::kInfo);
  RequestRecord record;
  record.request_id = "req-1";
  record.method = "PUT";
  record.route = "/ai-service/{tenant}/agentic/tokens/{tokenId}";
  record.tenant = "acme";
  record.subject = "alice";
  record.status = 201;
  record.duration = 1500us;
  const auto line = LoggedLine(record);
  EXPECT_EQ(line.at("event").as_string(), "http.request");
  EXPECT_EQ(line.at("level").as_string(), "info");
  EXPECT_EQ(line.at("request_id").as_string(), "req-1");
  EXPECT_EQ(line.at("method").as_string(), "PUT");
  EXPECT_EQ(line.at("route").as_string(), "/ai-service/{tenant}/agentic/tokens/{tokenId}");
  EXPECT_EQ(line.at("status").as_int64(), 201);
  EXPECT_DOUBLE_EQ(line.at("duration_ms").to_number<double>(), 1.5);
  EXPECT_EQ(line.at("tenant").as_string(), "acme");
  EXPECT_EQ(line.at("subject").as_string(), "alice");
  EXPECT_FALSE(line.contains("written"));
}

TEST(RequestLogTest, UnknownFieldsAreLeftOutAndNoRouteIsUnmatched) {
  log::SetLevel(log::Level::kInfo);
  RequestRecord record;
  record.request_id = "0123456789abcdef";
  record.method = "GET";
  record.status = 404;
  record.written = false;
  const auto line = LoggedLine(record);
  EXPECT_EQ(line.at("route").as_string(), "unmatched");
  EXPECT_FALSE(line.contains("tenant"));
  EXPECT_FALSE(line.contains("subject"));
  EXPECT_EQ(line.at("written").as_bool(), false);
}

TEST(RequestLogTest, NothingBelowInfo) {
  log::SetLevel(log::Level::kWarn);
  ::testing::internal::CaptureStderr();
  LogRequest(RequestRecord{});
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  log::SetLevel(log::Level::kInfo);
}

}  // namespace
}  // namespace ts::http
