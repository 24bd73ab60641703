// Tests for the key check: created once, verified on every later start, and a key file that is
// not the store's (a new key, or a ring without the store's key) is refused with a message that
// says which key id is wrong or missing.
#include "service/key_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <latch>
#include <thread>

#include "crypto/key_ring.h"
#include "store/sqlite/sqlite_store.h"

namespace ts::service {
namespace {

using ::testing::HasSubstr;

class KeyCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::InitCrypto().ok());
    char tmpl[] = "/tmp/ts-key-check-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    auto store = store::OpenSqliteStore({dir_ + "/t.db", "NORMAL"});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<store::TokenStore> store_;
  std::shared_ptr<const crypto::KeyRing> ring_ = crypto::KeyRing::Generate();
  crypto::ValueBarrier barrier_{ring_};
};

TEST_F(KeyCheckTest, FirstStartCreatesItAndLaterStartsVerifyIt) {
  auto none = KeyCheckKeyId(*store_);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_TRUE(VerifyKeyCheck(*store_, barrier_).ok()) << "nothing to verify yet";

  auto first = VerifyOrCreateKeyCheck(*store_, barrier_);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, KeyCheckOutcome::kCreated);
  auto again = VerifyOrCreateKeyCheck(*store_, barrier_);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, KeyCheckOutcome::kVerified);
  EXPECT_EQ(KeyCheckKeyId(*store_)->value(), 1u);

  // It is sealed at a place no token can have: tenant "" (tenant names are never empty).
  auto sealed = store_->GetSetting(kKeyCheckSetting);
  ASSERT_TRUE(sealed.ok() && sealed->has_value());
  EXPECT_TRUE(barrier_.Open("", kKeyCheckId, **sealed).ok());
  EXPECT_FALSE(barrier_.Open("acme", kKeyCheckId, **sealed).ok());
}

TEST_F(KeyCheckTest, ADifferentKeyUnderTheSameIdIsRefused) {
  ASSERT_TRUE(VerifyOrCreateKeyCheck(*store_, barrier_).ok());
  crypto::ValueBarrier other(crypto::KeyRing::Generate());  // id 1 too, other bytes
  auto refused = VerifyOrCreateKeyCheck(*store_, other);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(refused.error().message, HasSubstr("does not open with master key id 1"));
  EXPECT_FALSE(VerifyKeyCheck(*store_, other).ok());
}

TEST_F(KeyCheckTest, ARingWithoutTheStoresKeyIsRefused) {
  ASSERT_TRUE(VerifyOrCreateKeyCheck(*store_, barrier_).ok());
  auto two = crypto::KeyRing::Generate()->WithNewActiveKey();
  ASSERT_TRUE(two.ok());
  auto only_two = (*two)->WithoutKey(1);
  ASSERT_TRUE(only_two.ok());
  crypto::ValueBarrier other(*only_two);
  auto refused = VerifyOrCreateKeyCheck(*store_, other);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("needs master key id 1, which is not in"));
}

TEST_F(KeyCheckTest, AStoreWithValuesButNoKeyCheckMustOpenOneBeforeItGetsOne) {
  // A database written before key checks existed.
  auto sealed = barrier_.Seal("acme", "k", "value");
  ASSERT_TRUE(sealed.ok());
  store::TokenRecord record{{"k", "k", {1, 0, 0}}, *sealed, 1};
  ASSERT_TRUE(store_->Insert("acme", record).ok());

  crypto::ValueBarrier stranger(crypto::KeyRing::Generate());
  auto refused = VerifyOrCreateKeyCheck(*store_, stranger);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("the stored value of a token"));
  EXPECT_FALSE(KeyCheckKeyId(*store_)->has_value()) << "a wrong key must not be enshrined";

  auto created = VerifyOrCreateKeyCheck(*store_, barrier_);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(*created, KeyCheckOutcome::kCreated);
}

TEST_F(KeyCheckTest, TwoProcessesStartingAtOnceAgreeOnOneKeyCheck) {
  constexpr int kStarters = 4;
  std::vector<Result<KeyCheckOutcome>> outcomes(kStarters, Error::Internal("not run"));
  std::latch start(kStarters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kStarters; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      outcomes[i] = VerifyOrCreateKeyCheck(*store_, barrier_);
    });
  }
  for (auto& t : threads) t.join();
  int created = 0;
  for (const auto& outcome : outcomes) {
    ASSERT_TRUE(outcome.ok()) << outcome.error().message << outcome.error().internal;
    if (*outcome == KeyCheckOutcome::kCreated) ++created;
  }
  EXPECT_EQ(created, 1);
}

}  // namespace
}  // namespace ts::service
