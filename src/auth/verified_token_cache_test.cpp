#include "auth/verified_token_cache.h"

#include <gtest/gtest.h>

#include <string>

#include "auth/auth_test_support.h"
#include "auth/token_verifier.h"

namespace ts::auth {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;
const std::string kSecret = "0123456789abcdef0123456789abcdef-cache";

TokenVerifier Verifier(std::size_t cache_entries) {
  VerifierOptions options;
  options.key = kSecret;
  options.clock_skew = std::chrono::seconds(60);
  options.cache_entries = cache_entries;
  auto verifier = TokenVerifier::Create(std::move(options));
  EXPECT_TRUE(verifier.ok());
  return std::move(verifier).value();
}

std::string Bearer(std::string_view tenant, std::int64_t issued_at, std::int64_t ttl) {
  auto token = MintHs256Token(kSecret, tenant, "ai.agent_read", "u1", issued_at, ttl);
  EXPECT_TRUE(token.ok());
  return "Bearer " + *token;
}

VerifiedClaims Claims(std::string tenant, std::int64_t exp) {
  VerifiedClaims claims;
  claims.principal.tenant = std::move(tenant);
  claims.exp = exp;
  return claims;
}

TEST(VerifiedTokenCacheTest, ARepeatedTokenGivesTheSamePrincipal) {
  const TokenVerifier verifier = Verifier(100);
  const std::string token = Bearer("acme", kNow - 10, 300);
  for (int i = 0; i < 3; ++i) {
    auto principal = verifier.Verify(token, kNow + i);
    ASSERT_TRUE(principal.ok());
    EXPECT_EQ(principal->tenant, "acme");
    EXPECT_EQ(principal->subject, "u1");
    EXPECT_EQ(principal->scopes, std::vector<std::string>{"ai.agent_read"});
  }
}

TEST(VerifiedTokenCacheTest, ACachedTokenStillExpires) {
  const TokenVerifier verifier = Verifier(100);
  const std::string token = Bearer("acme", kNow - 10, 300);
  ASSERT_TRUE(verifier.Verify(token, kNow).ok());
  ASSERT_TRUE(verifier.Verify(token, kNow + 290 + 60).ok());  // within exp + skew
  auto late = verifier.Verify(token, kNow + 290 + 61);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kTokenExpired);
}

TEST(VerifiedTokenCacheTest, ATokenNotYetValidIsRefusedUntilItsTimeEvenOnceCached) {
  const TokenVerifier verifier = Verifier(100);
  const std::string token =
      "Bearer " + testing::SignWithLibjwt(JWT_ALG_HS256, kSecret,
                                          R"({"tenant":"acme","nbf":)" + std::to_string(kNow + 600) +
                                              R"(,"exp":)" + std::to_string(kNow + 3600) + "}");
  for (int i = 0; i < 2; ++i) {
    auto early = verifier.Verify(token, kNow);
    ASSERT_FALSE(early.ok());
    EXPECT_EQ(early.error().code, ErrorCode::kUnauthenticated);
  }
  EXPECT_TRUE(verifier.Verify(token, kNow + 600 - 60).ok());  // nbf - skew
}

TEST(VerifiedTokenCacheTest, DistinctTokensKeepTheirOwnPrincipals) {
  const TokenVerifier verifier = Verifier(100);
  const std::string a = Bearer("acme", kNow, 300);
  const std::string b = Bearer("beta", kNow, 300);
  ASSERT_EQ(verifier.Verify(a, kNow)->tenant, "acme");
  ASSERT_EQ(verifier.Verify(b, kNow)->tenant, "beta");
  ASSERT_EQ(verifier.Verify(a, kNow)->tenant, "acme");
}

TEST(VerifiedTokenCacheTest, BadTokensAreAlwaysRefused) {
  const TokenVerifier verifier = Verifier(100);
  std::string token = Bearer("acme", kNow - 10, 300);
  ASSERT_TRUE(verifier.Verify(token, kNow).ok());
  // One character of the signature changed: a different token, verified from scratch.
  token.back() = token.back() == 'A' ? 'B' : 'A';
  for (int i = 0; i < 2; ++i) {
    auto refused = verifier.Verify(token, kNow);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
  }
}

TEST(VerifiedTokenCacheTest, WorksWithTheCacheOff) {
  const TokenVerifier verifier = Verifier(0);
  const std::string token = Bearer("acme", kNow - 10, 300);
  EXPECT_TRUE(verifier.Verify(token, kNow).ok());
  EXPECT_TRUE(verifier.Verify(token, kNow).ok());
}

TEST(VerifiedTokenCacheTest, StaysWithinCapacityDroppingExpiredEntriesFirst) {
  VerifiedTokenCache cache(3);
  cache.Insert("t1", Claims("a", kNow - 100), kNow);  // expired
  cache.Insert("t2", Claims("b", kNow + 100), kNow);
  cache.Insert("t3", Claims("c", kNow + 100), kNow);
  cache.Insert("t4", Claims("d", kNow + 100), kNow);  // full: t1 goes
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.Find("t1"));
  EXPECT_EQ(cache.Find("t2")->principal.tenant, "b");
  EXPECT_EQ(cache.Find("t4")->principal.tenant, "d");
  cache.Insert("t5", Claims("e", kNow + 100), kNow);  // full of live tokens: starts over
  EXPECT_LE(cache.size(), 3u);
  EXPECT_EQ(cache.Find("t5")->principal.tenant, "e");
  cache.Insert("t5", Claims("f", kNow + 100), kNow);  // replacing needs no room
  EXPECT_EQ(cache.Find("t5")->principal.tenant, "f");
}

}  // namespace
}  // namespace ts::auth
