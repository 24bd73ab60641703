#include "oauth/client_secret.h"

#include <gtest/gtest.h>

namespace ts::oauth {
namespace {

// The smallest cost libsodium accepts keeps these tests fast; the format is the same.
const Argon2idCost kCheap{1, 8192};

TEST(ClientSecretTest, GeneratedSecretsAreLongRandomAndUrlSafe) {
  const std::string a = GenerateClientSecret();
  const std::string b = GenerateClientSecret();
  EXPECT_EQ(a.size(), 43u);  // 32 bytes, base64url without padding
  EXPECT_NE(a, b);
  for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
}

TEST(ClientSecretTest, HashVerifiesOnlyItsSecret) {
  auto hash = HashClientSecret("s3cret", kCheap);
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=8,t=1,p=1$", 0), 0u) << *hash;
  EXPECT_EQ(hash->find("s3cret"), std::string::npos);
  EXPECT_TRUE(VerifyClientSecret(*hash, "s3cret"));
  EXPECT_FALSE(VerifyClientSecret(*hash, "s3cret "));
  EXPECT_FALSE(VerifyClientSecret(*hash, ""));
  EXPECT_FALSE(VerifyClientSecret("not a hash", "s3cret"));
  auto again = HashClientSecret("s3cret", kCheap);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*hash, *again);  // a fresh salt each time
}

TEST(ClientSecretTest, DefaultHashUsesTheInteractiveLimits) {
  auto hash = HashClientSecret("s3cret");
  ASSERT_TRUE(hash.ok());
  auto cost = Argon2idCostOf(*hash);
  ASSERT_TRUE(cost.ok()) << cost.error().message;
  EXPECT_EQ(cost->memory_bytes, 64u << 20);
  EXPECT_EQ(cost->passes, 2u);
}

TEST(ClientSecretTest, CostOfReadsTheParameters) {
  auto hash = HashClientSecret("x", Argon2idCost{3, 16384});
  ASSERT_TRUE(hash.ok());
  auto cost = Argon2idCostOf(*hash);
  ASSERT_TRUE(cost.ok()) << cost.error().message;
  EXPECT_EQ(cost->passes, 3u);
  EXPECT_EQ(cost->memory_bytes, 16384u);
}

TEST(ClientSecretTest, CostOfRefusesOtherAlgorithmsMalformedAndUnboundedHashes) {
  auto hash = HashClientSecret("x", kCheap);
  ASSERT_TRUE(hash.ok());
  const std::string tail = hash->substr(hash->find("$", 20));  // "$salt$hash"
  for (const std::string& bad : {
           std::string("$argon2i$v=19$m=8,t=1,p=1") + tail,
           std::string("$2b$12$abcdefghijklmnopqrstuv"),
           std::string("plain text"),
           std::string("$argon2id$v=19$m=8,t=1,p=2") + tail,
           std::string("$argon2id$v=19$m=8,t=1") + tail,
           std::string("$argon2id$v=19$m=4194304,t=1,p=1") + tail,  // 4 GiB
           std::string("$argon2id$v=19$m=8,t=100,p=1") + tail,
           std::string("$argon2id$v=19$m=8,t=1,p=1$!!!$???"),
           std::string(""),
       }) {
    SCOPED_TRACE(bad);
    auto cost = Argon2idCostOf(bad);
    ASSERT_FALSE(cost.ok());
    EXPECT_EQ(cost.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(ClientSecretTest, NewClientIdStartsWithTheTenant) {
  const std::string id = NewClientId("acme");
  EXPECT_EQ(id.rfind("acme-", 0), 0u);
  EXPECT_EQ(id.size(), 13u);
  EXPECT_NE(id, NewClientId("acme"));
}

}  // namespace
}  // namespace ts::oauth
