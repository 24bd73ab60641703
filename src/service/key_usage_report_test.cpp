// KeyUsageReport: key-rotation progress for /metrics, counted at most once per refresh
// interval however often it is scraped.
#include "service/key_usage_report.h"

#include <gtest/gtest.h>

#include <string>

#include "service/service_test_support.h"

namespace ts::service {
namespace {

using namespace std::chrono_literals;

class KeyUsageReportTest : public ServiceTest {
 protected:
  std::string Scrape(KeyUsageReport& report) {
    metrics::Exposition out;
    report.Render(out);
    return out.Take();
  }
  static bool Has(const std::string& text, const std::string& line) {
    return text.find(line) != std::string::npos;
  }
};

TEST_F(KeyUsageReportTest, ReportsValuesPerKeyAndWhatARotationStillHasToDo) {
  CreateToken("a");
  CreateToken("b");
  KeyUsageReport report(*store_, *barrier_, clock_, 60s);
  std::string text = Scrape(report);
  EXPECT_TRUE(Has(text, "token_service_active_key_id 1\n")) << text;
  EXPECT_TRUE(Has(text, "token_service_sealed_values{key_id=\"1\"} 2\n")) << text;
  EXPECT_TRUE(Has(text, "token_service_sealed_values_not_under_active_key 0\n")) << text;

  // A new active key: both values now wait for the rotation.
  barrier_->ReplaceKeyRing(barrier_->Keys()->WithNewActiveKey().value());
  clock_.Advance(60'000);
  text = Scrape(report);
  EXPECT_TRUE(Has(text, "token_service_active_key_id 2\n")) << text;
  EXPECT_TRUE(Has(text, "token_service_sealed_values_not_under_active_key 2\n")) << text;
}

TEST_F(KeyUsageReportTest, CountsAtMostOncePerRefreshInterval) {
  CreateToken("a");
  KeyUsageReport report(*store_, *barrier_, clock_, 60s);
  EXPECT_TRUE(Has(Scrape(report), "token_service_sealed_values{key_id=\"1\"} 1\n"));
  CreateToken("b");
  clock_.Advance(59'000);
  std::string text = Scrape(report);
  EXPECT_TRUE(Has(text, "token_service_sealed_values{key_id=\"1\"} 1\n")) << "cached: " << text;
  EXPECT_TRUE(Has(text, "token_service_key_usage_age_seconds 59\n")) << text;
  clock_.Advance(1'000);
  text = Scrape(report);
  EXPECT_TRUE(Has(text, "token_service_sealed_values{key_id=\"1\"} 2\n")) << text;
  EXPECT_TRUE(Has(text, "token_service_key_usage_age_seconds 0\n")) << text;
}

}  // namespace
}  // namespace ts::service
