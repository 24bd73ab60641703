// Contract section "Tenant, authentication, authorization" and the scope column of
// "Endpoints".
#include "blackbox/contract_fixture.h"

namespace bb {
namespace {
namespace json = boost::json;

BB_CONTRACT_SUITE(ScopeTest);
BB_CONTRACT_SUITE(TenantIsolationTest);
BB_CONTRACT_SUITE(TenantPathTest);
BB_CONTRACT_SUITE(AuthenticationTest);

const char* kRename = R"([{"op":"REPLACE","path":"/name","value":"renamed"}])";

// --- scopes -----------------------------------------------------------------------------

TEST_P(ScopeTest, ReadEndpointsNeedAgentRead) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "scoped", "n", value));
  for (const std::string& auth : {t.manage, BearerFor(t.name, "ai.agent_readx ai.text_manage"),
                                  BearerFor(t.name, ""), BearerFor(t.name, "AI.AGENT_READ")}) {
    SCOPED_TRACE(auth);
    ExpectForbidden(Call("GET", t.base, auth));
    ExpectForbidden(Call("POST", t.base + "/search", auth, std::string("{}")));
    ExpectForbidden(Call("GET", t.Item("scoped"), auth));
    ExpectForbidden(Call("GET", t.Item("absent"), auth));
  }
}

TEST_P(ScopeTest, AgentReadAmongOtherScopesIsEnough) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "scoped", "n", value));
  const std::string auth = BearerFor(t.name, "openid ai.agent_read profile");
  EXPECT_EQ(Call("GET", t.base, auth).status, 200);
  EXPECT_EQ(Call("POST", t.base + "/search", auth, std::string("{}")).status, 200);
  EXPECT_EQ(Call("GET", t.Item("scoped"), auth).status, 200);
  EXPECT_EQ(Call("GET", t.Item("scoped"), t.read).status, 200);
}

TEST_P(ScopeTest, WriteEndpointsNeedAgentManage) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "existing", "n", value));
  for (const std::string& auth : {t.read, BearerFor(t.name, "ai.agent_managex openid")}) {
    SCOPED_TRACE(auth);
    ExpectForbidden(Call("PUT", t.Item("new-one"), auth, TokenBody("n", value)));
    ExpectForbidden(Call("PUT", t.Item("existing"), auth, R"({"name":"changed"})"));
    ExpectForbidden(Call("PATCH", t.Item("existing"), auth, kRename));
    ExpectForbidden(Call("DELETE", t.Item("existing"), auth));
    ExpectForbidden(Call("DELETE", t.Item("new-one"), auth));
  }
  ExpectNotFound(Call("GET", t.Item("new-one"), t.rw), "new-one");
  json::value token = Read(t, "existing");
  EXPECT_EQ(Str(At(token, "name")), "n");
  EXPECT_EQ(Int(At(token, "metadata.version")), 1);

  // Manage alone is enough for writes.
  EXPECT_EQ(Call("PUT", t.Item("by-manager"), t.manage, TokenBody("m", value)).status, 201);
  EXPECT_EQ(Call("PATCH", t.Item("by-manager"), t.manage, kRename).status, 204);
  EXPECT_EQ(Call("DELETE", t.Item("by-manager"), t.manage).status, 204);
}

TEST_P(ScopeTest, ForbiddenBodyShape) {
  Tenant t = NewTenant();
  HttpResponse r = Call("GET", t.base, t.manage);
  ExpectForbidden(r);
  json::value body = ParseBody(r);
  EXPECT_EQ(Int(At(body, "code")), 403);
  EXPECT_EQ(Str(At(body, "status")), "Forbidden");
  EXPECT_TRUE(At(body, "message").is_string());
}

TEST_P(ScopeTest, TenantClaimMustEqualPathTenant) {
  Tenant a = NewTenant();
  Tenant b = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(b, "b-token", "b", value));
  // A's tokens (all scopes) on B's paths.
  ExpectForbidden(Call("GET", b.base, a.rw));
  ExpectForbidden(Call("POST", b.base + "/search", a.rw, std::string("{}")));
  ExpectForbidden(Call("GET", b.Item("b-token"), a.rw));
  ExpectForbidden(Call("GET", b.Item("absent"), a.rw));
  ExpectForbidden(Call("PUT", b.Item("b-token"), a.rw, R"({"name":"hijacked"})"));
  ExpectForbidden(Call("PUT", b.Item("planted"), a.rw, TokenBody("planted", value)));
  ExpectForbidden(Call("PATCH", b.Item("b-token"), a.rw, kRename));
  ExpectForbidden(Call("DELETE", b.Item("b-token"), a.rw));
  json::value token = Read(b, "b-token");
  EXPECT_EQ(Str(At(token, "name")), "b");
  EXPECT_EQ(Int(At(token, "metadata.version")), 1);
  ExpectNotFound(Call("GET", b.Item("planted"), b.rw), "planted");
  // A prefix of the tenant is not the tenant.
  ExpectForbidden(Call("GET", b.base, BearerFor(b.name + "x", kBothScopes)));
  ExpectForbidden(Call("GET", b.base, BearerFor(b.name.substr(0, b.name.size() - 1))));
}

// --- tenant isolation -------------------------------------------------------------------

TEST_P(TenantIsolationTest, ATenantNeverSeesAnotherTenantsTokens) {
  Tenant a = NewTenant();
  Tenant b = NewTenant();
  const std::string value_a = NewValue();
  const std::string value_b = NewValue();
  ASSERT_TRUE(Create(a, "shared", "a shared", value_a));
  ASSERT_TRUE(Create(a, "a-only", "a only", value_a));
  // Ids are per tenant: B creating "shared" is a create, not an update of A's.
  ASSERT_TRUE(Create(b, "shared", "b shared", value_b));
  ASSERT_TRUE(Create(b, "b-only", "b only", value_b));

  // Read.
  ExpectNotFound(Call("GET", b.Item("a-only"), b.rw), "a-only");
  EXPECT_EQ(Str(Read(b, "shared")["name"]), "b shared");
  EXPECT_EQ(Str(Read(a, "shared")["name"]), "a shared");
  // List and count.
  EXPECT_EQ(Ids(List(b)), (std::vector<std::string>{"b-only", "shared"}));
  HttpResponse counted = Call("GET", b.base, b.rw, std::nullopt, {{"X-Total-Count", "true"}});
  EXPECT_EQ(counted.Header("X-Total-Count").value_or("<absent>"), "2");
  HttpResponse searched =
      Call("POST", b.base + "/search", b.rw, std::string(R"J({"q":"id:(a-only,shared)"})J"),
           {{"X-Total-Count", "true"}});
  EXPECT_EQ(searched.Header("X-Total-Count").value_or("<absent>"), "1");
  json::value found = ParseBody(searched);
  ASSERT_TRUE(found.is_array());
  EXPECT_EQ(Ids(found.as_array()), (std::vector<std::string>{"shared"}));
  EXPECT_EQ(Str(At(found.as_array()[0], "name")), "b shared");
  EXPECT_EQ(List(b, "q=" + UrlEncode("name:~only")).size(), 1u);

  // Change: A's token looks exactly like an absent one to B.
  ExpectNotFound(Call("PATCH", b.Item("a-only"), b.rw, kRename), "a-only");
  ExpectNotFound(Call("PUT", b.Item("a-only"), b.rw, R"({"name":"x","metadata":{"version":1}})"),
                 "a-only");
  ExpectPreconditionFailed(
      Call("PUT", b.Item("a-only"), b.rw, R"({"name":"x"})", {{"If-Match", "\"1\""}}));
  EXPECT_EQ(Call("DELETE", b.Item("a-only"), b.rw).status, 204);
  json::value untouched = Read(a, "a-only");
  EXPECT_EQ(Str(At(untouched, "name")), "a only");
  EXPECT_EQ(Int(At(untouched, "metadata.version")), 1);
  // B updating its own "shared" leaves A's alone.
  EXPECT_EQ(Call("PUT", b.Item("shared"), b.rw, R"({"name":"b renamed"})").status, 204);
  json::value a_shared = Read(a, "shared");
  EXPECT_EQ(Str(At(a_shared, "name")), "a shared");
  EXPECT_EQ(Int(At(a_shared, "metadata.version")), 1);
  // B may create its own "a-only"; it is a different token.
  EXPECT_EQ(Call("PUT", b.Item("a-only"), b.rw, TokenBody("b's own", value_b)).status, 201);
  EXPECT_EQ(Str(Read(a, "a-only")["name"]), "a only");
  EXPECT_EQ(Ids(List(a)), (std::vector<std::string>{"a-only", "shared"}));
}

// --- tenant path segment ----------------------------------------------------------------

TEST_P(TenantPathTest, UppercaseTenantIs400SayingTenantsAreLowercase) {
  const std::string upper = "Acme" + RandomHex(3);
  const std::string auth = BearerFor(upper, kBothScopes);
  const std::string base = "/ai-service/" + upper + "/agentic/tokens";
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", base}, {"GET", base + "/x"}, {"DELETE", base + "/x"}}) {
    SCOPED_TRACE(method + " " + target);
    HttpResponse r = Call(method, target, auth);
    ExpectBadRequest(r);
    EXPECT_NE(Lower(r.body).find("lowercase"), std::string::npos) << r.body;
  }
  HttpResponse put = Call("PUT", base + "/x", auth, TokenBody("n", NewValue()));
  ExpectBadRequest(put);
  EXPECT_NE(Lower(put.body).find("lowercase"), std::string::npos) << put.body;
}

TEST_P(TenantPathTest, TenantCharactersAreLowercaseLettersDigitsUnderscoreHyphen) {
  const std::string good = "a-b_c-9" + RandomHex(3);
  const std::string auth = BearerFor(good, kBothScopes);
  const std::string base = "/ai-service/" + good + "/agentic/tokens";
  EXPECT_EQ(Call("PUT", base + "/x", auth, TokenBody("n", NewValue())).status, 201);
  EXPECT_EQ(Call("GET", base, auth).status, 200);

  for (const std::string raw : {"acme.corp", "acme%20corp", "acme@x", "%C3%BCber", "acme~1",
                                "acme%2Fx", "acme+1", "acme%41"}) {
    SCOPED_TRACE(raw);
    ExpectBadRequest(
        Call("GET", "/ai-service/" + raw + "/agentic/tokens", BearerFor(raw, kBothScopes)));
    ExpectBadRequest(Call("GET", "/ai-service/" + raw + "/agentic/tokens/x", auth));
  }
}

TEST_P(TenantPathTest, TenantIsOneTo64Characters) {
  const std::string t64 = "t" + RandomHex(4) + Repeat("z", 55);
  ASSERT_EQ(t64.size(), 64u);
  EXPECT_EQ(Call("GET", "/ai-service/" + t64 + "/agentic/tokens", BearerFor(t64)).status, 200);
  EXPECT_EQ(Call("PUT", "/ai-service/" + t64 + "/agentic/tokens/x", BearerFor(t64),
                 TokenBody("n", NewValue()))
                .status,
            201);
  const std::string t65 = t64 + "z";
  ExpectBadRequest(Call("GET", "/ai-service/" + t65 + "/agentic/tokens", BearerFor(t65)));
  ExpectBadRequest(Call("PUT", "/ai-service/" + t65 + "/agentic/tokens/x", BearerFor(t65),
                        TokenBody("n", NewValue())));
  const std::string t1 = "q";
  EXPECT_EQ(Call("GET", "/ai-service/" + t1 + "/agentic/tokens", BearerFor(t1)).status, 200);
}

// --- authentication ---------------------------------------------------------------------

TEST_P(AuthenticationTest, MissingAuthorizationIs401OnEveryEndpoint) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "present", "n", value));
  ExpectUnauthorized(Call("GET", t.base, std::nullopt));
  ExpectUnauthorized(Call("POST", t.base + "/search", std::nullopt, std::string("{}")));
  ExpectUnauthorized(Call("GET", t.Item("present"), std::nullopt));
  ExpectUnauthorized(Call("PUT", t.Item("present"), std::nullopt, R"({"name":"x"})"));
  ExpectUnauthorized(Call("PATCH", t.Item("present"), std::nullopt, kRename));
  ExpectUnauthorized(Call("DELETE", t.Item("present"), std::nullopt));
  json::value token = Read(t, "present");
  EXPECT_EQ(Str(At(token, "name")), "n");
  EXPECT_EQ(Int(At(token, "metadata.version")), 1);
}

TEST_P(AuthenticationTest, MalformedAuthorizationIs401) {
  Tenant t = NewTenant();
  const std::string valid = MintToken(server().jwt_secret(), t.name, kBothScopes);
  for (const std::string& header :
       {std::string(""), std::string("Bearer"), std::string("Bearer "), std::string("Bearer abc"),
        std::string("Bearer a.b.c"), std::string("Bearer ..."), std::string("Basic dXNlcjpwYXNz"),
        "Token " + valid, valid, "Bearer " + valid + "x", "Bearer " + valid + ".extra",
        "Bearer " + valid.substr(0, valid.rfind('.')), "Bearer " + valid + " junk"}) {
    SCOPED_TRACE(header);
    ExpectUnauthorized(Call("GET", t.base, header));
  }
  // Control: the same token, well-formed, works.
  EXPECT_EQ(Call("GET", t.base, "Bearer " + valid).status, 200);
}

TEST_P(AuthenticationTest, BadSignatureIs401) {
  Tenant t = NewTenant();
  const std::string forged = MintToken(server().jwt_secret() + "-not", t.name, kBothScopes);
  ExpectUnauthorized(Call("GET", t.base, "Bearer " + forged));
  ExpectUnauthorized(Call("PUT", t.Item("x"), "Bearer " + forged, TokenBody("n", NewValue())));
}

TEST_P(AuthenticationTest, CraftedTokensAreVerifiedLikeMintedOnes) {
  // Control for the crafted-token tests below: a hand-made HS256 token with valid claims works.
  Tenant t = NewTenant();
  const std::int64_t now = NowSeconds();
  const std::string claims = Serialize(json::object{{"tenant", t.name},
                                                    {"scope", kBothScopes},
                                                    {"sub", "crafted"},
                                                    {"iat", now},
                                                    {"nbf", now - 10},
                                                    {"exp", now + 3600}});
  const std::string token =
      CraftToken(server().jwt_secret(), R"({"alg":"HS256","typ":"JWT"})", claims);
  EXPECT_EQ(Call("GET", t.base, "Bearer " + token).status, 200);
}

TEST_P(AuthenticationTest, AlgNoneAndTamperedClaimsAre401) {
  Tenant t = NewTenant();
  Tenant other = NewTenant();
  const std::int64_t now = NowSeconds();
  auto claims_for = [&](const std::string& tenant) {
    return Serialize(json::object{{"tenant", tenant},
                                  {"scope", kBothScopes},
                                  {"sub", "x"},
                                  {"iat", now},
                                  {"exp", now + 600}});
  };
  const std::string none =
      CraftToken("", R"({"alg":"none","typ":"JWT"})", claims_for(t.name), std::string());
  ExpectUnauthorized(Call("GET", t.base, "Bearer " + none));
  const std::string none_upper =
      CraftToken("", R"({"alg":"None","typ":"JWT"})", claims_for(t.name), std::string());
  ExpectUnauthorized(Call("GET", t.base, "Bearer " + none_upper));

  // Signature of a token for `other`, claims swapped to `t`.
  const std::string genuine =
      CraftToken(server().jwt_secret(), R"({"alg":"HS256","typ":"JWT"})", claims_for(other.name));
  const std::string signature = genuine.substr(genuine.rfind('.') + 1);
  const std::string tampered =
      CraftToken("", R"({"alg":"HS256","typ":"JWT"})", claims_for(t.name), signature);
  ExpectUnauthorized(Call("GET", t.base, "Bearer " + tampered));
}

TEST_P(AuthenticationTest, AlgorithmIsPinnedToHs256) {
  Tenant t = NewTenant();
  const std::int64_t now = NowSeconds();
  const std::string claims = Serialize(json::object{
      {"tenant", t.name}, {"scope", kBothScopes}, {"sub", "x"}, {"iat", now}, {"exp", now + 600}});
  // Correctly signed with the shared secret, but with another HMAC than the configured one.
  for (const auto& [alg, digest] :
       std::vector<std::pair<std::string, std::string>>{{"HS384", "SHA384"}, {"HS512", "SHA512"}}) {
    SCOPED_TRACE(alg);
    const std::string token =
        CraftToken(server().jwt_secret(), R"({"alg":")" + alg + R"(","typ":"JWT"})", claims,
                   std::nullopt, digest);
    ExpectUnauthorized(Call("GET", t.base, "Bearer " + token));
  }
  // An HS256 signature under a header that claims another algorithm.
  const std::string mislabeled =
      CraftToken(server().jwt_secret(), R"({"alg":"HS256","typ":"JWT"})", claims);
  const std::string relabeled = CraftToken("", R"({"alg":"HS512","typ":"JWT"})", claims,
                                           mislabeled.substr(mislabeled.rfind('.') + 1));
  ExpectUnauthorized(Call("GET", t.base, "Bearer " + relabeled));
}

TEST_P(AuthenticationTest, ExpiredTokenIs401AccessTokenExpired) {
  Tenant t = NewTenant();
  // Issued two hours ago, valid for one: expired an hour ago.
  const std::string expired = BearerFor(t.name, kBothScopes, 3600, -7200);
  ExpectUnauthorized(Call("GET", t.base, expired), /*expired=*/true);
  ExpectUnauthorized(Call("PUT", t.Item("x"), expired, TokenBody("n", NewValue())), true);
  // Just beyond the default 60 s of skew.
  const std::string just_expired = BearerFor(t.name, kBothScopes, 3600, -3600 - 120);
  ExpectUnauthorized(Call("GET", t.base, just_expired), true);
}

TEST_P(AuthenticationTest, ExpiryWithinClockSkewIsAccepted) {
  Tenant t = NewTenant();
  // Expired 10 s ago: within the default 60 s of skew.
  const std::string recent = BearerFor(t.name, kBothScopes, 3600, -3600 - 10);
  EXPECT_EQ(Call("GET", t.base, recent).status, 200);
  EXPECT_EQ(Call("PUT", t.Item("skew"), recent, TokenBody("n", NewValue())).status, 201);
}

TEST_P(AuthenticationTest, NotYetValidTokenIs401InvalidNotExpired) {
  Tenant t = NewTenant();
  const std::int64_t now = NowSeconds();
  const std::string claims = Serialize(json::object{{"tenant", t.name},
                                                    {"scope", kBothScopes},
                                                    {"sub", "future"},
                                                    {"iat", now},
                                                    {"nbf", now + 3600},
                                                    {"exp", now + 7200}});
  const std::string future =
      CraftToken(server().jwt_secret(), R"({"alg":"HS256","typ":"JWT"})", claims);
  ExpectUnauthorized(Call("GET", t.base, "Bearer " + future), /*expired=*/false);
}

TEST_P(AuthenticationTest, NotBeforeWithinClockSkewIsAccepted) {
  Tenant t = NewTenant();
  const std::int64_t now = NowSeconds();
  const std::string claims = Serialize(json::object{{"tenant", t.name},
                                                    {"scope", kBothScopes},
                                                    {"sub", "soon"},
                                                    {"iat", now},
                                                    {"nbf", now + 10},
                                                    {"exp", now + 3600}});
  const std::string soon =
      CraftToken(server().jwt_secret(), R"({"alg":"HS256","typ":"JWT"})", claims);
  EXPECT_EQ(Call("GET", t.base, "Bearer " + soon).status, 200);
}

TEST_P(AuthenticationTest, TokenWithoutExpIs401) {
  Tenant t = NewTenant();
  const std::string claims = Serialize(json::object{
      {"tenant", t.name}, {"scope", kBothScopes}, {"sub", "forever"}, {"iat", NowSeconds()}});
  const std::string forever =
      CraftToken(server().jwt_secret(), R"({"alg":"HS256","typ":"JWT"})", claims);
  ExpectUnauthorized(Call("GET", t.base, "Bearer " + forever));
}

TEST_P(AuthenticationTest, TokenWithoutTenantClaimIsRejected) {
  Tenant t = NewTenant();
  const std::int64_t now = NowSeconds();
  const std::string claims = Serialize(
      json::object{{"scope", kBothScopes}, {"sub", "nobody"}, {"iat", now}, {"exp", now + 3600}});
  const std::string token =
      CraftToken(server().jwt_secret(), R"({"alg":"HS256","typ":"JWT"})", claims);
  HttpResponse r = Call("GET", t.base, "Bearer " + token);
  EXPECT_TRUE(r.status == 401 || r.status == 403) << r.Dump();
}

}  // namespace
}  // namespace bb
