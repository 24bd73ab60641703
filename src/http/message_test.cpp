#include "http/message.h"

#include <gtest/gtest.h>

namespace ts::http {
namespace {

TEST(HttpRequestTest, HeaderLookupIgnoresCaseAndReturnsFirst) {
  HttpRequest request;
  request.headers = {{"Content-Type", "application/json"}, {"X-Dup", "one"}, {"x-dup", "two"}};
  EXPECT_EQ(request.Header("content-type"), "application/json");
  EXPECT_EQ(request.Header("X-DUP"), "one");
  EXPECT_FALSE(request.Header("Authorization"));
  EXPECT_FALSE(request.Header(""));
}

TEST(HttpResponseTest, SetHeaderAppendsOrReplaces) {
  HttpResponse response;
  response.SetHeader("Content-Type", "text/plain");
  response.SetHeader("ETag", "\"1\"");
  response.SetHeader("content-type", "application/json");
  ASSERT_EQ(response.headers.size(), 2u);
  EXPECT_EQ(response.headers[0].first, "Content-Type");
  EXPECT_EQ(response.headers[0].second, "application/json");
  EXPECT_EQ(response.headers[1].second, "\"1\"");
}

TEST(HttpResponseTest, SetHeaderRemovesLaterDuplicates) {
  HttpResponse response;
  response.headers = {{"Allow", "GET"}, {"X-Other", "1"}, {"allow", "PUT"}};
  response.SetHeader("ALLOW", "GET, PUT");
  ASSERT_EQ(response.headers.size(), 2u);
  EXPECT_EQ(response.headers[0].second, "GET, PUT");
  EXPECT_EQ(response.headers[1].first, "X-Other");
}

}  // namespace
}  // namespace ts::http
