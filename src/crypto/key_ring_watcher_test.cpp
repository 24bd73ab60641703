// Tests for KeyRingWatcher: a barrier follows its key file (a rotation by another process, a
// retirement), at once when it meets a key it lacks and periodically otherwise; and it never
// swaps in a file that is not a continuation of its ring or that the verify callback refuses.
#include "crypto/key_ring_watcher.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace ts::crypto {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;

KeyRingWatcherOptions Polling(std::chrono::milliseconds interval) {
  KeyRingWatcherOptions options;
  options.poll_interval = interval;
  return options;
}

class KeyRingWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "crypto_watcher_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/keys";
    ASSERT_TRUE(CreateKeyRingFile(path_).ok());
    barrier_ = std::make_unique<ValueBarrier>(Load());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::shared_ptr<const KeyRing> Load() {
    auto ring = LoadKeyRingFile(path_);
    EXPECT_TRUE(ring.ok()) << ring.error().message;
    return ring.ok() ? *ring : nullptr;
  }

  // What another process's `keys rotate` leaves: key 2 in the file, a value sealed under it.
  std::vector<std::uint8_t> RotateElsewhere(std::string_view plaintext) {
    EXPECT_TRUE(AddKeyToRingFile(path_).ok());
    auto sealed = ValueBarrier(Load()).Seal("t", "i", plaintext);
    EXPECT_TRUE(sealed.ok());
    return sealed.ok() ? *sealed : std::vector<std::uint8_t>{};
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<ValueBarrier> barrier_;
};

TEST_F(KeyRingWatcherTest, MeetingAnUnknownKeyReloadsTheChangedFileAtOnce) {
  KeyRingWatcher watcher(path_, *barrier_, Polling(1h));
  const auto sealed = RotateElsewhere("rotated");
  auto opened = barrier_->Open("t", "i", sealed);
  ASSERT_TRUE(opened.ok()) << opened.error().internal;
  EXPECT_TRUE(opened->view() == "rotated"sv);
  EXPECT_EQ(barrier_->ActiveKeyId(), 2u) << "new seals must use the new active key";
  EXPECT_EQ(watcher.reloads(), 1u);
}

TEST_F(KeyRingWatcherTest, CheckNowReloadsOnlyWhenTheFileChanged) {
  KeyRingWatcher watcher(path_, *barrier_, Polling(1h));
  EXPECT_FALSE(watcher.CheckNow()) << "same file, same ring: nothing to install";
  EXPECT_FALSE(watcher.CheckNow());
  ASSERT_TRUE(AddKeyToRingFile(path_).ok());
  EXPECT_TRUE(watcher.CheckNow());
  EXPECT_EQ(barrier_->ActiveKeyId(), 2u);
  EXPECT_FALSE(watcher.CheckNow());
  // Retiring key 1 in the file drops it from the barrier too.
  ASSERT_TRUE(RemoveKeyFromRingFile(path_, 1).ok());
  EXPECT_TRUE(watcher.CheckNow());
  EXPECT_EQ(barrier_->Keys()->ids(), std::vector<std::uint32_t>{2});
  EXPECT_EQ(watcher.reloads(), 2u);
}

TEST_F(KeyRingWatcherTest, ThePollThreadPicksUpANewActiveKey) {
  KeyRingWatcher watcher(path_, *barrier_, Polling(20ms));
  watcher.Start();
  ASSERT_TRUE(AddKeyToRingFile(path_).ok());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (barrier_->ActiveKeyId() != 2u && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(barrier_->ActiveKeyId(), 2u);
}

TEST_F(KeyRingWatcherTest, AFileWithADifferentKeyUnderAKnownIdIsRefused) {
  KeyRingWatcher watcher(path_, *barrier_, Polling(1h));
  const auto before = barrier_->Keys();
  const auto sealed = barrier_->Seal("t", "i", "v");
  ASSERT_TRUE(sealed.ok());
  // Someone replaces the file by a brand-new key file: id 1 now names other bytes.
  std::filesystem::remove(path_);
  ASSERT_TRUE(CreateKeyRingFile(path_).ok());
  EXPECT_FALSE(watcher.CheckNow());
  EXPECT_EQ(barrier_->Keys(), before) << "the ring in use must stay";
  EXPECT_TRUE(barrier_->Open("t", "i", *sealed).ok());
}

TEST_F(KeyRingWatcherTest, VerifyCallbackCanRefuseARing) {
  int verified = 0;
  KeyRingWatcherOptions options = Polling(1h);
  options.verify = [&](const std::shared_ptr<const KeyRing>&) -> Result<void> {
    ++verified;
    return Error::Invalid("the key check does not open");
  };
  KeyRingWatcher watcher(path_, *barrier_, options);
  ASSERT_TRUE(AddKeyToRingFile(path_).ok());
  EXPECT_FALSE(watcher.CheckNow());
  EXPECT_EQ(barrier_->ActiveKeyId(), 1u);
  EXPECT_EQ(verified, 1);
  EXPECT_FALSE(watcher.CheckNow()) << "a refused file version is not retried on every poll";
  EXPECT_EQ(verified, 1);
}

TEST_F(KeyRingWatcherTest, MissingKeyReloadsOfAnUnchangedFileAreRateLimited) {
  KeyRingWatcherOptions options = Polling(1h);
  options.forced_reload_interval = 1h;
  KeyRingWatcher watcher(path_, *barrier_, options);
  auto other = KeyRing::Generate()->WithNewActiveKey();  // key 2 that no file holds
  ASSERT_TRUE(other.ok());
  auto sealed = ValueBarrier(*other).Seal("t", "i", "v");
  ASSERT_TRUE(sealed.ok());
  const auto first = SignatureOf(path_);
  ASSERT_TRUE(first.ok());
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(barrier_->Open("t", "i", *sealed).ok());
  EXPECT_EQ(watcher.reloads(), 0u);
  // A later rotation is still picked up at the next miss: the file's signature changed.
  const auto rotated = RotateElsewhere("later");
  auto opened = barrier_->Open("t", "i", rotated);
  ASSERT_TRUE(opened.ok()) << opened.error().internal;
  EXPECT_EQ(watcher.reloads(), 1u);
}

TEST_F(KeyRingWatcherTest, DestroyingTheWatcherDetachesItFromTheBarrier) {
  std::vector<std::uint8_t> sealed;
  {
    KeyRingWatcher watcher(path_, *barrier_, Polling(10ms));
    watcher.Start();
  }
  sealed = RotateElsewhere("after");
  EXPECT_FALSE(barrier_->Open("t", "i", sealed).ok()) << "no watcher, no reload";
}

TEST_F(KeyRingWatcherTest, SignatureChangesWhenTheFileIsReplaced) {
  auto a = SignatureOf(path_);
  ASSERT_TRUE(a.ok());
  auto again = SignatureOf(path_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*a, *again);
  ASSERT_TRUE(AddKeyToRingFile(path_).ok());
  auto b = SignatureOf(path_);
  ASSERT_TRUE(b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_FALSE(SignatureOf(dir_ + "/absent").ok());
}

}  // namespace
}  // namespace ts::crypto
