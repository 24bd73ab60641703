#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "metrics/exposition.h"
#include "metrics/latency_histogram.h"
#include "metrics/registry.h"
#include "metrics/request_metrics.h"
#include "metrics/store_metrics.h"

namespace ts::metrics {
namespace {

using namespace std::chrono_literals;

bool Contains(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(LatencyHistogramTest, CountsEachObservationInItsBucketCumulatively) {
  LatencyHistogram histogram;
  histogram.Observe(100us);  // <= 0.0005
  histogram.Observe(500us);  // exactly on the bound: le is inclusive
  histogram.Observe(3ms);    // <= 0.005
  histogram.Observe(20s);    // only +Inf
  const auto snapshot = histogram.Read();
  EXPECT_EQ(snapshot.cumulative[0], 2u);                               // le 0.0005
  EXPECT_EQ(snapshot.cumulative[1], 2u);                               // le 0.001
  EXPECT_EQ(snapshot.cumulative[3], 3u);                               // le 0.005
  EXPECT_EQ(snapshot.cumulative[LatencyHistogram::kBuckets - 2], 3u);  // le 10
  EXPECT_EQ(snapshot.cumulative[LatencyHistogram::kBuckets - 1], 4u);  // +Inf
  EXPECT_EQ(snapshot.count, 4u);
  EXPECT_NEAR(snapshot.sum_seconds, 20.0036, 1e-9);
}

TEST(ExpositionTest, WritesHelpTypeAndEscapedLabels) {
  Exposition out;
  out.Family("x_total", "counter", "Help with a \\ backslash\nand a line feed.");
  out.Sample("x_total", {{"a", "quote\" back\\slash\nnewline"}, {"b", "plain"}}, std::uint64_t{7});
  out.Sample("x_total", {}, 1.5);
  EXPECT_EQ(out.text(),
            "# HELP x_total Help with a \\\\ backslash\\nand a line feed.\n"
            "# TYPE x_total counter\n"
            "x_total{a=\"quote\\\" back\\\\slash\\nnewline\",b=\"plain\"} 7\n"
            "x_total 1.5\n");
}

TEST(ExpositionTest, FormatsSpecialValuesAsTheFormatSpellsThem) {
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(FormatValue(0.005), "0.005");
  EXPECT_EQ(FormatValue(10), "10");
}

TEST(ExpositionTest, HistogramHasEveryBucketSumAndCount) {
  LatencyHistogram histogram;
  histogram.Observe(2ms);
  Exposition out;
  out.Histogram("h_seconds", {{"route", "/r"}}, histogram.Read());
  const std::string text = out.text();
  EXPECT_TRUE(Contains(text, "h_seconds_bucket{route=\"/r\",le=\"0.001\"} 0\n")) << text;
  EXPECT_TRUE(Contains(text, "h_seconds_bucket{route=\"/r\",le=\"0.0025\"} 1\n")) << text;
  EXPECT_TRUE(Contains(text, "h_seconds_bucket{route=\"/r\",le=\"+Inf\"} 1\n")) << text;
  EXPECT_TRUE(Contains(text, "h_seconds_sum{route=\"/r\"} 0.002\n")) << text;
  EXPECT_TRUE(Contains(text, "h_seconds_count{route=\"/r\"} 1\n")) << text;
}

TEST(RequestMetricsTest, CountsByRouteTemplateMethodAndStatus) {
  RequestMetrics metrics({"/items", "/items/{id}"});
  metrics.Record("/items/{id}", "GET", 200, 1ms);
  metrics.Record("/items/{id}", "GET", 200, 1ms);
  metrics.Record("/items/{id}", "PUT", 201, 1ms);
  metrics.Record("/items", "GET", 401, 1ms);
  Exposition out;
  metrics.Render(out);
  const std::string text = out.text();
  EXPECT_TRUE(Contains(text, "# TYPE token_service_http_requests_total counter\n"));
  EXPECT_TRUE(Contains(
      text,
      "token_service_http_requests_total{route=\"/items/{id}\",method=\"GET\",code=\"200\"} 2\n"))
      << text;
  EXPECT_TRUE(Contains(
      text,
      "token_service_http_requests_total{route=\"/items/{id}\",method=\"PUT\",code=\"201\"} 1\n"));
  EXPECT_TRUE(Contains(
      text, "token_service_http_requests_total{route=\"/items\",method=\"GET\",code=\"401\"} 1\n"));
  EXPECT_TRUE(Contains(
      text, "token_service_http_request_duration_seconds_count{route=\"/items/{id}\"} 3\n"));
  EXPECT_TRUE(
      Contains(text, "token_service_http_request_duration_seconds_count{route=\"/items\"} 1\n"));
}

TEST(RequestMetricsTest, UnknownRoutesAndMethodsShareOneFixedLabel) {
  RequestMetrics metrics({"/items"});
  // Paths as sent and invented methods must never become label values (cardinality, privacy).
  metrics.Record("/ai-service/secret-tenant/x", "BREW", 404, 1ms);
  metrics.Record("", "PROPFIND", 404, 1ms);
  Exposition out;
  metrics.Render(out);
  const std::string text = out.text();
  EXPECT_TRUE(Contains(
      text,
      "token_service_http_requests_total{route=\"unmatched\",method=\"other\",code=\"404\"} 2\n"))
      << text;
  EXPECT_FALSE(Contains(text, "secret-tenant"));
  EXPECT_FALSE(Contains(text, "BREW"));
  EXPECT_EQ(RequestMetrics::MethodLabel("PATCH"), "PATCH");
  EXPECT_EQ(RequestMetrics::MethodLabel("get"), "other");
}

TEST(RequestMetricsTest, ConcurrentRecordsAreAllCounted) {
  RequestMetrics metrics({"/a", "/b"});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < kPerThread; ++i) {
        metrics.Record(i % 2 ? "/a" : "/b", "GET", 200 + (i + t) % 3, 1ms);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  Exposition out;
  metrics.Render(out);
  const std::string text = out.text();
  EXPECT_TRUE(
      Contains(text, "token_service_http_request_duration_seconds_count{route=\"/a\"} 10000\n"))
      << text;
  EXPECT_TRUE(
      Contains(text, "token_service_http_request_duration_seconds_count{route=\"/b\"} 10000\n"))
      << text;
  // Every series' counts add up to the whole.
  std::uint64_t total = 0;
  std::size_t pos = 0;
  const std::string prefix = "token_service_http_requests_total{";
  while ((pos = text.find(prefix, pos)) != std::string::npos) {
    const std::size_t space = text.find("} ", pos);
    const std::size_t end = text.find('\n', space);
    total += std::stoull(text.substr(space + 2, end - space - 2));
    pos = end;
  }
  EXPECT_EQ(total, std::uint64_t{kThreads} * kPerThread);
  EXPECT_TRUE(Contains(text, "token_service_http_requests_unlabelled_total 0\n"));
}

TEST(StoreMetricsTest, RecordsLatencyAndFailuresPerOperation) {
  StoreMetrics metrics;
  metrics.Record(StoreOperation::kGet, 1ms, false);
  metrics.Record(StoreOperation::kGet, 1ms, true);
  metrics.Record(StoreOperation::kInsert, 1ms, false);
  Exposition out;
  metrics.Render(out);
  const std::string text = out.text();
  EXPECT_TRUE(Contains(
      text, "token_service_store_operation_duration_seconds_count{operation=\"get\"} 2\n"));
  EXPECT_TRUE(Contains(
      text, "token_service_store_operation_duration_seconds_count{operation=\"insert\"} 1\n"));
  EXPECT_TRUE(Contains(text, "token_service_store_operation_errors_total{operation=\"get\"} 1\n"));
  EXPECT_TRUE(
      Contains(text, "token_service_store_operation_errors_total{operation=\"insert\"} 0\n"));
}

TEST(StoreMetricsTest, PoolUsageHasOneGaugeOrCounterEach) {
  Exposition out;
  RenderPoolUsage(out, PoolUsage{16, 3, 2, 5, 1});
  const std::string text = out.text();
  EXPECT_TRUE(Contains(text, "token_service_store_pool_size 16\n"));
  EXPECT_TRUE(Contains(text, "token_service_store_pool_open_connections 3\n"));
  EXPECT_TRUE(Contains(text, "token_service_store_pool_in_use_connections 2\n"));
  EXPECT_TRUE(Contains(text, "token_service_store_pool_waits_total 5\n"));
  EXPECT_TRUE(Contains(text, "token_service_store_pool_wait_timeouts_total 1\n"));
}

TEST(StoreMetricsTest, WriteBatchUsageHasTwoCountersAndTheQueueLength) {
  Exposition out;
  RenderWriteBatchUsage(out, WriteBatchUsage{4, 10, 3});
  const std::string text = out.text();
  EXPECT_TRUE(Contains(text, "# TYPE token_service_store_write_batches_total counter\n"));
  EXPECT_TRUE(Contains(text, "token_service_store_write_batches_total 4\n"));
  EXPECT_TRUE(Contains(text, "token_service_store_batched_writes_total 10\n"));
  EXPECT_TRUE(Contains(text, "# TYPE token_service_store_write_queue_length gauge\n"));
  EXPECT_TRUE(Contains(text, "token_service_store_write_queue_length 3\n"));
}

TEST(MetricsRegistryTest, RendersCollectorsInOrderWithBuildInfo) {
  MetricsRegistry registry;
  registry.Add([](Exposition& out) { RenderBuildInfo(out, "1.2.3", "abc123"); });
  registry.Add([](Exposition& out) {
    out.Family("second", "gauge", "Second.");
    out.Sample("second", {}, std::int64_t{2});
  });
  const std::string text = registry.Render();
  EXPECT_TRUE(
      Contains(text, "token_service_build_info{version=\"1.2.3\",revision=\"abc123\"} 1\n"));
  EXPECT_LT(text.find("token_service_build_info"), text.find("second 2"));
}

}  // namespace
}  // namespace ts::metrics
