#include "auth/token_verifier.h"

#include <gtest/gtest.h>
#include <jwt.h>

#include <atomic>
#include <limits>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "auth/auth_test_support.h"

namespace ts::auth {
namespace {

using testing::GenerateEcKey;
using testing::GenerateRsaKey;
using testing::HandMadeHs256Token;
using testing::KeyPair;
using testing::SignWithLibjwt;

constexpr std::int64_t kNow = 1'800'000'000;
const std::string kSecret = "0123456789abcdef0123456789abcdef-test";  // >= 32 bytes
const std::string kOtherSecret = "fedcba9876543210fedcba9876543210-test";

std::string Claims(std::string_view extra = "") {
  std::string json = R"({"tenant":"acme","scope":"ai.agent_read ai.agent_manage","sub":"u1",)"
                     R"("iat":)" +
                     std::to_string(kNow - 10) + R"(,"exp":)" + std::to_string(kNow + 300);
  if (!extra.empty()) json += "," + std::string(extra);
  return json + "}";
}

// Claims without the default `exp`, for tests that control it.
std::string ClaimsWith(std::string_view fields) { return "{" + std::string(fields) + "}"; }

std::string Bearer(std::string_view token) { return "Bearer " + std::string(token); }

TokenVerifier MakeVerifier(VerifierOptions options) {
  Result<TokenVerifier> verifier = TokenVerifier::Create(std::move(options));
  EXPECT_TRUE(verifier.ok()) << (verifier.ok() ? "" : verifier.error().message);
  return std::move(verifier).value();
}

TokenVerifier Hs256Verifier(std::chrono::seconds skew = std::chrono::seconds(60)) {
  VerifierOptions options;
  options.algorithm = Algorithm::kHS256;
  options.key = kSecret;
  options.clock_skew = skew;
  return MakeVerifier(std::move(options));
}

std::string Hs256(std::string_view claims_json) {
  return SignWithLibjwt(JWT_ALG_HS256, kSecret, claims_json);
}

void ExpectInvalid(const Result<Principal>& result, std::string_view internal_fragment = "") {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(result.error().message, "Invalid access token");
  if (!internal_fragment.empty()) {
    EXPECT_NE(result.error().internal.find(internal_fragment), std::string::npos)
        << "internal: " << result.error().internal;
  }
}

void ExpectExpired(const Result<Principal>& result) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kTokenExpired);
  EXPECT_EQ(result.error().message, "Access Token expired");
}

class AsymmetricKeys : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new KeyPair(GenerateRsaKey());
    ec_ = new KeyPair(GenerateEcKey());
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
  }
  static TokenVerifier Verifier(Algorithm algorithm, const std::string& public_pem) {
    VerifierOptions options;
    options.algorithm = algorithm;
    options.key = public_pem;
    return MakeVerifier(std::move(options));
  }
  static inline KeyPair* rsa_ = nullptr;
  static inline KeyPair* ec_ = nullptr;
};

// ---- valid tokens --------------------------------------------------------------------------

TEST(TokenVerifierTest, ValidHs256TokenYieldsPrincipal) {
  Result<Principal> principal = Hs256Verifier().Verify(Bearer(Hs256(Claims())), kNow);
  ASSERT_TRUE(principal.ok()) << principal.error().internal;
  EXPECT_EQ(principal->tenant, "acme");
  EXPECT_EQ(principal->subject, "u1");
  EXPECT_EQ(principal->scopes, (std::vector<std::string>{"ai.agent_read", "ai.agent_manage"}));
}

TEST(TokenVerifierTest, MintedTokenVerifies) {
  Result<std::string> token = MintHs256Token(kSecret, "acme", "ai.agent_read", "dev", kNow, 600,
                                             std::string("https://issuer"), std::string("api"));
  ASSERT_TRUE(token.ok());
  VerifierOptions options;
  options.key = kSecret;
  options.issuer = "https://issuer";
  options.audience = "api";
  Result<Principal> principal = MakeVerifier(std::move(options)).Verify(Bearer(*token), kNow);
  ASSERT_TRUE(principal.ok()) << principal.error().internal;
  EXPECT_EQ(principal->tenant, "acme");
  EXPECT_EQ(principal->subject, "dev");
  EXPECT_TRUE(principal->HasScope("ai.agent_read"));
}

TEST_F(AsymmetricKeys, ValidRs256Token) {
  const std::string token = SignWithLibjwt(JWT_ALG_RS256, rsa_->private_pem, Claims());
  Result<Principal> principal =
      Verifier(Algorithm::kRS256, rsa_->public_pem).Verify(Bearer(token), kNow);
  ASSERT_TRUE(principal.ok()) << principal.error().internal;
  EXPECT_EQ(principal->tenant, "acme");
}

TEST_F(AsymmetricKeys, ValidEs256Token) {
  const std::string token = SignWithLibjwt(JWT_ALG_ES256, ec_->private_pem, Claims());
  Result<Principal> principal =
      Verifier(Algorithm::kES256, ec_->public_pem).Verify(Bearer(token), kNow);
  ASSERT_TRUE(principal.ok()) << principal.error().internal;
  EXPECT_EQ(principal->tenant, "acme");
}

// ---- signatures ----------------------------------------------------------------------------

TEST(TokenVerifierTest, WrongSecretIsInvalid) {
  const std::string token = SignWithLibjwt(JWT_ALG_HS256, kOtherSecret, Claims());
  ExpectInvalid(Hs256Verifier().Verify(Bearer(token), kNow), "jwt_decode");
}

std::string ReplacePayload(const std::string& token, std::string_view payload_json) {
  const std::size_t first = token.find('.');
  const std::size_t second = token.find('.', first + 1);
  return token.substr(0, first + 1) + testing::Base64Url(payload_json) + token.substr(second);
}

TEST(TokenVerifierTest, TamperedPayloadIsInvalid) {
  const std::string token = Hs256(Claims());
  const std::string tampered =
      ReplacePayload(token, R"({"tenant":"evil","scope":"ai.agent_manage","exp":)" +
                                std::to_string(kNow + 300) + "}");
  ExpectInvalid(Hs256Verifier().Verify(Bearer(tampered), kNow), "jwt_decode");
}

TEST(TokenVerifierTest, TamperedSignatureIsInvalid) {
  std::string token = Hs256(Claims());
  token.back() = token.back() == 'A' ? 'B' : 'A';
  ExpectInvalid(Hs256Verifier().Verify(Bearer(token), kNow));
}

TEST_F(AsymmetricKeys, TamperedRs256PayloadIsInvalid) {
  const std::string token = SignWithLibjwt(JWT_ALG_RS256, rsa_->private_pem, Claims());
  const std::string tampered =
      ReplacePayload(token, R"({"tenant":"evil","exp":)" + std::to_string(kNow + 300) + "}");
  ExpectInvalid(Verifier(Algorithm::kRS256, rsa_->public_pem).Verify(Bearer(tampered), kNow),
                "jwt_decode");
}

TEST_F(AsymmetricKeys, TokenSignedByAnotherRsaKeyIsInvalid) {
  const KeyPair other = GenerateRsaKey();
  const std::string token = SignWithLibjwt(JWT_ALG_RS256, other.private_pem, Claims());
  ExpectInvalid(Verifier(Algorithm::kRS256, rsa_->public_pem).Verify(Bearer(token), kNow));
}

// ---- libjwt pitfall 1: it trusts the token's `alg` -------------------------------------------

// The classic confusion attack: the public key is public, so an attacker HMACs a token with its
// PEM text. libjwt 1.10 follows the token's `alg: HS256` and uses our PEM as the HMAC secret, so
// the signature checks out; only pinning the algorithm stops it.
TEST_F(AsymmetricKeys, Hs256TokenSignedWithRsaPublicKeyPemIsRejectedByRs256Verifier) {
  const std::string forged = SignWithLibjwt(JWT_ALG_HS256, rsa_->public_pem, Claims());
  ExpectInvalid(Verifier(Algorithm::kRS256, rsa_->public_pem).Verify(Bearer(forged), kNow),
                "does not match configured algorithm RS256");
}

TEST_F(AsymmetricKeys, Hs256TokenSignedWithEcPublicKeyPemIsRejectedByEs256Verifier) {
  const std::string forged = SignWithLibjwt(JWT_ALG_HS256, ec_->public_pem, Claims());
  ExpectInvalid(Verifier(Algorithm::kES256, ec_->public_pem).Verify(Bearer(forged), kNow),
                "does not match configured algorithm ES256");
}

TEST_F(AsymmetricKeys, TokenOfOtherAsymmetricAlgorithmIsRejected) {
  const std::string es_token = SignWithLibjwt(JWT_ALG_ES256, ec_->private_pem, Claims());
  ExpectInvalid(Verifier(Algorithm::kRS256, rsa_->public_pem).Verify(Bearer(es_token), kNow));
  const std::string rs_token = SignWithLibjwt(JWT_ALG_RS256, rsa_->private_pem, Claims());
  ExpectInvalid(Verifier(Algorithm::kES256, ec_->public_pem).Verify(Bearer(rs_token), kNow));
  ExpectInvalid(Hs256Verifier().Verify(Bearer(rs_token), kNow));
}

TEST(TokenVerifierTest, AlgNoneIsRejected) {
  // libjwt's own unsigned token: "header.payload." with an empty signature.
  const std::string unsigned_token = SignWithLibjwt(JWT_ALG_NONE, "", Claims());
  ASSERT_EQ(unsigned_token.back(), '.');
  ExpectInvalid(Hs256Verifier().Verify(Bearer(unsigned_token), kNow));
  // The same with a dummy signature, so it is not stopped by the empty-segment check alone.
  ExpectInvalid(Hs256Verifier().Verify(Bearer(unsigned_token + "c2lnbmF0dXJl"), kNow));
  // And with a real HMAC over an `alg: none` header.
  const std::string hand_made =
      HandMadeHs256Token(R"({"alg":"none","typ":"JWT"})", Claims(), kSecret);
  ExpectInvalid(Hs256Verifier().Verify(Bearer(hand_made), kNow));
}

TEST(TokenVerifierTest, AlgHeaderMustBeSpelledExactly) {
  // libjwt maps "hs256" to HS256 case-insensitively; RFC 7515 algorithm names are case-sensitive.
  const std::string token = HandMadeHs256Token(R"({"alg":"hs256","typ":"JWT"})", Claims(), kSecret);
  ExpectInvalid(Hs256Verifier().Verify(Bearer(token), kNow), "spelled exactly");
  const std::string exact = HandMadeHs256Token(R"({"alg":"HS256","typ":"JWT"})", Claims(), kSecret);
  EXPECT_TRUE(Hs256Verifier().Verify(Bearer(exact), kNow).ok());
}

// ---- libjwt pitfall 2: an empty key skips verification -------------------------------------

TEST(TokenVerifierTest, MovedFromVerifierRejectsEverything) {
  TokenVerifier original = Hs256Verifier();
  TokenVerifier moved = std::move(original);
  const std::string token = Hs256(Claims());
  EXPECT_TRUE(moved.Verify(Bearer(token), kNow).ok());
  // The moved-from verifier has an empty key; libjwt would accept any token with it.
  const std::string forged = SignWithLibjwt(JWT_ALG_HS256, kOtherSecret, Claims());
  ExpectInvalid(original.Verify(Bearer(forged), kNow),
                "no usable key");  // NOLINT(bugprone-use-after-move)
  ExpectInvalid(original.Verify(Bearer(token), kNow),
                "no usable key");  // NOLINT(bugprone-use-after-move)
}

// ---- libjwt pitfall 3: exp/nbf are not checked by libjwt -----------------------------------

std::string TimedClaims(std::string_view times) {
  return ClaimsWith(R"("tenant":"acme",)" + std::string(times));
}

TEST(TokenVerifierTest, ExpiredTokenIsExpiredNotInvalid) {
  const std::string token = Hs256(TimedClaims(R"("exp":)" + std::to_string(kNow - 61)));
  ExpectExpired(Hs256Verifier().Verify(Bearer(token), kNow));
}

TEST(TokenVerifierTest, ExpWithinSkewIsAccepted) {
  const std::int64_t exp = kNow - 60;  // exp + skew == now: still valid
  const std::string token = Hs256(TimedClaims(R"("exp":)" + std::to_string(exp)));
  EXPECT_TRUE(Hs256Verifier().Verify(Bearer(token), kNow).ok());
  ExpectExpired(Hs256Verifier().Verify(Bearer(token), kNow + 1));
}

TEST(TokenVerifierTest, ZeroSkewExpiresRightAfterExp) {
  const std::string token = Hs256(TimedClaims(R"("exp":)" + std::to_string(kNow)));
  const TokenVerifier verifier = Hs256Verifier(std::chrono::seconds(0));
  EXPECT_TRUE(verifier.Verify(Bearer(token), kNow).ok());
  ExpectExpired(verifier.Verify(Bearer(token), kNow + 1));
}

TEST(TokenVerifierTest, NbfInTheFutureIsInvalidNotExpired) {
  const std::string token = Hs256(TimedClaims(R"("nbf":)" + std::to_string(kNow + 61) +
                                              R"(,"exp":)" + std::to_string(kNow + 600)));
  ExpectInvalid(Hs256Verifier().Verify(Bearer(token), kNow), "nbf");
}

TEST(TokenVerifierTest, NbfWithinSkewIsAccepted) {
  const std::string token = Hs256(TimedClaims(R"("nbf":)" + std::to_string(kNow + 60) +
                                              R"(,"exp":)" + std::to_string(kNow + 600)));
  EXPECT_TRUE(Hs256Verifier().Verify(Bearer(token), kNow).ok());
}

TEST(TokenVerifierTest, MissingExpIsInvalid) {
  ExpectInvalid(Hs256Verifier().Verify(Bearer(Hs256(R"({"tenant":"acme"})")), kNow),
                "`exp` is missing");
}

// libjwt's jwt_get_grant_int returns 0 for these with errno 0; none may become "1970".
TEST(TokenVerifierTest, NonIntegerTimesAreInvalidNotExpired) {
  const TokenVerifier verifier = Hs256Verifier();
  for (const std::string_view exp :
       {"1.5", "1800000300.0", "\"1800000300\"", "true", "null", "[1]", "{}", "1e10"}) {
    SCOPED_TRACE(exp);
    ExpectInvalid(verifier.Verify(Bearer(Hs256(TimedClaims(R"("exp":)" + std::string(exp)))), kNow),
                  "`exp` is not an integer");
  }
  for (const std::string_view nbf : {"\"1\"", "1.0", "false", "null"}) {
    SCOPED_TRACE(nbf);
    const std::string token = Hs256(
        TimedClaims(R"("exp":)" + std::to_string(kNow + 60) + R"(,"nbf":)" + std::string(nbf)));
    ExpectInvalid(verifier.Verify(Bearer(token), kNow), "`nbf` is not an integer");
  }
}

TEST(TokenVerifierTest, ExtremeTimesDoNotOverflow) {
  const TokenVerifier verifier = Hs256Verifier();
  const std::string far_future = Hs256(TimedClaims(R"("exp":9223372036854775807)"));
  EXPECT_TRUE(verifier.Verify(Bearer(far_future), kNow).ok());
  const std::string far_past = Hs256(TimedClaims(R"("exp":-9223372036854775807)"));
  ExpectExpired(verifier.Verify(Bearer(far_past), kNow));
  const std::string nbf_max =
      Hs256(TimedClaims(R"("exp":9223372036854775807,"nbf":9223372036854775807)"));
  ExpectInvalid(verifier.Verify(Bearer(nbf_max), kNow), "nbf");
  // now + skew saturates instead of wrapping to a negative number (which would reject).
  EXPECT_TRUE(verifier.Verify(Bearer(nbf_max), std::numeric_limits<std::int64_t>::max() - 1).ok());
  // exp + skew saturates too: an exp at the top of the range never wraps into the past.
  EXPECT_TRUE(verifier.Verify(Bearer(far_future), std::numeric_limits<std::int64_t>::max()).ok());
}

// Expired only when nothing else is wrong: a client may refresh an expired token, but not one
// from the wrong issuer.
TEST(TokenVerifierTest, ExpiredButOtherwiseInvalidIsInvalid) {
  VerifierOptions options;
  options.key = kSecret;
  options.issuer = "good";
  const TokenVerifier verifier = MakeVerifier(std::move(options));
  const std::string expired_bad_issuer =
      Hs256(TimedClaims(R"("iss":"bad","exp":)" + std::to_string(kNow - 3600)));
  ExpectInvalid(verifier.Verify(Bearer(expired_bad_issuer), kNow));
  const std::string expired_no_tenant =
      Hs256(ClaimsWith(R"("iss":"good","exp":)" + std::to_string(kNow - 3600)));
  ExpectInvalid(verifier.Verify(Bearer(expired_no_tenant), kNow));
  const std::string expired_good =
      Hs256(TimedClaims(R"("iss":"good","exp":)" + std::to_string(kNow - 3600)));
  ExpectExpired(verifier.Verify(Bearer(expired_good), kNow));
}

// ---- claims --------------------------------------------------------------------------------

std::string WithExp(std::string_view fields) {
  return ClaimsWith(std::string(fields) + R"(,"exp":)" + std::to_string(kNow + 300));
}

TEST(TokenVerifierTest, TenantIsRequiredNonEmptyString) {
  const TokenVerifier verifier = Hs256Verifier();
  ExpectInvalid(verifier.Verify(Bearer(Hs256(WithExp(R"("sub":"u")"))), kNow), "`tenant`");
  ExpectInvalid(verifier.Verify(Bearer(Hs256(WithExp(R"("tenant":"")"))), kNow), "`tenant`");
  for (const std::string_view tenant : {"42", "null", "true", "[\"acme\"]", "{\"id\":\"acme\"}"}) {
    SCOPED_TRACE(tenant);
    ExpectInvalid(
        verifier.Verify(Bearer(Hs256(WithExp(R"("tenant":)" + std::string(tenant)))), kNow),
        "`tenant`");
  }
}

TEST(TokenVerifierTest, ScopesAreSplitOnSpaces) {
  const TokenVerifier verifier = Hs256Verifier();
  Result<Principal> none = verifier.Verify(Bearer(Hs256(WithExp(R"("tenant":"t")"))), kNow);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->scopes.empty());
  EXPECT_FALSE(none->HasScope("ai.agent_read"));
  EXPECT_TRUE(none->subject.empty());

  Result<Principal> empty =
      verifier.Verify(Bearer(Hs256(WithExp(R"("tenant":"t","scope":"")"))), kNow);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->scopes.empty());

  Result<Principal> messy = verifier.Verify(
      Bearer(Hs256(WithExp(R"("tenant":"t","scope":"  a  b.c   ai.agent_read ")"))), kNow);
  ASSERT_TRUE(messy.ok());
  EXPECT_EQ(messy->scopes, (std::vector<std::string>{"a", "b.c", "ai.agent_read"}));
}

TEST(TokenVerifierTest, NonStringScopeOrSubIsInvalid) {
  const TokenVerifier verifier = Hs256Verifier();
  ExpectInvalid(
      verifier.Verify(Bearer(Hs256(WithExp(R"("tenant":"t","scope":["ai.agent_read"])"))), kNow),
      "`scope`");
  ExpectInvalid(verifier.Verify(Bearer(Hs256(WithExp(R"("tenant":"t","sub":7)"))), kNow), "`sub`");
}

TEST(PrincipalTest, HasScopeIsExact) {
  Principal principal;
  principal.scopes = {"ai.agent_read", "other"};
  EXPECT_TRUE(principal.HasScope("ai.agent_read"));
  EXPECT_FALSE(principal.HasScope("ai.agent"));
  EXPECT_FALSE(principal.HasScope("ai.agent_read_all"));
  EXPECT_FALSE(principal.HasScope("AI.AGENT_READ"));
  EXPECT_FALSE(principal.HasScope(""));
  EXPECT_FALSE(principal.HasScope("ai.agent_read other"));
}

TEST(TokenVerifierTest, IssuerIsCheckedWhenConfigured) {
  VerifierOptions options;
  options.key = kSecret;
  options.issuer = "https://auth.example";
  const TokenVerifier verifier = MakeVerifier(std::move(options));
  EXPECT_TRUE(
      verifier.Verify(Bearer(Hs256(WithExp(R"("tenant":"t","iss":"https://auth.example")"))), kNow)
          .ok());
  ExpectInvalid(
      verifier.Verify(Bearer(Hs256(WithExp(R"("tenant":"t","iss":"https://evil")"))), kNow),
      "`iss`");
  ExpectInvalid(verifier.Verify(Bearer(Hs256(WithExp(R"("tenant":"t")"))), kNow), "`iss`");
  ExpectInvalid(verifier.Verify(Bearer(Hs256(WithExp(R"("tenant":"t","iss":1)"))), kNow), "`iss`");
  // Not configured: any issuer passes.
  EXPECT_TRUE(
      Hs256Verifier().Verify(Bearer(Hs256(WithExp(R"("tenant":"t","iss":"x")"))), kNow).ok());
}

TEST(TokenVerifierTest, AudienceMayBeStringOrArray) {
  VerifierOptions options;
  options.key = kSecret;
  options.audience = "token-service";
  const TokenVerifier verifier = MakeVerifier(std::move(options));
  auto verify = [&](std::string_view aud) {
    return verifier.Verify(Bearer(Hs256(WithExp(R"("tenant":"t","aud":)" + std::string(aud)))),
                           kNow);
  };
  EXPECT_TRUE(verify(R"("token-service")").ok());
  EXPECT_TRUE(verify(R"(["other","token-service"])").ok());
  ExpectInvalid(verify(R"("other")"), "`aud`");
  ExpectInvalid(verify(R"(["other"])"), "`aud`");
  ExpectInvalid(verify(R"([])"), "`aud`");
  ExpectInvalid(verify(R"(["token-service",1])"), "`aud`");
  ExpectInvalid(verify(R"(7)"), "`aud`");
  ExpectInvalid(verify(R"({"token-service":true})"), "`aud`");
  ExpectInvalid(verifier.Verify(Bearer(Hs256(WithExp(R"("tenant":"t")"))), kNow), "`aud`");
  // Not configured: not checked.
  EXPECT_TRUE(
      Hs256Verifier().Verify(Bearer(Hs256(WithExp(R"("tenant":"t","aud":["x"])"))), kNow).ok());
}

// ---- the Authorization header --------------------------------------------------------------

TEST(TokenVerifierTest, MalformedAuthorizationHeadersAreInvalid) {
  const TokenVerifier verifier = Hs256Verifier();
  ExpectInvalid(verifier.Verify(std::nullopt, kNow), "no Authorization header");
  const std::string token = Hs256(Claims());
  for (const std::string& header : {std::string(""),
                                    std::string("   "),
                                    std::string("Bearer"),
                                    std::string("Bearer "),
                                    std::string("Bearer    "),
                                    std::string("Basic x"),
                                    std::string("Basic " + token),
                                    std::string("Bearer a.b"),
                                    std::string("Bearer a.b.c"),
                                    std::string("Bearer a..c"),
                                    std::string("Bearer .b.c"),
                                    std::string("Bearer a.b.c.d"),
                                    std::string("!!garbage!!"),
                                    std::string("Bearer !!garbage!!"),
                                    std::string("Bearer\t" + token),
                                    std::string("Bearer" + token),
                                    std::string("Bearer: " + token),
                                    std::string("Bearer " + token + " extra"),
                                    std::string("Bearer " + token + "="),
                                    std::string("Token " + token),
                                    std::string(token)}) {
    SCOPED_TRACE(header.substr(0, 40));
    ExpectInvalid(verifier.Verify(header, kNow));
  }
}

TEST(TokenVerifierTest, SchemeIsCaseInsensitiveAndSpacesAreTolerated) {
  const TokenVerifier verifier = Hs256Verifier();
  const std::string token = Hs256(Claims());
  for (const std::string& header :
       {"bearer " + token, "BEARER " + token, "BeArEr   " + token, "  Bearer " + token + " \t"}) {
    SCOPED_TRACE(header.substr(0, 12));
    EXPECT_TRUE(verifier.Verify(header, kNow).ok());
  }
}

TEST(TokenVerifierTest, OversizedTokenIsInvalid) {
  const TokenVerifier verifier = Hs256Verifier();
  ExpectInvalid(verifier.Verify(Bearer(std::string(kMaxTokenBytes + 1, 'a')), kNow), "too long");
  ExpectInvalid(verifier.Verify(Bearer(std::string(1 << 20, 'a')), kNow), "too long");
  // A correctly signed token that is merely too large is still refused.
  const std::string padding(kMaxTokenBytes, 'x');
  const std::string big = Hs256(WithExp(R"("tenant":"t","pad":")" + padding + "\""));
  ASSERT_GT(big.size(), kMaxTokenBytes);
  ExpectInvalid(verifier.Verify(Bearer(big), kNow), "too long");
}

TEST(TokenVerifierTest, ErrorsNeverContainTheTokenOrKey) {
  const TokenVerifier verifier = Hs256Verifier();
  const std::string good = Hs256(Claims());
  const std::string expired = Hs256(TimedClaims(R"("exp":)" + std::to_string(kNow - 3600)));
  const std::string wrong_key = SignWithLibjwt(JWT_ALG_HS256, kOtherSecret, Claims());
  for (const std::string& token : {good + "x", expired, wrong_key, std::string("a.b.c")}) {
    Result<Principal> result = verifier.Verify(Bearer(token), kNow);
    ASSERT_FALSE(result.ok());
    const std::string everything = result.error().message + result.error().internal;
    EXPECT_EQ(everything.find(token), std::string::npos);
    EXPECT_EQ(everything.find(kSecret), std::string::npos);
    EXPECT_EQ(everything.find(good.substr(0, good.find('.'))), std::string::npos);
  }
}

// ---- concurrency ---------------------------------------------------------------------------

TEST_F(AsymmetricKeys, VerifyIsSafeFromManyThreads) {
  const TokenVerifier hs = Hs256Verifier();
  const TokenVerifier rs = Verifier(Algorithm::kRS256, rsa_->public_pem);
  const std::string hs_good = Bearer(Hs256(Claims()));
  const std::string hs_bad = Bearer(SignWithLibjwt(JWT_ALG_HS256, kOtherSecret, Claims()));
  const std::string rs_good = Bearer(SignWithLibjwt(JWT_ALG_RS256, rsa_->private_pem, Claims()));
  const std::string rs_forged = Bearer(SignWithLibjwt(JWT_ALG_HS256, rsa_->public_pem, Claims()));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (!hs.Verify(hs_good, kNow).ok()) ++wrong;
        if (hs.Verify(hs_bad, kNow).ok()) ++wrong;
        if (!rs.Verify(rs_good, kNow).ok()) ++wrong;
        if (rs.Verify(rs_forged, kNow).ok()) ++wrong;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace ts::auth
