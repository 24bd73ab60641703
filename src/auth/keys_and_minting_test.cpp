#include <gtest/gtest.h>
#include <jwt.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdlib>
#include <limits>
#include <string>

#include "auth/auth_test_support.h"
#include "auth/token_verifier.h"

namespace ts::auth {
namespace {

using testing::GenerateEcKey;
using testing::GenerateEd25519Key;
using testing::GenerateRsaKey;
using testing::KeyPair;

const std::string kSecret = "0123456789abcdef0123456789abcdef";  // exactly 32 bytes

class KeyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new KeyPair(GenerateRsaKey());
    ec_ = new KeyPair(GenerateEcKey());
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
  }
  static Result<TokenVerifier> Create(Algorithm algorithm, std::string key) {
    VerifierOptions options;
    options.algorithm = algorithm;
    options.key = std::move(key);
    return TokenVerifier::Create(std::move(options));
  }
  static inline KeyPair* rsa_ = nullptr;
  static inline KeyPair* ec_ = nullptr;
};

void ExpectCreateFails(const Result<TokenVerifier>& result, std::string_view key = "") {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(result.error().message.empty());
  if (!key.empty()) {
    EXPECT_EQ(result.error().message.find(key), std::string::npos);
    EXPECT_EQ(result.error().internal.find(key), std::string::npos);
  }
}

// ---- AlgorithmForPublicKey -----------------------------------------------------------------

TEST_F(KeyTest, RsaPublicKeyIsRs256) {
  Result<Algorithm> algorithm = AlgorithmForPublicKey(rsa_->public_pem);
  ASSERT_TRUE(algorithm.ok()) << algorithm.error().message;
  EXPECT_EQ(*algorithm, Algorithm::kRS256);
}

TEST_F(KeyTest, P256PublicKeyIsEs256) {
  Result<Algorithm> algorithm = AlgorithmForPublicKey(ec_->public_pem);
  ASSERT_TRUE(algorithm.ok()) << algorithm.error().message;
  EXPECT_EQ(*algorithm, Algorithm::kES256);
}

TEST_F(KeyTest, OtherKeysHaveNoAlgorithm) {
  for (const std::string& pem :
       {GenerateEcKey("P-384").public_pem, GenerateEd25519Key().public_pem, rsa_->private_pem,
        ec_->private_pem, std::string(""), std::string("not a key"),
        std::string("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), kSecret}) {
    Result<Algorithm> algorithm = AlgorithmForPublicKey(pem);
    ASSERT_FALSE(algorithm.ok());
    EXPECT_EQ(algorithm.error().code, ErrorCode::kInvalidArgument);
  }
}

// ---- TokenVerifier::Create -----------------------------------------------------------------

// libjwt 1.10 skips signature checks when handed an empty key, so one must never get that far.
TEST_F(KeyTest, EmptyKeyIsRefusedForEveryAlgorithm) {
  for (const Algorithm algorithm : {Algorithm::kHS256, Algorithm::kRS256, Algorithm::kES256}) {
    ExpectCreateFails(Create(algorithm, ""));
  }
}

TEST_F(KeyTest, ShortHs256SecretIsRefused) {
  ExpectCreateFails(Create(Algorithm::kHS256, kSecret.substr(0, kMinHs256SecretBytes - 1)),
                    kSecret.substr(0, kMinHs256SecretBytes - 1));
  EXPECT_TRUE(Create(Algorithm::kHS256, kSecret).ok());
}

TEST_F(KeyTest, MismatchedOrUnusableAsymmetricKeysAreRefused) {
  ExpectCreateFails(Create(Algorithm::kRS256, ec_->public_pem), ec_->public_pem);
  ExpectCreateFails(Create(Algorithm::kES256, rsa_->public_pem), rsa_->public_pem);
  ExpectCreateFails(Create(Algorithm::kRS256, rsa_->private_pem), rsa_->private_pem);
  ExpectCreateFails(Create(Algorithm::kES256, ec_->private_pem), ec_->private_pem);
  ExpectCreateFails(Create(Algorithm::kRS256, kSecret), kSecret);
  ExpectCreateFails(Create(Algorithm::kES256, GenerateEcKey("P-384").public_pem));
  ExpectCreateFails(Create(Algorithm::kRS256, GenerateRsaKey(1024).public_pem));
  EXPECT_TRUE(Create(Algorithm::kRS256, rsa_->public_pem).ok());
  EXPECT_TRUE(Create(Algorithm::kES256, ec_->public_pem).ok());
}

TEST(TokenVerifierCreateTest, SkewAndIssuerAudienceAreValidated) {
  VerifierOptions options;
  options.key = kSecret;
  options.clock_skew = std::chrono::seconds(-1);
  ExpectCreateFails(TokenVerifier::Create(options));
  options.clock_skew = kMaxClockSkew + std::chrono::seconds(1);
  ExpectCreateFails(TokenVerifier::Create(options));
  options.clock_skew = kMaxClockSkew;
  EXPECT_TRUE(TokenVerifier::Create(options).ok());
  options.clock_skew = std::chrono::seconds(0);
  EXPECT_TRUE(TokenVerifier::Create(options).ok());

  options.issuer = "";
  ExpectCreateFails(TokenVerifier::Create(options));
  options.issuer.reset();
  options.audience = "";
  ExpectCreateFails(TokenVerifier::Create(options));
}

// ---- MintHs256Token ------------------------------------------------------------------------

boost::json::object DecodeClaims(const std::string& token, const std::string& secret) {
  jwt_t* jwt = nullptr;
  EXPECT_EQ(jwt_decode(&jwt, token.c_str(), reinterpret_cast<const unsigned char*>(secret.data()),
                       static_cast<int>(secret.size())),
            0);
  if (jwt == nullptr) return {};
  EXPECT_EQ(jwt_get_alg(jwt), JWT_ALG_HS256);
  char* json = jwt_get_grants_json(jwt, nullptr);
  boost::json::object claims = boost::json::parse(json).as_object();
  std::free(json);
  jwt_free(jwt);
  return claims;
}

TEST(MintHs256TokenTest, WritesAllClaims) {
  Result<std::string> token =
      MintHs256Token(kSecret, "acme", "ai.agent_read ai.agent_manage", "dev-user", 1000, 3600,
                     std::string("iss-x"), std::string("aud-y"));
  ASSERT_TRUE(token.ok()) << token.error().message;
  const boost::json::object claims = DecodeClaims(*token, kSecret);
  EXPECT_EQ(claims.at("tenant"), "acme");
  EXPECT_EQ(claims.at("scope"), "ai.agent_read ai.agent_manage");
  EXPECT_EQ(claims.at("sub"), "dev-user");
  EXPECT_EQ(claims.at("iat").as_int64(), 1000);
  EXPECT_EQ(claims.at("exp").as_int64(), 4600);
  EXPECT_EQ(claims.at("iss"), "iss-x");
  EXPECT_EQ(claims.at("aud"), "aud-y");
}

TEST(MintHs256TokenTest, OmitsEmptyOptionalClaims) {
  Result<std::string> token = MintHs256Token(kSecret, "acme", "", "", 1000, 60);
  ASSERT_TRUE(token.ok());
  const boost::json::object claims = DecodeClaims(*token, kSecret);
  EXPECT_EQ(claims.size(), 3u);  // tenant, iat, exp
  EXPECT_FALSE(claims.contains("scope"));
  EXPECT_FALSE(claims.contains("sub"));
  EXPECT_FALSE(claims.contains("iss"));
  EXPECT_FALSE(claims.contains("aud"));
}

TEST(MintHs256TokenTest, RefusesBadArguments) {
  auto fails = [](const Result<std::string>& result) {
    return !result.ok() && result.error().code == ErrorCode::kInvalidArgument;
  };
  EXPECT_TRUE(fails(MintHs256Token("", "acme", "", "", 1000, 60)));
  EXPECT_TRUE(fails(MintHs256Token(kSecret.substr(1), "acme", "", "", 1000, 60)));
  EXPECT_TRUE(fails(MintHs256Token(kSecret, "", "", "", 1000, 60)));
  EXPECT_TRUE(fails(MintHs256Token(kSecret, "acme", "", "", 1000, 0)));
  EXPECT_TRUE(fails(MintHs256Token(kSecret, "acme", "", "", 1000, -5)));
  EXPECT_TRUE(
      fails(MintHs256Token(kSecret, "acme", "", "", std::numeric_limits<std::int64_t>::max(), 10)));
  EXPECT_TRUE(fails(MintHs256Token(kSecret, std::string_view("ac\0me", 5), "", "", 1000, 60)));
  EXPECT_TRUE(fails(MintHs256Token(kSecret, "acme", "", "", 1000, 60, std::string("i\0ss", 4))));
  EXPECT_TRUE(fails(
      MintHs256Token(kSecret, "acme", "", "", 1000, 60, std::nullopt, std::string("a\0", 2))));
}

TEST(MintHs256TokenTest, ExpiresAfterTtlPlusSkew) {
  Result<std::string> token = MintHs256Token(kSecret, "acme", "s", "", 1000, 60);
  ASSERT_TRUE(token.ok());
  VerifierOptions options;
  options.key = kSecret;
  options.clock_skew = std::chrono::seconds(5);
  Result<TokenVerifier> verifier = TokenVerifier::Create(options);
  ASSERT_TRUE(verifier.ok());
  EXPECT_TRUE(verifier->Verify("Bearer " + *token, 1065).ok());
  Result<Principal> expired = verifier->Verify("Bearer " + *token, 1066);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, ErrorCode::kTokenExpired);
}

// ---- algorithm names -----------------------------------------------------------------------

TEST(AlgorithmNameTest, RoundTripsAndIsCaseSensitive) {
  for (const Algorithm algorithm : {Algorithm::kHS256, Algorithm::kRS256, Algorithm::kES256}) {
    Result<Algorithm> parsed = ParseAlgorithm(AlgorithmName(algorithm));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, algorithm);
  }
  for (const std::string_view name : {"hs256", "none", "HS512", "", "RS256 "}) {
    Result<Algorithm> parsed = ParseAlgorithm(name);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace ts::auth
