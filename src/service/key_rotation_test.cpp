// Tests for the re-wrap pass of a key rotation, on a real SQLite store wrapped in a store that
// injects faults: writes by "the running service" between the pass's read and its swap (which
// must never be overwritten), a crash after N rows (resumable), values that do not open, stale
// key id bookkeeping, and store errors.
#include "service/key_rotation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>

#include "crypto/key_ring.h"
#include "service/key_check.h"
#include "store/sqlite/sqlite_store.h"

namespace ts::service {
namespace {

using ::testing::ElementsAre;
using Counts = std::map<std::uint32_t, std::int64_t>;

// Forwards to a real store; lets a test act just before a batch of swaps, or fail it.
class FaultInjectingStore final : public store::TokenStore {
 public:
  explicit FaultInjectingStore(store::TokenStore& inner) : inner_(inner) {}

  std::function<void(std::span<const store::SealedValueSwap>)> before_swap;
  std::optional<Error> swap_error;
  int swap_calls = 0;

  Result<std::optional<store::TokenRecord>> Get(std::string_view t, std::string_view id) override {
    return inner_.Get(t, id);
  }
  Result<store::ListPage> List(const store::ListQuery& q) override { return inner_.List(q); }
  Result<void> Insert(std::string_view t, const store::TokenRecord& r) override {
    return inner_.Insert(t, r);
  }
  Result<void> Update(std::string_view t, const domain::Token& u, std::int64_t v) override {
    return inner_.Update(t, u, v);
  }
  Result<store::DeleteResult> Delete(std::string_view t, std::string_view id,
                                     const store::DeleteRequest& r) override {
    return inner_.Delete(t, id, r);
  }
  Result<void> Ping() override { return inner_.Ping(); }
  Result<std::optional<std::vector<std::uint8_t>>> GetSetting(std::string_view name) override {
    return inner_.GetSetting(name);
  }
  Result<bool> PutSetting(std::string_view name, std::span<const std::uint8_t> value,
                          const std::optional<std::vector<std::uint8_t>>& expected) override {
    return inner_.PutSetting(name, value, expected);
  }
  Result<std::vector<store::SealedValueRow>> ListSealedValues(
      const std::optional<store::SealedValueKey>& after, std::size_t limit,
      std::optional<std::uint32_t> skip) override {
    return inner_.ListSealedValues(after, limit, skip);
  }
  Result<std::vector<bool>> SwapSealedValues(
      std::span<const store::SealedValueSwap> swaps) override {
    ++swap_calls;
    if (swap_error) return *swap_error;
    if (before_swap) {
      auto hook = std::move(before_swap);  // once
      before_swap = nullptr;
      hook(swaps);
    }
    return inner_.SwapSealedValues(swaps);
  }
  Result<std::map<std::uint32_t, std::int64_t>> CountSealedValuesByKeyId() override {
    return inner_.CountSealedValuesByKeyId();
  }

 private:
  store::TokenStore& inner_;
};

class KeyRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::InitCrypto().ok());
    char tmpl[] = "/tmp/ts-key-rotation-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    auto store = store::OpenSqliteStore({dir_ + "/t.db", "NORMAL"});
    ASSERT_TRUE(store.ok()) << store.error().message;
    real_ = std::move(store).value();
    store_ = std::make_unique<FaultInjectingStore>(*real_);
    ASSERT_TRUE(VerifyOrCreateKeyCheck(*store_, old_barrier_).ok());
    auto two = old_ring_->WithNewActiveKey();
    ASSERT_TRUE(two.ok());
    new_ring_ = *two;
    new_barrier_ = std::make_unique<crypto::ValueBarrier>(new_ring_);
  }
  void TearDown() override {
    store_.reset();
    real_.reset();
    std::filesystem::remove_all(dir_);
  }

  static std::string ValueOf(const std::string& tenant, const std::string& id) {
    return "value of " + tenant + "/" + id;
  }

  // Writes a token the way TokenService does: sealed by `barrier`, key id recorded.
  void Write(const std::string& tenant, const std::string& id, const crypto::ValueBarrier& barrier,
             const std::string& value) {
    auto sealed = barrier.Seal(tenant, id, value);
    ASSERT_TRUE(sealed.ok());
    store::TokenRecord record{{id, id, {1, 0, 0}}, *sealed, *crypto::SealedKeyId(*sealed)};
    ASSERT_TRUE(store_->Insert(tenant, record).ok());
  }

  void WriteMany(int per_tenant) {
    for (const std::string tenant : {"acme", "globex"}) {
      for (int i = 0; i < per_tenant; ++i) {
        const std::string id = "t" + std::to_string(i);
        Write(tenant, id, old_barrier_, ValueOf(tenant, id));
      }
    }
  }

  Counts CountsNow() {
    auto counts = store_->CountSealedValuesByKeyId();
    EXPECT_TRUE(counts.ok());
    return counts.ok() ? *counts : Counts{};
  }

  // Opens the stored value with a ring that holds key 2 only: proof it no longer needs key 1.
  std::string OpenWithNewKeyOnly(const std::string& tenant, const std::string& id) {
    auto only_two = new_ring_->WithoutKey(1);
    EXPECT_TRUE(only_two.ok());
    crypto::ValueBarrier retired(*only_two);
    auto record = store_->Get(tenant, id);
    EXPECT_TRUE(record.ok() && record->has_value());
    if (!record.ok() || !record->has_value()) return "<absent>";
    auto opened = retired.Open(tenant, id, (*record)->sealed_value);
    if (!opened.ok()) return "<does not open: " + opened.error().internal + ">";
    return std::string(opened->view());
  }

  RewrapReport MustRewrap(const RewrapOptions& options) {
    auto report = RewrapToActiveKey(*store_, *new_barrier_, options);
    EXPECT_TRUE(report.ok()) << report.error().message << " / " << report.error().internal;
    return report.ok() ? *report : RewrapReport{};
  }

  std::string dir_;
  std::unique_ptr<store::TokenStore> real_;
  std::unique_ptr<FaultInjectingStore> store_;
  std::shared_ptr<const crypto::KeyRing> old_ring_ = crypto::KeyRing::Generate();
  crypto::ValueBarrier old_barrier_{old_ring_};
  std::shared_ptr<const crypto::KeyRing> new_ring_;
  std::unique_ptr<crypto::ValueBarrier> new_barrier_;
};

TEST_F(KeyRotationTest, MovesEveryValueAndTheKeyCheckToTheActiveKey) {
  WriteMany(25);
  std::vector<std::int64_t> progress;
  RewrapOptions options;
  options.batch_size = 7;
  auto report = RewrapToActiveKey(*store_, *new_barrier_, options,
                                  [&](const RewrapReport& r) { progress.push_back(r.done()); });
  ASSERT_TRUE(report.ok()) << report.error().internal;
  EXPECT_EQ(report->active_key_id, 2u);
  EXPECT_EQ(report->total, 50);
  EXPECT_EQ(report->rewrapped, 50);
  EXPECT_EQ(report->failed, 0);
  EXPECT_TRUE(report->key_check_rewrapped);
  EXPECT_FALSE(report->stopped);
  EXPECT_EQ(progress.front(), 0);
  EXPECT_EQ(progress.back(), 50);
  EXPECT_EQ(progress.size(), 1u + 8u) << "one call up front, then one per batch of 7";
  EXPECT_EQ(CountsNow(), (Counts{{2, 50}}));
  EXPECT_EQ(KeyCheckKeyId(*store_)->value(), 2u);
  for (const std::string tenant : {"acme", "globex"}) {
    for (int i = 0; i < 25; ++i) {
      const std::string id = "t" + std::to_string(i);
      EXPECT_EQ(OpenWithNewKeyOnly(tenant, id), ValueOf(tenant, id));
    }
  }
  // A second pass finds nothing to do.
  RewrapReport again = MustRewrap({});
  EXPECT_EQ(again.total, 0);
  EXPECT_EQ(again.rewrapped, 0);
  EXPECT_FALSE(again.key_check_rewrapped);
}

TEST_F(KeyRotationTest, AWriteBetweenReadAndSwapIsNeverOverwritten) {
  WriteMany(5);
  store_->before_swap = [&](std::span<const store::SealedValueSwap> swaps) {
    ASSERT_GE(swaps.size(), 3u);
    // The running service (still on the old ring) deletes one token and re-creates another
    // with a new value, after the pass read them and before it swaps.
    ASSERT_TRUE(real_->Delete(swaps[0].tenant, swaps[0].id, {}).ok());
    ASSERT_TRUE(real_->Delete(swaps[1].tenant, swaps[1].id, {}).ok());
    Write(swaps[1].tenant, swaps[1].id, old_barrier_, "the new value");
  };
  RewrapOptions options;
  options.batch_size = 100;
  RewrapReport report = MustRewrap(options);
  EXPECT_EQ(report.rewrapped, 9) << "8 untouched rows + the re-created one, re-read and retried";
  EXPECT_EQ(report.skipped, 1) << "the deleted row";
  EXPECT_FALSE(store_->Get("acme", "t0")->has_value()) << "a deleted row must not come back";
  EXPECT_EQ(OpenWithNewKeyOnly("acme", "t1"), "the new value") << "the concurrent write won";
  EXPECT_EQ(CountsNow(), (Counts{{2, 9}}));
}

TEST_F(KeyRotationTest, StoppedPassLeavesAConsistentMixAndAnotherPassFinishesIt) {
  WriteMany(20);
  RewrapOptions options;
  options.batch_size = 4;
  options.stop_after = 10;
  RewrapReport stopped = MustRewrap(options);
  EXPECT_TRUE(stopped.stopped);
  EXPECT_EQ(stopped.rewrapped, 10);
  EXPECT_EQ(CountsNow(), (Counts{{1, 30}, {2, 10}}));
  // Every row opens with the ring that holds both keys, whichever key it is under now.
  for (const std::string tenant : {"acme", "globex"}) {
    for (int i = 0; i < 20; ++i) {
      const std::string id = "t" + std::to_string(i);
      auto record = store_->Get(tenant, id);
      ASSERT_TRUE(record.ok() && record->has_value());
      auto opened = new_barrier_->Open(tenant, id, (*record)->sealed_value);
      ASSERT_TRUE(opened.ok()) << tenant << "/" << id;
      EXPECT_EQ(opened->view(), ValueOf(tenant, id));
    }
  }

  RewrapReport resumed = MustRewrap({});
  EXPECT_EQ(resumed.total, 30);
  EXPECT_EQ(resumed.rewrapped, 30);
  EXPECT_EQ(CountsNow(), (Counts{{2, 40}}));
}

TEST_F(KeyRotationTest, ValuesThatDoNotOpenAreReportedAndKeptAsTheyAre) {
  WriteMany(3);
  auto record = store_->Get("acme", "t1");
  ASSERT_TRUE(record.ok() && record->has_value());
  std::vector<std::uint8_t> tampered = (*record)->sealed_value;
  tampered.back() ^= 0x01;
  const std::vector<store::SealedValueSwap> tamper = {
      {"acme", "t1", (*record)->sealed_value, tampered, 1}};
  ASSERT_TRUE(real_->SwapSealedValues(tamper).ok());

  RewrapReport report = MustRewrap({});
  EXPECT_EQ(report.rewrapped, 5);
  EXPECT_EQ(report.failed, 1);
  ASSERT_EQ(report.failed_rows.size(), 1u);
  EXPECT_EQ(report.failed_rows[0].tenant, "acme");
  EXPECT_EQ(report.failed_rows[0].id, "t1");
  EXPECT_EQ(store_->Get("acme", "t1")->value().sealed_value, tampered);
  EXPECT_EQ(CountsNow(), (Counts{{1, 1}, {2, 5}})) << "the bad row still needs key 1";
}

TEST_F(KeyRotationTest, StaleKeyIdBookkeepingIsRepairedAndScanTellsTheTruth) {
  WriteMany(2);
  // Bytes under key 2, bookkeeping saying key 1.
  auto sealed = new_barrier_->Seal("acme", "stale", "v");
  ASSERT_TRUE(sealed.ok());
  store::TokenRecord record{{"stale", "stale", {1, 0, 0}}, *sealed, 1};
  ASSERT_TRUE(store_->Insert("acme", record).ok());
  EXPECT_EQ(CountsNow(), (Counts{{1, 5}}));
  auto scanned = ScanKeyUsage(*store_, 2);
  ASSERT_TRUE(scanned.ok());
  EXPECT_EQ(scanned->values_by_key, (Counts{{1, 4}, {2, 1}}));
  EXPECT_EQ(scanned->key_check_key, 1u);

  RewrapReport report = MustRewrap({});
  EXPECT_EQ(report.rewrapped, 5);
  EXPECT_EQ(CountsNow(), (Counts{{2, 5}}));
  EXPECT_EQ(store_->Get("acme", "stale")->value().sealed_value, *sealed) << "bytes untouched";
}

TEST_F(KeyRotationTest, AKeyCheckThatDoesNotOpenStopsThePassBeforeAnyRowIsTouched) {
  WriteMany(2);
  crypto::ValueBarrier stranger(crypto::KeyRing::Generate()->WithNewActiveKey().value());
  auto report = RewrapToActiveKey(*store_, stranger, {});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->swap_calls, 0);
  EXPECT_EQ(CountsNow(), (Counts{{1, 4}}));
}

TEST_F(KeyRotationTest, StoreErrorsAbortThePass) {
  WriteMany(2);
  store_->swap_error = Error::Unavailable("database is locked");
  auto report = RewrapToActiveKey(*store_, *new_barrier_, {});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, ErrorCode::kUnavailable);
  store_->swap_error.reset();
  EXPECT_EQ(MustRewrap({}).rewrapped, 4) << "a later pass picks up where it failed";
}

TEST_F(KeyRotationTest, CountKeyUsageIncludesTheKeyCheck) {
  WriteMany(1);
  auto usage = CountKeyUsage(*store_);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->values_by_key, (Counts{{1, 2}}));
  EXPECT_EQ(usage->key_check_key, 1u);
}

}  // namespace
}  // namespace ts::service
