// Tests for SecretBytes, Wipe and ConstantTimeEquals. Failure messages never print secret
// contents: comparisons go through EXPECT_TRUE with a description instead of EXPECT_EQ.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>

#include "crypto/value_barrier.h"

namespace ts::crypto {
namespace {

using namespace std::string_view_literals;

TEST(InitCryptoTest, SucceedsAndIsIdempotent) {
  EXPECT_TRUE(InitCrypto().ok());
  EXPECT_TRUE(InitCrypto().ok());
}

TEST(SecretBytesTest, DefaultIsEmpty) {
  SecretBytes s;
  EXPECT_EQ(s.size(), 0u);
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(s.view().empty());
}

TEST(SecretBytesTest, EmptyInputAllocatesNothing) {
  SecretBytes s(""sv);
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.mutable_data(), nullptr);
  SecretBytes z = SecretBytes::OfSize(0);
  EXPECT_EQ(z.size(), 0u);
  EXPECT_EQ(z.mutable_data(), nullptr);
}

TEST(SecretBytesTest, HoldsBytesIncludingNul) {
  const std::string_view input = "a\0b\0\0c"sv;
  SecretBytes s(input);
  ASSERT_EQ(s.size(), input.size());
  EXPECT_TRUE(s.view() == input) << "stored bytes differ from the input";
  EXPECT_NE(static_cast<const void*>(s.view().data()), static_cast<const void*>(input.data()))
      << "SecretBytes must own a copy";
}

TEST(SecretBytesTest, OfSizeIsZeroedAndWritable) {
  SecretBytes s = SecretBytes::OfSize(64);
  ASSERT_EQ(s.size(), 64u);
  EXPECT_TRUE(s.view() == std::string(64, '\0')) << "OfSize must return zeroed bytes";
  s.mutable_data()[10] = 'x';
  EXPECT_EQ(s.view()[10], 'x');
}

TEST(SecretBytesTest, MoveConstructionTransfersOwnership) {
  SecretBytes a("secret-one"sv);
  const char* buffer = a.view().data();
  SecretBytes b(std::move(a));
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(a.mutable_data(), nullptr);
  EXPECT_EQ(b.view().data(), buffer) << "a move must not copy the secret";
  EXPECT_TRUE(b.view() == "secret-one"sv) << "moved-to value differs";
}

TEST(SecretBytesTest, MoveAssignmentReleasesOldAndTakesNew) {
  SecretBytes a("first"sv);
  SecretBytes b("second-value"sv);
  const char* buffer = b.view().data();
  a = std::move(b);
  EXPECT_EQ(b.size(), 0u);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(a.view().data(), buffer);
  EXPECT_TRUE(a.view() == "second-value"sv) << "move-assigned value differs";
  a = SecretBytes();
  EXPECT_TRUE(a.empty());
}

TEST(SecretBytesTest, SelfMoveAssignmentKeepsValue) {
  SecretBytes a("keep-me"sv);
  SecretBytes& alias = a;
  a = std::move(alias);
  EXPECT_TRUE(a.view() == "keep-me"sv) << "self-move lost the value";
}

TEST(WipeTest, ZeroesAndClears) {
  std::string s = "a request body that carried a secret value";
  const char* buffer = s.data();
  const std::size_t capacity = s.capacity();
  Wipe(s);
  EXPECT_TRUE(s.empty());
  // The buffer is still owned by `s` (clear keeps capacity), so reading it is well-defined.
  ASSERT_EQ(s.data(), buffer);
  for (std::size_t i = 0; i < capacity; ++i) {
    ASSERT_EQ(buffer[i], '\0') << "byte " << i << " survived Wipe";
  }
}

TEST(WipeTest, ReachesBytesBeyondTheCurrentSize) {
  std::string s(100, 'S');
  s.resize(10);  // the buffer still holds 90 'S' bytes past the end
  const char* buffer = s.data();
  Wipe(s);
  ASSERT_EQ(s.data(), buffer);
  for (std::size_t i = 0; i < 100; ++i) ASSERT_EQ(buffer[i], '\0') << "byte " << i;
}

TEST(WipeTest, EmptyStringIsFine) {
  std::string s;
  Wipe(s);
  EXPECT_TRUE(s.empty());
}

TEST(ConstantTimeEqualsTest, EqualInputs) {
  EXPECT_TRUE(ConstantTimeEquals("value", "value"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("a\0b"sv, "a\0b"sv));
  const std::string big(16384, 'q');
  EXPECT_TRUE(ConstantTimeEquals(big, std::string(16384, 'q')));
}

TEST(ConstantTimeEqualsTest, DifferentLengths) {
  EXPECT_FALSE(ConstantTimeEquals("value", "value2"));
  EXPECT_FALSE(ConstantTimeEquals("value2", "value"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_FALSE(ConstantTimeEquals("x", ""));
  EXPECT_FALSE(ConstantTimeEquals("a"sv, "a\0"sv));
}

TEST(ConstantTimeEqualsTest, EverySingleBitDifferenceIsDetected) {
  const std::string base = "0123456789abcdef-secret";
  for (std::size_t i = 0; i < base.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string other = base;
      other[i] = static_cast<char>(other[i] ^ (1 << bit));
      ASSERT_FALSE(ConstantTimeEquals(base, other)) << "missed a flip at byte " << i;
    }
  }
}

TEST(ConstantTimeEqualsTest, IsSymmetricAndStable) {
  // The per-process hash key must not change between calls.
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(ConstantTimeEquals("stable", "stable"));
    ASSERT_FALSE(ConstantTimeEquals("stable", "Stable"));
    ASSERT_FALSE(ConstantTimeEquals("Stable", "stable"));
  }
}

}  // namespace
}  // namespace ts::crypto
