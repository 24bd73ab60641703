// Tests for KeyRing and the key file: parsing is strict and never echoes key material, files
// are created 0600 and never overwritten, loosely protected files are refused, and adding a key
// keeps the old ones (so older values still open) while making the new one active.
#include "crypto/key_ring.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace ts::crypto {
namespace {

namespace fs = std::filesystem;

std::string RandomBytes(std::size_t n) {
  std::string out(n, '\0');
  randombytes_buf(out.data(), out.size());
  return out;
}

std::string Base64(std::string_view bin) {
  std::string out(sodium_base64_ENCODED_LEN(bin.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bin.data()),
                    bin.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // drop the terminating NUL
  return out;
}

bool KeyBytesEqual(const MasterKey& key, std::string_view expected) {
  return key.size() == expected.size() &&
         std::equal(expected.begin(), expected.end(), reinterpret_cast<const char*>(key.bytes()));
}

bool KeysEqual(const MasterKey& a, const MasterKey& b) {
  return KeyBytesEqual(a, std::string_view(reinterpret_cast<const char*>(b.bytes()), b.size()));
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    std::string tmpl = (fs::temp_directory_path() / "crypto_keyring_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string PathOf(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  // Writes `text` to a file with exactly `mode`.
  std::string WriteKeyFile(const std::string& name, const std::string& text, mode_t mode = 0600) {
    const std::string path = PathOf(name);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    EXPECT_EQ(::fchmod(fd, mode), 0);
    ::close(fd);
    return path;
  }

  std::string dir_;
};

// ---- KeyRing in memory ----

TEST(KeyRingTest, GenerateHasOneActiveKey) {
  auto ring = KeyRing::Generate();
  EXPECT_EQ(ring->active_id(), 1u);
  EXPECT_EQ(ring->ids(), std::vector<std::uint32_t>{1});
  ASSERT_NE(ring->Find(1), nullptr);
  EXPECT_EQ(ring->Find(1)->size(), kMasterKeyBytes);
  EXPECT_EQ(ring->Find(2), nullptr);
  EXPECT_FALSE(KeysEqual(ring->active(), KeyRing::Generate()->active()))
      << "two generated keys must differ";
}

TEST(KeyRingTest, CreateValidates) {
  EXPECT_FALSE(KeyRing::Create({}, 1).ok()) << "empty ring";
  {
    std::vector<MasterKey> keys;
    keys.push_back(MasterKey::Generate(0));
    EXPECT_FALSE(KeyRing::Create(std::move(keys), 0).ok()) << "id 0";
  }
  {
    std::vector<MasterKey> keys;
    keys.push_back(MasterKey::Generate(3));
    keys.push_back(MasterKey::Generate(3));
    EXPECT_FALSE(KeyRing::Create(std::move(keys), 3).ok()) << "duplicate id";
  }
  {
    std::vector<MasterKey> keys;
    keys.emplace_back(1, SecretBytes(std::string(31, 'k')));
    EXPECT_FALSE(KeyRing::Create(std::move(keys), 1).ok()) << "short key";
  }
  {
    std::vector<MasterKey> keys;
    keys.push_back(MasterKey::Generate(1));
    auto r = KeyRing::Create(std::move(keys), 2);
    ASSERT_FALSE(r.ok()) << "active id not in ring";
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  {
    std::vector<MasterKey> keys;
    keys.push_back(MasterKey::Generate(7));
    keys.push_back(MasterKey::Generate(2));
    auto r = KeyRing::Create(std::move(keys), 2);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)->ids(), (std::vector<std::uint32_t>{2, 7}));
    EXPECT_EQ((*r)->active_id(), 2u);
  }
}

TEST(KeyRingTest, WithNewActiveKeyKeepsOldKeysAndLeavesOriginalUnchanged) {
  auto one = KeyRing::Generate();
  auto two = one->WithNewActiveKey();
  ASSERT_TRUE(two.ok());
  EXPECT_EQ((*two)->ids(), (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ((*two)->active_id(), 2u);
  ASSERT_NE((*two)->Find(1), nullptr);
  EXPECT_TRUE(KeysEqual(*(*two)->Find(1), *one->Find(1))) << "key 1 changed";
  EXPECT_FALSE(KeysEqual(*(*two)->Find(2), *one->Find(1))) << "new key equals old key";
  EXPECT_EQ(one->ids(), std::vector<std::uint32_t>{1}) << "original ring was modified";
  EXPECT_EQ(one->active_id(), 1u);
}

TEST(KeyRingTest, WithNewActiveKeyFailsWhenIdsAreExhausted) {
  std::vector<MasterKey> keys;
  keys.push_back(MasterKey::Generate(4294967295u));
  auto ring = KeyRing::Create(std::move(keys), 4294967295u);
  ASSERT_TRUE(ring.ok());
  EXPECT_FALSE((*ring)->WithNewActiveKey().ok());
}

TEST(KeyRingTest, WithoutKeyDropsAnInactiveKeyAndKeepsTheRest) {
  auto two = KeyRing::Generate()->WithNewActiveKey();
  ASSERT_TRUE(two.ok());
  auto three = (*two)->WithNewActiveKey();
  ASSERT_TRUE(three.ok());
  auto without = (*three)->WithoutKey(2);
  ASSERT_TRUE(without.ok()) << without.error().message;
  EXPECT_EQ((*without)->ids(), (std::vector<std::uint32_t>{1, 3}));
  EXPECT_EQ((*without)->active_id(), 3u);
  EXPECT_TRUE((*without)->SameKeyAs(**three, 1));
  EXPECT_TRUE((*without)->SameKeyAs(**three, 3));
  EXPECT_EQ((*three)->ids(), (std::vector<std::uint32_t>{1, 2, 3})) << "original changed";

  auto active = (*three)->WithoutKey(3);
  ASSERT_FALSE(active.ok());
  EXPECT_NE(active.error().message.find("active"), std::string::npos);
  EXPECT_FALSE((*three)->WithoutKey(9).ok());
}

TEST(KeyRingTest, SameKeyAsComparesBytesOfOneId) {
  auto a = KeyRing::Generate();
  auto b = KeyRing::Generate();  // also id 1, other bytes
  EXPECT_TRUE(a->SameKeyAs(*a, 1));
  EXPECT_FALSE(a->SameKeyAs(*b, 1));
  EXPECT_FALSE(a->SameKeyAs(*a, 2)) << "absent id";
}

// ---- Parsing ----

TEST(ParseKeyRingTest, AcceptsCommentsBlankLinesTabsAndCrlf) {
  const std::string k1 = RandomBytes(32);
  const std::string k5 = RandomBytes(32);
  const std::string text =
      "# a comment\n\n   # indented comment\n"
      "tsk1\t5  " +
      Base64(k5) +
      " active\r\n"
      "tsk1 1 " +
      Base64(k1) + "\n";
  auto ring = ParseKeyRing(text, "test");
  ASSERT_TRUE(ring.ok()) << ring.error().message;
  EXPECT_EQ((*ring)->ids(), (std::vector<std::uint32_t>{1, 5}));
  EXPECT_EQ((*ring)->active_id(), 5u);
  EXPECT_TRUE(KeyBytesEqual(*(*ring)->Find(1), k1)) << "key 1 bytes differ from the file";
  EXPECT_TRUE(KeyBytesEqual(*(*ring)->Find(5), k5)) << "key 5 bytes differ from the file";
}

TEST(ParseKeyRingTest, LastLineNeedsNoNewline) {
  auto ring = ParseKeyRing("tsk1 1 " + Base64(RandomBytes(32)) + " active", "test");
  ASSERT_TRUE(ring.ok()) << ring.error().message;
  EXPECT_EQ((*ring)->active_id(), 1u);
}

TEST(ParseKeyRingTest, RejectsMalformedLinesWithoutEchoingThem) {
  const std::string good = "tsk1 1 " + Base64(RandomBytes(32)) + " active\n";
  const std::string key = Base64(RandomBytes(32));
  const std::string short_key = Base64(RandomBytes(31));
  const std::string long_key = Base64(RandomBytes(33));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"wrong format tag", "tsk2 2 " + key},
      {"missing key", "tsk1 2"},
      {"missing id", "tsk1 " + key},
      {"id zero", "tsk1 0 " + key},
      {"negative id", "tsk1 -1 " + key},
      {"leading zero", "tsk1 02 " + key},
      {"id overflow", "tsk1 4294967296 " + key},
      {"id not a number", "tsk1 two " + key},
      {"not base64", "tsk1 2 not*base64*at*all*and*forty*four*ch="},
      {"key 31 bytes", "tsk1 2 " + short_key},
      {"key 33 bytes", "tsk1 2 " + long_key},
      {"trailing garbage in key", "tsk1 2 " + key + "AAAA"},
      {"unknown flag", "tsk1 2 " + key + " primary"},
      {"too many fields", "tsk1 2 " + key + " active extra"},
      {"comment after entry", "tsk1 2 " + key + " # note"},
      {"stray text", "hello"},
  };
  for (const auto& [name, line] : cases) {
    auto ring = ParseKeyRing(good + line + "\n", "/etc/ts/keys");
    ASSERT_FALSE(ring.ok()) << name;
    const Error& e = ring.error();
    EXPECT_EQ(e.code, ErrorCode::kInvalidArgument) << name;
    EXPECT_NE(e.message.find("/etc/ts/keys"), std::string::npos) << name << ": " << e.message;
    EXPECT_NE(e.message.find("line 2"), std::string::npos) << name << ": " << e.message;
    for (const std::string* secret : {&key, &short_key, &long_key}) {
      EXPECT_TRUE(e.message.find(*secret) == std::string::npos &&
                  e.internal.find(*secret) == std::string::npos)
          << name << ": error text echoes key material";
    }
  }
}

TEST(ParseKeyRingTest, RejectsDuplicateIds) {
  const std::string text =
      "tsk1 3 " + Base64(RandomBytes(32)) + " active\ntsk1 3 " + Base64(RandomBytes(32)) + "\n";
  auto ring = ParseKeyRing(text, "k");
  ASSERT_FALSE(ring.ok());
  EXPECT_NE(ring.error().message.find("appears twice"), std::string::npos) << ring.error().message;
}

TEST(ParseKeyRingTest, RejectsNoActiveKey) {
  auto ring = ParseKeyRing("tsk1 1 " + Base64(RandomBytes(32)) + "\n", "k");
  ASSERT_FALSE(ring.ok());
  EXPECT_NE(ring.error().message.find("no key is marked active"), std::string::npos)
      << ring.error().message;
}

TEST(ParseKeyRingTest, RejectsTwoActiveKeys) {
  const std::string text = "tsk1 1 " + Base64(RandomBytes(32)) + " active\ntsk1 2 " +
                           Base64(RandomBytes(32)) + " active\n";
  auto ring = ParseKeyRing(text, "k");
  ASSERT_FALSE(ring.ok());
  EXPECT_NE(ring.error().message.find("more than one"), std::string::npos) << ring.error().message;
}

TEST(ParseKeyRingTest, RejectsEmptyAndCommentOnly) {
  EXPECT_FALSE(ParseKeyRing("", "k").ok());
  EXPECT_FALSE(ParseKeyRing("# nothing here\n\n", "k").ok());
}

// ---- Loading ----

TEST_F(KeyFileTest, LoadsAValidFile) {
  const std::string key = RandomBytes(32);
  const std::string path = WriteKeyFile("keys", "tsk1 1 " + Base64(key) + " active\n");
  auto ring = LoadKeyRingFile(path);
  ASSERT_TRUE(ring.ok()) << ring.error().message;
  EXPECT_EQ((*ring)->active_id(), 1u);
  EXPECT_TRUE(KeyBytesEqual((*ring)->active(), key)) << "loaded key differs from the file";
}

TEST_F(KeyFileTest, AcceptsOwnerReadOnly) {
  const std::string path =
      WriteKeyFile("keys", "tsk1 1 " + Base64(RandomBytes(32)) + " active\n", 0400);
  EXPECT_TRUE(LoadKeyRingFile(path).ok());
}

TEST_F(KeyFileTest, RefusesGroupOrOtherAccess) {
  const std::string text = "tsk1 1 " + Base64(RandomBytes(32)) + " active\n";
  for (mode_t mode : {0640, 0604, 0644, 0620, 0660, 0601}) {
    const std::string path = WriteKeyFile("keys", text, mode);
    auto ring = LoadKeyRingFile(path);
    ASSERT_FALSE(ring.ok()) << "mode " << std::oct << mode;
    EXPECT_EQ(ring.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(ring.error().message.find("chmod 600 " + path), std::string::npos)
        << ring.error().message;
  }
}

TEST_F(KeyFileTest, MissingFileIsNamed) {
  const std::string path = PathOf("absent");
  auto ring = LoadKeyRingFile(path);
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(ring.error().message.find(path), std::string::npos) << ring.error().message;
  EXPECT_NE(ring.error().message.find("does not exist"), std::string::npos) << ring.error().message;
}

TEST_F(KeyFileTest, DirectoryIsRefused) {
  const std::string path = PathOf("adir");
  fs::create_directory(path);
  fs::permissions(path, fs::perms::owner_all);
  auto ring = LoadKeyRingFile(path);
  ASSERT_FALSE(ring.ok());
  EXPECT_NE(ring.error().message.find("regular file"), std::string::npos) << ring.error().message;
}

TEST_F(KeyFileTest, MalformedFileIsRefused) {
  const std::string path = WriteKeyFile("keys", "tsk1 1 short active\n");
  auto ring = LoadKeyRingFile(path);
  ASSERT_FALSE(ring.ok());
  EXPECT_NE(ring.error().message.find(path), std::string::npos);
  EXPECT_NE(ring.error().message.find("line 1"), std::string::npos);
}

TEST_F(KeyFileTest, NoActiveKeyIsRefused) {
  const std::string path = WriteKeyFile("keys", "tsk1 1 " + Base64(RandomBytes(32)) + "\n");
  auto ring = LoadKeyRingFile(path);
  ASSERT_FALSE(ring.ok());
  EXPECT_NE(ring.error().message.find("no key is marked active"), std::string::npos);
}

// ---- Creating ----

TEST_F(KeyFileTest, CreateWritesMode0600FileWithOneActiveKey) {
  const std::string path = PathOf("keys");
  ASSERT_TRUE(CreateKeyRingFile(path).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto ring = LoadKeyRingFile(path);
  ASSERT_TRUE(ring.ok()) << ring.error().message;
  EXPECT_EQ((*ring)->ids(), std::vector<std::uint32_t>{1});
  EXPECT_EQ((*ring)->active_id(), 1u);
}

TEST_F(KeyFileTest, CreateIgnoresAPermissiveUmask) {
  const mode_t old = ::umask(0);
  const std::string path = PathOf("keys");
  const auto created = CreateKeyRingFile(path);
  ::umask(old);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(ModeOf(path), 0600u);
}

TEST_F(KeyFileTest, CreateGeneratesDifferentKeysEachTime) {
  ASSERT_TRUE(CreateKeyRingFile(PathOf("a")).ok());
  ASSERT_TRUE(CreateKeyRingFile(PathOf("b")).ok());
  auto a = LoadKeyRingFile(PathOf("a"));
  auto b = LoadKeyRingFile(PathOf("b"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(KeysEqual((*a)->active(), (*b)->active()));
}

TEST_F(KeyFileTest, CreateRefusesToOverwrite) {
  const std::string path = PathOf("keys");
  ASSERT_TRUE(CreateKeyRingFile(path).ok());
  const std::string before = ReadAll(path);
  auto again = CreateKeyRingFile(path);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(again.error().message.find("already exists"), std::string::npos);
  EXPECT_TRUE(ReadAll(path) == before) << "an existing key file was modified";
}

TEST_F(KeyFileTest, CreateRefusesAnyExistingFileEvenNonKeyFiles) {
  const std::string path = WriteKeyFile("other", "not a key file", 0644);
  EXPECT_FALSE(CreateKeyRingFile(path).ok());
  EXPECT_TRUE(ReadAll(path) == "not a key file");
}

TEST_F(KeyFileTest, CreateDoesNotFollowASymlink) {
  const std::string target = PathOf("target");
  const std::string link = PathOf("link");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  EXPECT_FALSE(CreateKeyRingFile(link).ok());
  EXPECT_FALSE(fs::exists(target)) << "key written through a dangling symlink";
}

TEST_F(KeyFileTest, CreateInMissingDirectoryFails) {
  auto r = CreateKeyRingFile(PathOf("no/such/dir/keys"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

// ---- Adding a key (the rotation's first step) ----

TEST_F(KeyFileTest, AddKeepsOldKeysAndActivatesTheNewOne) {
  const std::string path = PathOf("keys");
  ASSERT_TRUE(CreateKeyRingFile(path).ok());
  auto one = LoadKeyRingFile(path);
  ASSERT_TRUE(one.ok());

  auto added = AddKeyToRingFile(path);
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_EQ(*added, 2u);
  EXPECT_EQ(ModeOf(path), 0600u);
  auto two = LoadKeyRingFile(path);
  ASSERT_TRUE(two.ok()) << two.error().message;
  EXPECT_EQ((*two)->ids(), (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ((*two)->active_id(), 2u);
  EXPECT_TRUE(KeysEqual(*(*two)->Find(1), (*one)->active())) << "key 1 changed on add";

  auto third = AddKeyToRingFile(path);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(*third, 3u);
  auto three = LoadKeyRingFile(path);
  ASSERT_TRUE(three.ok());
  EXPECT_EQ((*three)->ids(), (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_TRUE(KeysEqual(*(*three)->Find(2), (*two)->active())) << "key 2 changed on add";

  // Nothing but the key file is left behind (no temporary files).
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"keys"});
}

TEST_F(KeyFileTest, AddUsesMaxIdPlusOne) {
  const std::string path = WriteKeyFile("keys", "tsk1 9 " + Base64(RandomBytes(32)) + "\ntsk1 4 " +
                                                    Base64(RandomBytes(32)) + " active\n");
  auto added = AddKeyToRingFile(path);
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_EQ(*added, 10u);
}

TEST_F(KeyFileTest, AddRefusesMissingLooseOrLinkedFiles) {
  EXPECT_FALSE(AddKeyToRingFile(PathOf("absent")).ok());

  const std::string text = "tsk1 1 " + Base64(RandomBytes(32)) + " active\n";
  const std::string loose = WriteKeyFile("loose", text, 0644);
  auto r = AddKeyToRingFile(loose);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("chmod 600"), std::string::npos);
  EXPECT_TRUE(ReadAll(loose) == text) << "a refused file was modified";

  const std::string real = WriteKeyFile("real", text);
  const std::string link = PathOf("link");
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  EXPECT_FALSE(AddKeyToRingFile(link).ok());
  EXPECT_TRUE(fs::is_symlink(link));
}

TEST_F(KeyFileTest, AddRefusesAMalformedFileAndLeavesItAlone) {
  const std::string text = "tsk1 1 " + Base64(RandomBytes(32)) + "\n";  // no active key
  const std::string path = WriteKeyFile("keys", text);
  EXPECT_FALSE(AddKeyToRingFile(path).ok());
  EXPECT_TRUE(ReadAll(path) == text);
}

TEST_F(KeyFileTest, RemoveRetiresAnInactiveKeyAndKeepsTheOthers) {
  const std::string path = PathOf("keys");
  ASSERT_TRUE(CreateKeyRingFile(path).ok());
  ASSERT_TRUE(AddKeyToRingFile(path).ok());
  ASSERT_TRUE(AddKeyToRingFile(path).ok());
  auto before = LoadKeyRingFile(path);
  ASSERT_TRUE(before.ok());

  auto removed = RemoveKeyFromRingFile(path, 1);
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(ModeOf(path), 0600u);
  auto after = LoadKeyRingFile(path);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ((*after)->ids(), (std::vector<std::uint32_t>{2, 3}));
  EXPECT_EQ((*after)->active_id(), 3u);
  EXPECT_TRUE((*after)->SameKeyAs(**before, 2));
  EXPECT_TRUE((*after)->SameKeyAs(**before, 3));

  // A later add continues after the highest id, never reusing a retired one.
  auto added = AddKeyToRingFile(path);
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(*added, 4u);

  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"keys"});
}

TEST_F(KeyFileTest, RemoveRefusesTheActiveKeyAnAbsentIdAndBadFiles) {
  const std::string path = PathOf("keys");
  ASSERT_TRUE(CreateKeyRingFile(path).ok());
  ASSERT_TRUE(AddKeyToRingFile(path).ok());
  const std::string text = ReadAll(path);
  auto active = RemoveKeyFromRingFile(path, 2);
  ASSERT_FALSE(active.ok());
  EXPECT_NE(active.error().message.find("active"), std::string::npos);
  EXPECT_FALSE(RemoveKeyFromRingFile(path, 7).ok());
  EXPECT_TRUE(ReadAll(path) == text) << "a refused removal changed the file";

  EXPECT_FALSE(RemoveKeyFromRingFile(PathOf("absent"), 1).ok());
  const std::string link = PathOf("link");
  ASSERT_EQ(::symlink(path.c_str(), link.c_str()), 0);
  EXPECT_FALSE(RemoveKeyFromRingFile(link, 1).ok());
  EXPECT_TRUE(ReadAll(path) == text);
}

TEST_F(KeyFileTest, ConcurrentAddsLoseNoKey) {
  const std::string path = PathOf("keys");
  ASSERT_TRUE(CreateKeyRingFile(path).ok());
  constexpr int kThreads = 4;
  constexpr int kAddsPerThread = 5;
  std::vector<std::vector<std::uint32_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAddsPerThread; ++i) {
        auto r = AddKeyToRingFile(path);
        if (r.ok()) got[t].push_back(*r);
      }
    });
  }
  for (auto& th : threads) th.join();

  std::set<std::uint32_t> ids;
  for (const auto& v : got) ids.insert(v.begin(), v.end());
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kThreads * kAddsPerThread))
      << "two adders got the same id";
  auto ring = LoadKeyRingFile(path);
  ASSERT_TRUE(ring.ok()) << ring.error().message;
  EXPECT_EQ((*ring)->ids().size(), static_cast<std::size_t>(kThreads * kAddsPerThread + 1))
      << "a concurrent add was lost";
  EXPECT_EQ((*ring)->active_id(), static_cast<std::uint32_t>(kThreads * kAddsPerThread + 1));
}

}  // namespace
}  // namespace ts::crypto
