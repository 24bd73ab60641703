// The router's operational endpoints and the labels it gives every response (route template,
// tenant, subject) for the request log and the metrics.
#include "api/router.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/error_mapping.h"

namespace ts::api {
namespace {

constexpr std::string_view kSecret = "router-test-secret-of-at-least-32-bytes!";
constexpr std::int64_t kNow = 1764387000;

class OkHandlers final : public ResourceHandlers {
 public:
  http::HttpResponse List(RequestContext&) override { return Ok(); }
  http::HttpResponse Search(RequestContext&) override { return Ok(); }
  http::HttpResponse Get(RequestContext&) override { return Ok(); }
  http::HttpResponse Put(RequestContext&) override { return Ok(); }
  http::HttpResponse Patch(RequestContext&) override { return Ok(); }
  http::HttpResponse Delete(RequestContext&) override { return Ok(); }

 private:
  static http::HttpResponse Ok() { return RenderStatus(200, "ok"); }
};

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : verifier_(MakeVerifier()) {}

  static auth::TokenVerifier MakeVerifier() {
    auth::VerifierOptions options;
    options.key = std::string(kSecret);
    return std::move(auth::TokenVerifier::Create(std::move(options))).value();
  }

  ApiRouter MakeRouter(OperationsEndpoints operations) {
    ApiRouter router(verifier_, clock_, audit_, std::move(operations));
    router.AddResource({"tokens", "tokenId", &handlers_});
    return router;
  }

  static std::string Bearer(std::string_view tenant, std::string_view subject) {
    return "Bearer " + auth::MintHs256Token(kSecret, tenant, "ai.agent_read ai.agent_manage",
                                            subject, kNow - 10, 3600)
                           .value();
  }

  static http::HttpResponse Call(ApiRouter& router, std::string method, std::string target,
                                 std::optional<std::string> authorization = std::nullopt) {
    http::HttpRequest request;
    request.method = std::move(method);
    request.target = std::move(target);
    if (authorization) request.headers.emplace_back("Authorization", *authorization);
    return router.Handle(request);
  }

  FakeClock clock_{kNow * 1000};
  service::NullAuditLog audit_;
  auth::TokenVerifier verifier_;
  OkHandlers handlers_;
};

TEST_F(RouterTest, ReadyIs503AndNamesTheCheckThatFailed) {
  OperationsEndpoints operations;
  operations.readiness = [] {
    return std::vector<HealthCheck>{{"store", false}, {"keys", true}, {"serving", true}};
  };
  ApiRouter router = MakeRouter(std::move(operations));
  const http::HttpResponse r = Call(router, "GET", "/health/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(
      boost::json::parse(r.body),
      boost::json::parse(R"({"status":"DOWN","checks":[{"name":"store","status":"DOWN"},)"
                         R"({"name":"keys","status":"UP"},{"name":"serving","status":"UP"}]})"));
  EXPECT_EQ(r.route, kReadyRoute);
  EXPECT_EQ(r.tenant, "");
}

TEST_F(RouterTest, ReadyIs200WhenEveryCheckIsUpAndLiveNeedsNoCheck) {
  bool evaluated = false;
  OperationsEndpoints operations;
  operations.readiness = [&] {
    evaluated = true;
    return std::vector<HealthCheck>{{"store", true}, {"serving", true}};
  };
  ApiRouter router = MakeRouter(std::move(operations));
  EXPECT_EQ(Call(router, "GET", "/health/ready").status, 200);
  evaluated = false;
  const http::HttpResponse live = Call(router, "GET", "/health/live");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(live.body, R"({"status":"UP"})");
  EXPECT_FALSE(evaluated) << "liveness must not depend on the store";
  EXPECT_EQ(live.route, kLiveRoute);
  EXPECT_EQ(Call(router, "POST", "/health/ready").status, 405);
}

TEST_F(RouterTest, MetricsServesTheExpositionWithoutAuthentication) {
  OperationsEndpoints operations;
  operations.metrics = [] { return std::string("m 1\n"); };
  ApiRouter router = MakeRouter(std::move(operations));
  const http::HttpResponse r = Call(router, "GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "m 1\n");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].second, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.route, kMetricsRoute);
  EXPECT_EQ(Call(router, "PUT", "/metrics").status, 405);
}

TEST_F(RouterTest, WithoutAMetricsSourceThereIsNoMetricsRoute) {
  ApiRouter router = MakeRouter({});
  EXPECT_EQ(Call(router, "GET", "/metrics").status, 404);
  for (const std::string& route : router.RouteTemplates()) EXPECT_NE(route, kMetricsRoute);
}

TEST_F(RouterTest, ResponsesCarryTheRouteTemplateTenantAndSubject) {
  ApiRouter router = MakeRouter({});
  const http::HttpResponse item =
      Call(router, "GET", "/ai-service/acme/agentic/tokens/t1?q=x", Bearer("acme", "alice"));
  EXPECT_EQ(item.status, 200);
  EXPECT_EQ(item.route, "/ai-service/{tenant}/agentic/tokens/{tokenId}");
  EXPECT_EQ(item.tenant, "acme");
  EXPECT_EQ(item.subject, "alice");

  const http::HttpResponse search =
      Call(router, "POST", "/ai-service/acme/agentic/tokens/search", Bearer("acme", "bob"));
  EXPECT_EQ(search.route, "/ai-service/{tenant}/agentic/tokens/search");
  EXPECT_EQ(search.subject, "bob");

  const http::HttpResponse list = Call(router, "GET", "/ai-service/acme/agentic/tokens");
  EXPECT_EQ(list.status, 401);
  EXPECT_EQ(list.route, "/ai-service/{tenant}/agentic/tokens");
  EXPECT_EQ(list.tenant, "acme");
  EXPECT_EQ(list.subject, "");

  const http::HttpResponse other_tenant =
      Call(router, "GET", "/ai-service/acme/agentic/tokens/t1", Bearer("beta", "eve"));
  EXPECT_EQ(other_tenant.status, 403);
  EXPECT_EQ(other_tenant.tenant, "acme");
  EXPECT_EQ(other_tenant.subject, "eve");

  const http::HttpResponse unknown = Call(router, "GET", "/ai-service/acme/agentic/nothing");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.route, "");
  EXPECT_EQ(unknown.tenant, "");
}

TEST_F(RouterTest, RouteTemplatesListsEveryRouteOnce) {
  OperationsEndpoints operations;
  operations.metrics = [] { return std::string(); };
  ApiRouter router = MakeRouter(std::move(operations));
  EXPECT_EQ(router.RouteTemplates(),
            (std::vector<std::string>{"/health/live", "/health/ready", "/metrics",
                                      "/ai-service/openapi.yaml",
                                      "/ai-service/{tenant}/agentic/tokens",
                                      "/ai-service/{tenant}/agentic/tokens/{tokenId}",
                                      "/ai-service/{tenant}/agentic/tokens/search"}));
}

}  // namespace
}  // namespace ts::api
