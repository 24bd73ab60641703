// Security proofs for the value barrier: sealed bytes hide the plaintext, nonces and data keys
// never repeat, any change to sealed bytes (a flipped bit, a truncation, a splice, a move to
// another tenant or id, a different master key) makes Open fail cleanly, and a key rotation
// keeps old values readable. Failure messages never print plaintext or key bytes.
#include "crypto/value_barrier.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crypto/key_ring.h"

namespace ts::crypto {
namespace {

using namespace std::string_view_literals;
using Bytes = std::vector<std::uint8_t>;

// Layout offsets from value_barrier.h (a storage format, so the tests pin them too).
constexpr std::size_t kKeyIdAt = 4;
constexpr std::size_t kWrapNonceAt = 8;
constexpr std::size_t kWrappedKeyAt = 32;
constexpr std::size_t kValueNonceAt = 80;
constexpr std::size_t kValueAt = 104;
constexpr std::size_t kOverhead = 120;
constexpr std::size_t kNonceLen = 24;

std::string RandomBytes(std::size_t n) {
  std::string out(n, '\0');
  randombytes_buf(out.data(), out.size());
  return out;
}

bool Contains(const Bytes& haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

std::string Slice(const Bytes& b, std::size_t at, std::size_t len) {
  return std::string(reinterpret_cast<const char*>(b.data()) + at, len);
}

// A ring holding copies of the given keys of `from`, with `active` active.
std::shared_ptr<const KeyRing> Subring(const KeyRing& from, std::vector<std::uint32_t> ids,
                                       std::uint32_t active) {
  std::vector<MasterKey> keys;
  for (std::uint32_t id : ids) {
    const MasterKey* k = from.Find(id);
    keys.emplace_back(
        id, SecretBytes(std::string_view(reinterpret_cast<const char*>(k->bytes()), k->size())));
  }
  auto ring = KeyRing::Create(std::move(keys), active);
  EXPECT_TRUE(ring.ok());
  return *ring;
}

// Asserts that Open fails the way the contract requires: kInternal, a fixed public message
// naming no internals, and a non-empty internal reason.
void ExpectCleanOpenFailure(const Result<SecretBytes>& opened, std::string_view what) {
  ASSERT_FALSE(opened.ok()) << what << ": opened although it must not";
  const Error& e = opened.error();
  EXPECT_EQ(e.code, ErrorCode::kInternal) << what;
  EXPECT_EQ(e.message, "Stored value could not be decrypted") << what;
  EXPECT_TRUE(e.details.empty()) << what;
  EXPECT_FALSE(e.internal.empty()) << what;
}

class ValueBarrierTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto().ok()); }

  Bytes MustSeal(std::string_view tenant, std::string_view id, std::string_view plain) {
    auto sealed = barrier_.Seal(tenant, id, plain);
    EXPECT_TRUE(sealed.ok()) << sealed.error().internal;
    return sealed.ok() ? *sealed : Bytes{};
  }

  std::shared_ptr<const KeyRing> ring_ = KeyRing::Generate();
  ValueBarrier barrier_{ring_};
};

TEST_F(ValueBarrierTest, RoundTrips) {
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"one byte", "x"},
      {"with NUL bytes", std::string("\0se\0cret\0"sv)},
      {"only NUL", std::string(5, '\0')},
      {"every byte value", all_bytes},
      {"16384 random bytes", RandomBytes(16384)},
  };
  for (const auto& [name, plain] : cases) {
    const Bytes sealed = MustSeal("tenant-a", "token-1", plain);
    EXPECT_EQ(sealed.size(), plain.size() + kOverhead) << name;
    auto opened = barrier_.Open("tenant-a", "token-1", sealed);
    ASSERT_TRUE(opened.ok()) << name << ": " << opened.error().internal;
    EXPECT_EQ(opened->size(), plain.size()) << name;
    EXPECT_TRUE(opened->view() == plain) << name << ": opened value differs from the plaintext";
  }
}

TEST_F(ValueBarrierTest, EmptyTenantAndIdAreBoundToo) {
  const Bytes sealed = MustSeal("", "", "v");
  EXPECT_TRUE(barrier_.Open("", "", sealed).ok());
  ExpectCleanOpenFailure(barrier_.Open("t", "", sealed), "tenant added");
}

TEST_F(ValueBarrierTest, SealedBytesRevealNoPlaintextOrKey) {
  const std::string plain = "DISTINCTIVE-plaintext-7f3a9c-should-never-be-stored";
  const Bytes sealed = MustSeal("tenant-a", "token-1", plain);
  EXPECT_FALSE(Contains(sealed, plain)) << "sealed bytes contain the plaintext";
  // No 8-byte window of the plaintext survives either (no partial leak).
  for (std::size_t i = 0; i + 8 <= plain.size(); ++i) {
    ASSERT_FALSE(Contains(sealed, std::string_view(plain).substr(i, 8)))
        << "sealed bytes contain plaintext bytes at offset " << i;
  }
  const std::string_view master(reinterpret_cast<const char*>(ring_->active().bytes()),
                                ring_->active().size());
  EXPECT_FALSE(Contains(sealed, master)) << "sealed bytes contain the master key";
  EXPECT_FALSE(Contains(sealed, master.substr(0, 8))) << "sealed bytes contain master key bytes";
}

TEST_F(ValueBarrierTest, HeaderDescribesTheFormat) {
  const Bytes sealed = MustSeal("t", "i", "v");
  EXPECT_EQ(Slice(sealed, 0, 4), "tsv1");
  EXPECT_EQ(Slice(sealed, kKeyIdAt, 4), std::string("\0\0\0\1"sv)) << "key id 1, big-endian";
  EXPECT_EQ(SealedKeyId(sealed), std::optional<std::uint32_t>(1));
}

TEST_F(ValueBarrierTest, SealingTwiceGivesUnrelatedBytes) {
  const Bytes a = MustSeal("t", "i", "same value");
  const Bytes b = MustSeal("t", "i", "same value");
  EXPECT_TRUE(a != b) << "two seals of one value are identical";
  EXPECT_NE(Slice(a, kWrapNonceAt, kNonceLen), Slice(b, kWrapNonceAt, kNonceLen));
  EXPECT_NE(Slice(a, kValueNonceAt, kNonceLen), Slice(b, kValueNonceAt, kNonceLen));
  EXPECT_TRUE(Slice(a, kWrappedKeyAt, 48) != Slice(b, kWrappedKeyAt, 48));
  EXPECT_TRUE(Slice(a, kValueAt, a.size() - kValueAt) != Slice(b, kValueAt, b.size() - kValueAt));
}

TEST_F(ValueBarrierTest, TenThousandSealsNeverRepeatANonceOrDataKey) {
  constexpr int kSeals = 10000;
  std::set<std::string> nonces;
  std::set<std::string> wrapped_keys;
  for (int i = 0; i < kSeals; ++i) {
    const Bytes sealed = MustSeal("t", "i", "value");
    ASSERT_EQ(sealed.size(), kOverhead + 5);
    // Wrap and value nonces share one set: no 24-byte nonce may appear twice anywhere.
    ASSERT_TRUE(nonces.insert(Slice(sealed, kWrapNonceAt, kNonceLen)).second) << "seal " << i;
    ASSERT_TRUE(nonces.insert(Slice(sealed, kValueNonceAt, kNonceLen)).second) << "seal " << i;
    ASSERT_TRUE(wrapped_keys.insert(Slice(sealed, kWrappedKeyAt, 48)).second) << "seal " << i;
  }
  EXPECT_EQ(nonces.size(), 2u * kSeals);
}

TEST_F(ValueBarrierTest, FlippingAnyBitOfTheSealedBytesFails) {
  const Bytes sealed = MustSeal("tenant-a", "token-1", "short secret");
  ASSERT_TRUE(barrier_.Open("tenant-a", "token-1", sealed).ok());
  for (std::size_t pos = 0; pos < sealed.size(); ++pos) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes tampered = sealed;
      tampered[pos] ^= static_cast<std::uint8_t>(1u << bit);
      auto opened = barrier_.Open("tenant-a", "token-1", tampered);
      ASSERT_FALSE(opened.ok()) << "flip of bit " << bit << " at byte " << pos << " went unnoticed";
      ASSERT_EQ(opened.error().message, "Stored value could not be decrypted");
    }
  }
}

TEST_F(ValueBarrierTest, ReplacingAnyByteFails) {
  const Bytes sealed = MustSeal("t", "i", "v");
  for (std::size_t pos = 0; pos < sealed.size(); ++pos) {
    for (std::uint8_t value : {std::uint8_t{0x00}, std::uint8_t{0xff}}) {
      if (sealed[pos] == value) continue;
      Bytes tampered = sealed;
      tampered[pos] = value;
      ASSERT_FALSE(barrier_.Open("t", "i", tampered).ok()) << "byte " << pos;
    }
  }
}

TEST_F(ValueBarrierTest, TruncatedOrExtendedBytesFail) {
  const Bytes sealed = MustSeal("t", "i", "some secret");
  for (std::size_t len = 0; len < sealed.size(); ++len) {
    const Bytes truncated(sealed.begin(), sealed.begin() + static_cast<std::ptrdiff_t>(len));
    ExpectCleanOpenFailure(barrier_.Open("t", "i", truncated),
                           "truncated to " + std::to_string(len));
  }
  Bytes extended = sealed;
  extended.push_back(0);
  ExpectCleanOpenFailure(barrier_.Open("t", "i", extended), "one byte appended");
}

TEST_F(ValueBarrierTest, UnknownFormatFails) {
  Bytes sealed = MustSeal("t", "i", "v");
  sealed[3] = '2';  // "tsv2"
  ExpectCleanOpenFailure(barrier_.Open("t", "i", sealed), "format tsv2");
  EXPECT_EQ(SealedKeyId(sealed), std::nullopt);
  EXPECT_EQ(SealedKeyId(Bytes{}), std::nullopt);
  EXPECT_EQ(SealedKeyId(Bytes(119, 0)), std::nullopt);
}

TEST_F(ValueBarrierTest, MovedToAnotherTenantOrIdFails) {
  const Bytes sealed = MustSeal("tenant-a", "token-1", "secret");
  ExpectCleanOpenFailure(barrier_.Open("tenant-b", "token-1", sealed), "other tenant");
  ExpectCleanOpenFailure(barrier_.Open("tenant-a", "token-2", sealed), "other id");
  ExpectCleanOpenFailure(barrier_.Open("tenant-b", "token-2", sealed), "other tenant and id");
  ExpectCleanOpenFailure(barrier_.Open("token-1", "tenant-a", sealed), "tenant and id swapped");
  ExpectCleanOpenFailure(barrier_.Open("TENANT-A", "token-1", sealed), "tenant case changed");
  ExpectCleanOpenFailure(barrier_.Open("tenant-a", "token-1 ", sealed), "id with a space");
}

TEST_F(ValueBarrierTest, PlaceBindingIsUnambiguous) {
  // Without length prefixes, ("ab", "c") and ("a", "bc") would bind the same bytes.
  const Bytes sealed = MustSeal("ab", "c", "secret");
  ExpectCleanOpenFailure(barrier_.Open("a", "bc", sealed), "shifted boundary");
  ExpectCleanOpenFailure(barrier_.Open("abc", "", sealed), "boundary at the end");
  ExpectCleanOpenFailure(barrier_.Open("", "abc", sealed), "boundary at the start");
}

TEST_F(ValueBarrierTest, SplicingTwoSealedValuesFails) {
  // The header and wrapped data key of one value with the ciphertext of another.
  const Bytes a = MustSeal("t", "i", "value-A");
  const Bytes b = MustSeal("t", "i", "value-B");
  ASSERT_EQ(a.size(), b.size());
  Bytes spliced = a;
  std::copy(b.begin() + kValueNonceAt, b.end(), spliced.begin() + kValueNonceAt);
  ExpectCleanOpenFailure(barrier_.Open("t", "i", spliced), "spliced");
}

TEST_F(ValueBarrierTest, UnknownOrWrongMasterKeyFails) {
  const Bytes sealed = MustSeal("t", "i", "secret");

  // A ring without key id 1.
  std::vector<MasterKey> other_id;
  other_id.push_back(MasterKey::Generate(2));
  ValueBarrier no_key(*KeyRing::Create(std::move(other_id), 2));
  auto opened = no_key.Open("t", "i", sealed);
  ExpectCleanOpenFailure(opened, "unknown key id");
  EXPECT_NE(opened.error().internal.find("master key id 1"), std::string::npos)
      << opened.error().internal;

  // A ring whose key 1 is a different key (e.g. the wrong key file).
  ValueBarrier wrong_key(KeyRing::Generate());
  ExpectCleanOpenFailure(wrong_key.Open("t", "i", sealed), "different key with the same id");
}

TEST_F(ValueBarrierTest, RelabellingTheKeyIdFails) {
  // Ring {1, 2}: sealed under 2, header edited to claim key 1, which is in the ring.
  auto two = ring_->WithNewActiveKey();
  ASSERT_TRUE(two.ok());
  ValueBarrier barrier(*two);
  auto sealed = barrier.Seal("t", "i", "secret");
  ASSERT_TRUE(sealed.ok());
  ASSERT_EQ(SealedKeyId(*sealed), std::optional<std::uint32_t>(2));
  Bytes relabelled = *sealed;
  relabelled[kKeyIdAt + 3] = 1;
  ExpectCleanOpenFailure(barrier.Open("t", "i", relabelled), "key id relabelled");
}

TEST_F(ValueBarrierTest, FailureTextNamesNoSecretsOrPlace) {
  const std::string plain = "PLAINTEXT-marker-123";
  Bytes sealed = MustSeal("tenant-secret-name", "id-secret-name", plain);
  sealed.back() ^= 1;
  auto opened = barrier_.Open("tenant-secret-name", "id-secret-name", sealed);
  ASSERT_FALSE(opened.ok());
  const Error& e = opened.error();
  for (const std::string& text : {e.message, e.internal}) {
    EXPECT_EQ(text.find("PLAINTEXT"), std::string::npos);
    EXPECT_EQ(text.find("tenant-secret-name"), std::string::npos);
    EXPECT_EQ(text.find("id-secret-name"), std::string::npos);
  }
}

TEST_F(ValueBarrierTest, NullKeyRingFailsCleanly) {
  ValueBarrier empty(nullptr);
  EXPECT_EQ(empty.ActiveKeyId(), 0u);
  auto sealed = empty.Seal("t", "i", "v");
  ASSERT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.error().code, ErrorCode::kInternal);
  ExpectCleanOpenFailure(empty.Open("t", "i", MustSeal("t", "i", "v")), "no ring");
}

// ---- Rotation ----

class RotationTest : public ValueBarrierTest {
 protected:
  void SetUp() override {
    ValueBarrierTest::SetUp();
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "crypto_barrier_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/keys";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::shared_ptr<const KeyRing> Load() {
    auto ring = LoadKeyRingFile(path_);
    EXPECT_TRUE(ring.ok()) << ring.error().message;
    return ring.ok() ? *ring : nullptr;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(RotationTest, OldValuesStillOpenAfterANewKeyBecomesActive) {
  ASSERT_TRUE(CreateKeyRingFile(path_).ok());
  ValueBarrier before(Load());
  auto old_sealed = before.Seal("t", "i", "old secret");
  ASSERT_TRUE(old_sealed.ok());
  ASSERT_EQ(SealedKeyId(*old_sealed), std::optional<std::uint32_t>(1));

  ASSERT_TRUE(AddKeyToRingFile(path_).ok());
  ValueBarrier after(Load());
  EXPECT_EQ(after.ActiveKeyId(), 2u);

  auto opened = after.Open("t", "i", *old_sealed);
  ASSERT_TRUE(opened.ok()) << opened.error().internal;
  EXPECT_TRUE(opened->view() == "old secret"sv) << "old value changed across rotation";

  auto new_sealed = after.Seal("t", "i", "new secret");
  ASSERT_TRUE(new_sealed.ok());
  EXPECT_EQ(SealedKeyId(*new_sealed), std::optional<std::uint32_t>(2)) << "new seals use key 2";
  // A process still on the old ring cannot open it, and says why internally.
  auto stale = before.Open("t", "i", *new_sealed);
  ExpectCleanOpenFailure(stale, "old ring, new key");
  EXPECT_NE(stale.error().internal.find("master key id 2"), std::string::npos);
}

TEST_F(RotationTest, RewrapMovesOnlyTheDataKeyToTheActiveKey) {
  ASSERT_TRUE(CreateKeyRingFile(path_).ok());
  ValueBarrier before(Load());
  auto sealed = before.Seal("t", "i", "rotating secret");
  ASSERT_TRUE(sealed.ok());

  ASSERT_TRUE(AddKeyToRingFile(path_).ok());
  auto ring = Load();
  ValueBarrier after(ring);
  auto rewrapped = after.Rewrap("t", "i", *sealed);
  ASSERT_TRUE(rewrapped.ok()) << rewrapped.error().internal;
  EXPECT_EQ(SealedKeyId(*rewrapped), std::optional<std::uint32_t>(2));
  EXPECT_EQ(rewrapped->size(), sealed->size());
  EXPECT_TRUE(Slice(*rewrapped, kValueNonceAt, sealed->size() - kValueNonceAt) ==
              Slice(*sealed, kValueNonceAt, sealed->size() - kValueNonceAt))
      << "the value nonce and ciphertext must stay byte for byte";
  EXPECT_NE(Slice(*rewrapped, kWrapNonceAt, kNonceLen), Slice(*sealed, kWrapNonceAt, kNonceLen))
      << "re-wrapping must use a fresh wrap nonce";

  // Once re-wrapped, key 1 can be retired: a ring with only key 2 opens the value.
  ValueBarrier retired(Subring(*ring, {2}, 2));
  auto opened = retired.Open("t", "i", *rewrapped);
  ASSERT_TRUE(opened.ok()) << opened.error().internal;
  EXPECT_TRUE(opened->view() == "rotating secret"sv) << "re-wrapped value differs";
  ExpectCleanOpenFailure(retired.Open("t", "i", *sealed), "not re-wrapped, key 1 retired");
}

TEST_F(RotationTest, RewrapRefusesTamperedOrMovedValues) {
  auto two = ring_->WithNewActiveKey();
  ASSERT_TRUE(two.ok());
  ValueBarrier after(*two);
  const Bytes sealed = MustSeal("t", "i", "secret");

  Bytes tampered = sealed;
  tampered.back() ^= 1;  // value tag: only the full verification notices this
  auto r1 = after.Rewrap("t", "i", tampered);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().message, "Stored value could not be decrypted");
  EXPECT_FALSE(after.Rewrap("t", "other", sealed).ok());
  EXPECT_FALSE(after.Rewrap("other", "i", sealed).ok());
}

TEST_F(RotationTest, ReplaceKeyRingSwitchesTheActiveKey) {
  auto two = ring_->WithNewActiveKey();
  ASSERT_TRUE(two.ok());
  const Bytes old_sealed = MustSeal("t", "i", "v");
  barrier_.ReplaceKeyRing(*two);
  EXPECT_EQ(barrier_.ActiveKeyId(), 2u);
  EXPECT_EQ(SealedKeyId(MustSeal("t", "i", "v")), std::optional<std::uint32_t>(2));
  EXPECT_TRUE(barrier_.Open("t", "i", old_sealed).ok());
}

TEST_F(RotationTest, MissingKeyHandlerCanBringInTheKeyAndTheOpenSucceeds) {
  auto two = ring_->WithNewActiveKey();
  ASSERT_TRUE(two.ok());
  ValueBarrier newer(*two);
  auto sealed = newer.Seal("t", "i", "under key 2");
  ASSERT_TRUE(sealed.ok());

  std::vector<std::uint32_t> asked;
  barrier_.SetMissingKeyHandler([&](std::uint32_t id) {
    asked.push_back(id);
    barrier_.ReplaceKeyRing(*two);
  });
  // Keys the ring has never reach the handler.
  ASSERT_TRUE(barrier_.Open("t", "i", MustSeal("t", "i", "under key 1")).ok());
  EXPECT_TRUE(asked.empty());

  auto opened = barrier_.Open("t", "i", *sealed);
  ASSERT_TRUE(opened.ok()) << opened.error().internal;
  EXPECT_TRUE(opened->view() == "under key 2"sv);
  EXPECT_EQ(asked, std::vector<std::uint32_t>{2});
  EXPECT_EQ(barrier_.ActiveKeyId(), 2u);
}

TEST_F(RotationTest, MissingKeyHandlerThatFindsNothingLeavesACleanFailure) {
  auto two = ring_->WithNewActiveKey();
  ASSERT_TRUE(two.ok());
  auto sealed = ValueBarrier(*two).Seal("t", "i", "v");
  ASSERT_TRUE(sealed.ok());
  int calls = 0;
  barrier_.SetMissingKeyHandler([&](std::uint32_t) { ++calls; });
  ExpectCleanOpenFailure(barrier_.Open("t", "i", *sealed), "handler found no key");
  EXPECT_FALSE(barrier_.Rewrap("t", "i", *sealed).ok());
  EXPECT_EQ(calls, 2);
  // Garbage names no key id: the handler is not bothered.
  ExpectCleanOpenFailure(barrier_.Open("t", "i", Bytes{1, 2, 3}), "garbage");
  EXPECT_EQ(calls, 2);
  barrier_.SetMissingKeyHandler(nullptr);
  ExpectCleanOpenFailure(barrier_.Open("t", "i", *sealed), "no handler");
  EXPECT_EQ(calls, 2);
}

// ---- Concurrency ----

TEST_F(ValueBarrierTest, ConcurrentSealOpenAndRingReplacement) {
  auto two = ring_->WithNewActiveKey();
  ASSERT_TRUE(two.ok());
  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    for (int i = 0; !stop.load(); ++i) barrier_.ReplaceKeyRing(i % 2 == 0 ? *two : ring_);
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&, t] {
      const std::string id = "token-" + std::to_string(t);
      for (int i = 0; i < 500; ++i) {
        const std::string plain = "value-" + std::to_string(t) + "-" + std::to_string(i);
        auto sealed = barrier_.Seal("t", id, plain);
        if (!sealed.ok()) {
          ++failures;
          continue;
        }
        // Both rings hold key 1; only the ring with key 2 opens key-2 values, so open with a
        // barrier that always has both.
        ValueBarrier reader(*two);
        auto opened = reader.Open("t", id, *sealed);
        if (!opened.ok() || opened->view() != plain) ++failures;
      }
    });
  }
  for (auto& w : workers) w.join();
  stop = true;
  swapper.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace ts::crypto
