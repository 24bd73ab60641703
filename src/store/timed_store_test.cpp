// TimedStore forwards every call and records it under its operation kind.
#include "store/timed_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "store/sqlite/sqlite_store.h"

namespace ts::store {
namespace {

class TimedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ts-timed-store-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto opened = OpenSqliteStore({dir_ + "/t.db", "NORMAL"});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    inner_ = std::move(opened).value();
    timed_ = std::make_unique<TimedStore>(*inner_, metrics_);
  }
  void TearDown() override {
    timed_.reset();
    inner_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string Rendered() const {
    metrics::Exposition out;
    metrics_.Render(out);
    return out.Take();
  }

  static bool Has(const std::string& text, const std::string& line) {
    return text.find(line) != std::string::npos;
  }

  std::string dir_;
  metrics::StoreMetrics metrics_;
  std::unique_ptr<Store> inner_;
  std::unique_ptr<TimedStore> timed_;
};

TEST_F(TimedStoreTest, ForwardsAndRecordsEachCallUnderItsKind) {
  TokenRecord record;
  record.token.id = "t1";
  record.token.name = "n";
  record.token.metadata.version = 1;
  record.sealed_value = {1, 2, 3};
  ASSERT_TRUE(timed_->Insert("acme", record).ok());
  auto got = timed_->Get("acme", "t1");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value()) << "the call reached the wrapped store";
  EXPECT_EQ((*got)->token.name, "n");
  ASSERT_TRUE(timed_->Get("acme", "absent").ok());
  ASSERT_TRUE(timed_->Ping().ok());
  // A duplicate create is an answer (409), not a database failure.
  EXPECT_FALSE(timed_->Insert("acme", record).ok());

  const std::string text = Rendered();
  EXPECT_TRUE(
      Has(text, "token_service_store_operation_duration_seconds_count{operation=\"get\"} 2\n"))
      << text;
  EXPECT_TRUE(
      Has(text, "token_service_store_operation_duration_seconds_count{operation=\"insert\"} 2\n"));
  EXPECT_TRUE(
      Has(text, "token_service_store_operation_duration_seconds_count{operation=\"ping\"} 1\n"));
  EXPECT_TRUE(Has(text, "token_service_store_operation_errors_total{operation=\"insert\"} 0\n"));
}

TEST_F(TimedStoreTest, SqliteHasNoPoolToReport) {
  EXPECT_FALSE(timed_->ConnectionPoolUsage().has_value());
}

}  // namespace
}  // namespace ts::store
