#include "oauth/client_credentials.h"

#include <gtest/gtest.h>

#include "auth/token_verifier.h"
#include "oauth/client_secret.h"

namespace ts::oauth {
namespace {

constexpr std::int64_t kNowMs = 1'700'000'000'000;
const std::string kSigningSecret(32, 'k');

OAuthClient Client(const std::string& id, const std::string& secret) {
  OAuthClient c;
  c.client_id = id;
  c.secret_hash = HashClientSecret(secret, Argon2idCost{1, 8192}).value();
  c.tenant = "acme";
  c.scopes = {"ai.agent_read", "ai.agent_manage"};
  c.token_ttl_seconds = 600;
  return c;
}

TokenRequest Request(const std::string& id, const std::string& secret,
                     std::optional<std::string> scope = std::nullopt) {
  TokenRequest r;
  r.grant_type = "client_credentials";
  r.client_id = id;
  r.client_secret = secret;
  r.scope = std::move(scope);
  return r;
}

OAuthErrorCode CodeOf(const OAuthOutcome<IssuedToken>& outcome) {
  const auto* error = std::get_if<OAuthError>(&outcome);
  return error == nullptr ? OAuthErrorCode::kServerError : error->code;
}

class ClientCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override { Make({}); }
  void Make(IssuerOptions options) {
    options.signing_secret = kSigningSecret;
    options.attempts.failures_before_lockout = 3;
    options.attempts.first_lockout = std::chrono::seconds(30);
    auto created = ClientCredentialsIssuer::Create({Client("agent", "right")}, options, clock_);
    ASSERT_TRUE(created.ok()) << created.error().message;
    issuer_ = std::move(created).value();
  }
  auth::Principal Verify(const IssuedToken& token, std::optional<std::string> issuer = {},
                         std::optional<std::string> audience = {}) {
    auth::VerifierOptions options;
    options.key = kSigningSecret;
    options.issuer = std::move(issuer);
    options.audience = std::move(audience);
    auto verifier = auth::TokenVerifier::Create(options);
    EXPECT_TRUE(verifier.ok());
    auto principal = verifier->Verify("Bearer " + token.access_token, clock_.NowSeconds());
    EXPECT_TRUE(principal.ok()) << principal.error().internal;
    return principal.ok() ? *principal : auth::Principal{};
  }

  FakeClock clock_{kNowMs};
  std::unique_ptr<ClientCredentialsIssuer> issuer_;
};

TEST_F(ClientCredentialsTest, IssuesATokenTheServiceVerifierAccepts) {
  auto outcome = issuer_->Issue(Request("agent", "right"));
  ASSERT_TRUE(std::holds_alternative<IssuedToken>(outcome));
  const IssuedToken& token = std::get<IssuedToken>(outcome);
  EXPECT_EQ(token.expires_in, 600);
  EXPECT_EQ(token.scope, "ai.agent_read ai.agent_manage");
  auth::Principal principal = Verify(token);
  EXPECT_EQ(principal.tenant, "acme");
  EXPECT_EQ(principal.subject, "agent");
  EXPECT_TRUE(principal.HasScope("ai.agent_read"));
  EXPECT_TRUE(principal.HasScope("ai.agent_manage"));
}

TEST_F(ClientCredentialsTest, TokensExpireAfterTheClientsTtl) {
  auto outcome = issuer_->Issue(Request("agent", "right"));
  ASSERT_TRUE(std::holds_alternative<IssuedToken>(outcome));
  auth::VerifierOptions options;
  options.key = kSigningSecret;
  options.clock_skew = std::chrono::seconds(0);
  auto verifier = auth::TokenVerifier::Create(options);
  ASSERT_TRUE(verifier.ok());
  const std::string bearer = "Bearer " + std::get<IssuedToken>(outcome).access_token;
  EXPECT_TRUE(verifier->Verify(bearer, clock_.NowSeconds() + 599).ok());
  auto late = verifier->Verify(bearer, clock_.NowSeconds() + 601);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kTokenExpired);
}

TEST_F(ClientCredentialsTest, CarriesIssuerAndAudienceWhenConfigured) {
  IssuerOptions options;
  options.issuer = "https://tokens.example";
  options.audience = "ai-service";
  Make(options);
  auto outcome = issuer_->Issue(Request("agent", "right"));
  ASSERT_TRUE(std::holds_alternative<IssuedToken>(outcome));
  EXPECT_EQ(Verify(std::get<IssuedToken>(outcome), "https://tokens.example", "ai-service").tenant,
            "acme");
}

TEST_F(ClientCredentialsTest, ScopeNarrowsToASubset) {
  auto outcome = issuer_->Issue(Request("agent", "right", "ai.agent_read"));
  ASSERT_TRUE(std::holds_alternative<IssuedToken>(outcome));
  EXPECT_EQ(std::get<IssuedToken>(outcome).scope, "ai.agent_read");
  auth::Principal principal = Verify(std::get<IssuedToken>(outcome));
  EXPECT_TRUE(principal.HasScope("ai.agent_read"));
  EXPECT_FALSE(principal.HasScope("ai.agent_manage"));

  EXPECT_EQ(CodeOf(issuer_->Issue(Request("agent", "right", "ai.agent_read openid"))),
            OAuthErrorCode::kInvalidScope);
  EXPECT_EQ(CodeOf(issuer_->Issue(Request("agent", "right", ""))), OAuthErrorCode::kInvalidScope);
}

TEST_F(ClientCredentialsTest, UnknownClientAndWrongSecretGetTheSameAnswer) {
  auto wrong = issuer_->Issue(Request("agent", "wrong"));
  auto unknown = issuer_->Issue(Request("nobody", "right"));
  ASSERT_TRUE(std::holds_alternative<OAuthError>(wrong));
  ASSERT_TRUE(std::holds_alternative<OAuthError>(unknown));
  EXPECT_EQ(std::get<OAuthError>(wrong).code, OAuthErrorCode::kInvalidClient);
  EXPECT_EQ(std::get<OAuthError>(unknown).code, OAuthErrorCode::kInvalidClient);
  EXPECT_EQ(std::get<OAuthError>(wrong).description, std::get<OAuthError>(unknown).description);
  EXPECT_EQ(CodeOf(issuer_->Issue(Request("agent", ""))), OAuthErrorCode::kInvalidClient);
  EXPECT_EQ(CodeOf(issuer_->Issue(Request("", "right"))), OAuthErrorCode::kInvalidClient);
}

TEST_F(ClientCredentialsTest, GrantTypeIsChecked) {
  TokenRequest request = Request("agent", "right");
  request.grant_type = "password";
  EXPECT_EQ(CodeOf(issuer_->Issue(request)), OAuthErrorCode::kUnsupportedGrantType);
  request.grant_type = "";
  EXPECT_EQ(CodeOf(issuer_->Issue(request)), OAuthErrorCode::kInvalidRequest);
}

TEST_F(ClientCredentialsTest, RepeatedFailuresLockTheClientOutEvenWithTheRightSecret) {
  for (const std::string& id : {std::string("agent"), std::string("nobody")}) {
    SCOPED_TRACE(id);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(CodeOf(issuer_->Issue(Request(id, "wrong"))), OAuthErrorCode::kInvalidClient);
    }
    auto locked = issuer_->Issue(Request(id, "right"));
    ASSERT_EQ(CodeOf(locked), OAuthErrorCode::kTooManyAttempts);
    EXPECT_EQ(std::get<OAuthError>(locked).retry_after_seconds, 30);
  }
  clock_.Advance(30'000);
  EXPECT_TRUE(std::holds_alternative<IssuedToken>(issuer_->Issue(Request("agent", "right"))));
}

TEST_F(ClientCredentialsTest, ReplacedClientsTakeEffectAndLockOutsCarryOver) {
  for (int i = 0; i < 3; ++i) issuer_->Issue(Request("agent", "wrong"));
  ASSERT_EQ(CodeOf(issuer_->Issue(Request("agent", "right"))), OAuthErrorCode::kTooManyAttempts);

  // A new client is added, "agent" gets a new secret: the lock-out stays; "agent" with the old
  // secret and an id no longer configured are refused like unknown ones.
  ASSERT_TRUE(issuer_->ReplaceClients({Client("agent", "renewed"), Client("added", "s")}).ok());
  EXPECT_EQ(issuer_->client_count(), 2u);
  EXPECT_EQ(CodeOf(issuer_->Issue(Request("agent", "renewed"))), OAuthErrorCode::kTooManyAttempts);
  EXPECT_TRUE(std::holds_alternative<IssuedToken>(issuer_->Issue(Request("added", "s"))));
  clock_.Advance(30'000);
  EXPECT_TRUE(std::holds_alternative<IssuedToken>(issuer_->Issue(Request("agent", "renewed"))));
  EXPECT_EQ(CodeOf(issuer_->Issue(Request("agent", "right"))), OAuthErrorCode::kInvalidClient);

  ASSERT_TRUE(issuer_->ReplaceClients({Client("added", "s")}).ok());
  EXPECT_EQ(CodeOf(issuer_->Issue(Request("agent", "renewed"))), OAuthErrorCode::kInvalidClient);

  // An empty list is refused and the clients in use stay.
  EXPECT_FALSE(issuer_->ReplaceClients({}).ok());
  EXPECT_EQ(issuer_->client_count(), 1u);
  EXPECT_TRUE(std::holds_alternative<IssuedToken>(issuer_->Issue(Request("added", "s"))));
}

TEST(ConcurrencyLimitTest, RefusesBeyondTheLimitUntilAPlaceIsReleased) {
  ConcurrencyLimit limit(2);
  auto a = limit.TryAcquire();
  auto b = limit.TryAcquire();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(limit.TryAcquire());
  a.reset();
  auto c = limit.TryAcquire();
  EXPECT_TRUE(c);
  EXPECT_FALSE(limit.TryAcquire());
}

TEST(ClientCredentialsCreateTest, RefusesBadOptions) {
  FakeClock clock(kNowMs);
  IssuerOptions options;
  options.signing_secret = "short";
  EXPECT_FALSE(ClientCredentialsIssuer::Create({Client("a", "s")}, options, clock).ok());
  options.signing_secret = kSigningSecret;
  EXPECT_FALSE(ClientCredentialsIssuer::Create({}, options, clock).ok());
  options.max_concurrent_verifications = 0;
  EXPECT_FALSE(ClientCredentialsIssuer::Create({Client("a", "s")}, options, clock).ok());
}

}  // namespace
}  // namespace ts::oauth
