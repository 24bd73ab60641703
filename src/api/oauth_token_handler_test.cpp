#include "api/oauth_token_handler.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <boost/json.hpp>

#include "oauth/client_secret.h"

namespace ts::api {
namespace {

using oauth::OAuthError;
using oauth::OAuthErrorCode;
using oauth::TokenRequest;

constexpr std::string_view kForm = "application/x-www-form-urlencoded";

// "Basic " + base64(text).
std::string Basic(std::string_view text) {
  std::string out(sodium_base64_ENCODED_LEN(text.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(text.data()),
                    text.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return "Basic " + out;
}

const TokenRequest& Parsed(const oauth::OAuthOutcome<TokenRequest>& outcome) {
  static const TokenRequest empty;
  if (const auto* error = std::get_if<OAuthError>(&outcome)) {
    ADD_FAILURE() << "unexpected error: " << error->description;
    return empty;
  }
  return std::get<TokenRequest>(outcome);
}

OAuthErrorCode CodeOf(const oauth::OAuthOutcome<TokenRequest>& outcome) {
  const auto* error = std::get_if<OAuthError>(&outcome);
  EXPECT_NE(error, nullptr);
  return error == nullptr ? OAuthErrorCode::kServerError : error->code;
}

TEST(ParseTokenRequestTest, ReadsTheFormBody) {
  auto outcome = ParseTokenRequest(
      kForm, std::nullopt,
      "grant_type=client_credentials&client_id=acme-1&client_secret=a%2Bb+c%26d&scope=ai.agent_read"
      "+ai.agent_manage&extension=ignored");
  const TokenRequest& r = Parsed(outcome);
  EXPECT_EQ(r.grant_type, "client_credentials");
  EXPECT_EQ(r.client_id, "acme-1");
  EXPECT_EQ(r.client_secret, "a+b c&d");
  ASSERT_TRUE(r.scope.has_value());
  EXPECT_EQ(*r.scope, "ai.agent_read ai.agent_manage");
  EXPECT_FALSE(r.basic_auth);
}

TEST(ParseTokenRequestTest, AcceptsAContentTypeWithParameters) {
  auto outcome = ParseTokenRequest("Application/X-WWW-Form-Urlencoded ; charset=UTF-8",
                                   std::nullopt, "grant_type=client_credentials");
  EXPECT_EQ(Parsed(outcome).grant_type, "client_credentials");
  EXPECT_FALSE(Parsed(outcome).scope.has_value());
}

TEST(ParseTokenRequestTest, RefusesOtherContentTypes) {
  for (std::optional<std::string_view> type :
       {std::optional<std::string_view>{}, std::optional<std::string_view>{"application/json"},
        std::optional<std::string_view>{"application/x-www-form-urlencodedx"},
        std::optional<std::string_view>{"multipart/form-data"}}) {
    EXPECT_EQ(CodeOf(ParseTokenRequest(type, std::nullopt, "grant_type=client_credentials")),
              OAuthErrorCode::kInvalidRequest);
  }
}

TEST(ParseTokenRequestTest, RefusesMalformedBodiesAndRepeatedParameters) {
  EXPECT_EQ(CodeOf(ParseTokenRequest(kForm, std::nullopt, "grant_type=%zz")),
            OAuthErrorCode::kInvalidRequest);
  EXPECT_EQ(CodeOf(ParseTokenRequest(kForm, std::nullopt,
                                     "grant_type=client_credentials&client_id=a&client_id=b")),
            OAuthErrorCode::kInvalidRequest);
  EXPECT_EQ(CodeOf(ParseTokenRequest(kForm, std::nullopt, "scope=a&scope=a")),
            OAuthErrorCode::kInvalidRequest);
}

TEST(ParseTokenRequestTest, ReadsBasicCredentialsFormDecoded) {
  auto outcome =
      ParseTokenRequest(kForm, Basic("acme-1:p%3Ass+w%25rd"), "grant_type=client_credentials");
  const TokenRequest& r = Parsed(outcome);
  EXPECT_EQ(r.client_id, "acme-1");
  EXPECT_EQ(r.client_secret, "p:ss w%rd");
  EXPECT_TRUE(r.basic_auth);

  // The scheme is case-insensitive; a secret may hold ':' after the first one.
  std::string lower = Basic("acme-1:a:b");
  lower.replace(0, 5, "basic");
  EXPECT_EQ(Parsed(ParseTokenRequest(kForm, lower, "grant_type=client_credentials")).client_secret,
            "a:b");
  // The same client_id in the body is allowed.
  EXPECT_TRUE(std::holds_alternative<TokenRequest>(ParseTokenRequest(
      kForm, Basic("acme-1:x"), "grant_type=client_credentials&client_id=acme-1")));
}

TEST(ParseTokenRequestTest, RefusesBadOrDoubleCredentials) {
  const std::string body = "grant_type=client_credentials";
  EXPECT_EQ(CodeOf(ParseTokenRequest(kForm, "Basic !!!notbase64", body)),
            OAuthErrorCode::kInvalidRequest);
  EXPECT_EQ(CodeOf(ParseTokenRequest(kForm, Basic("no-colon"), body)),
            OAuthErrorCode::kInvalidRequest);
  EXPECT_EQ(CodeOf(ParseTokenRequest(kForm, Basic("a:%zz"), body)),
            OAuthErrorCode::kInvalidRequest);
  EXPECT_EQ(CodeOf(ParseTokenRequest(kForm, Basic("a:b"), body + "&client_secret=b")),
            OAuthErrorCode::kInvalidRequest);
  EXPECT_EQ(CodeOf(ParseTokenRequest(kForm, Basic("a:b"), body + "&client_id=other")),
            OAuthErrorCode::kInvalidRequest);
  EXPECT_EQ(CodeOf(ParseTokenRequest(kForm, "Bearer abc.def.ghi", body)),
            OAuthErrorCode::kInvalidClient);
}

// --- the handler: statuses, headers and bodies ------------------------------------------

class OAuthTokenHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    oauth::OAuthClient client;
    client.client_id = "acme-1";
    client.secret_hash = oauth::HashClientSecret("right", {1, 8192}).value();
    client.tenant = "acme";
    client.scopes = {"ai.agent_read", "ai.agent_manage"};
    oauth::IssuerOptions options;
    options.signing_secret = std::string(32, 'k');
    auto issuer = oauth::ClientCredentialsIssuer::Create({client}, options, clock_);
    ASSERT_TRUE(issuer.ok());
    issuer_ = std::move(issuer).value();
    handler_.emplace(*issuer_);
  }
  http::HttpResponse Post(std::string body, std::optional<std::string> authorization = {}) {
    http::HttpRequest request;
    request.method = "POST";
    request.target = "/oauth/token";
    request.headers.emplace_back("Content-Type", std::string(kForm));
    if (authorization) request.headers.emplace_back("Authorization", *authorization);
    request.body = std::move(body);
    return handler_->Handle(request);
  }
  static std::optional<std::string> HeaderOf(const http::HttpResponse& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return std::nullopt;
  }

  FakeClock clock_{1'700'000'000'000};
  std::unique_ptr<oauth::ClientCredentialsIssuer> issuer_;
  std::optional<OAuthTokenHandler> handler_;
};

TEST_F(OAuthTokenHandlerTest, AnswersTheRfc6749Success) {
  http::HttpResponse r = Post("grant_type=client_credentials&client_id=acme-1&client_secret=right");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(HeaderOf(r, "Pragma"), "no-cache");
  EXPECT_EQ(HeaderOf(r, "Content-Type"), "application/json;charset=UTF-8");
  auto body = boost::json::parse(r.body).as_object();
  EXPECT_TRUE(body.at("access_token").is_string());
  EXPECT_EQ(body.at("token_type"), "Bearer");
  EXPECT_EQ(body.at("expires_in"), 3600);
  EXPECT_EQ(body.at("scope"), "ai.agent_read ai.agent_manage");
  EXPECT_EQ(r.body.find("right"), std::string::npos);
}

TEST_F(OAuthTokenHandlerTest, ErrorsFollowRfc6749Section5_2) {
  struct Case {
    std::string body;
    std::optional<std::string> authorization;
    int status;
    std::string error;
    bool www_authenticate;
  };
  for (const Case& c : std::vector<Case>{
           {"grant_type=password&client_id=acme-1&client_secret=right",
            {},
            400,
            "unsupported_grant_type",
            false},
           {"client_id=acme-1&client_secret=right", {}, 400, "invalid_request", false},
           {"grant_type=client_credentials&client_id=acme-1&client_secret=wrong",
            {},
            401,
            "invalid_client",
            false},
           {"grant_type=client_credentials", Basic("acme-1:wrong"), 401, "invalid_client", true},
           {"grant_type=client_credentials", "Bearer x.y.z", 401, "invalid_client", true},
           {"grant_type=client_credentials&scope=openid", Basic("acme-1:right"), 400,
            "invalid_scope", false},
       }) {
    SCOPED_TRACE(c.body);
    http::HttpResponse r = Post(c.body, c.authorization);
    EXPECT_EQ(r.status, c.status);
    auto body = boost::json::parse(r.body).as_object();
    EXPECT_EQ(body.at("error"), c.error.c_str());
    EXPECT_TRUE(body.at("error_description").is_string());
    EXPECT_EQ(HeaderOf(r, "WWW-Authenticate").has_value(), c.www_authenticate);
    EXPECT_EQ(HeaderOf(r, "Pragma"), "no-cache");
    EXPECT_EQ(r.body.find("wrong"), std::string::npos);
  }
}

TEST_F(OAuthTokenHandlerTest, LockOutIs429WithRetryAfter) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Post("grant_type=client_credentials", Basic("acme-1:wrong")).status, 401);
  }
  http::HttpResponse r = Post("grant_type=client_credentials", Basic("acme-1:right"));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(HeaderOf(r, "Retry-After"), "30");
  EXPECT_EQ(boost::json::parse(r.body).at("error"), "temporarily_unavailable");
}

}  // namespace
}  // namespace ts::api
