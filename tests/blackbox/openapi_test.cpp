// Issue 7 point 5: the service serves its OpenAPI document at GET /ai-service/openapi.yaml,
// without authentication, byte for byte the docs/openapi.yaml of the source tree it was built
// from. (That every response of this suite conforms to the document is checked after the suite
// by the openapi_responses CTest test, tests/openapi/check_responses.py.)
#include <filesystem>

#include "blackbox/contract_fixture.h"

namespace bb {
namespace {

BB_CONTRACT_SUITE(OpenApiDocumentTest);

const std::string kDocumentPath = "/ai-service/openapi.yaml";

TEST_P(OpenApiDocumentTest, ServesTheRepositoryDocumentWithoutAuthentication) {
  const std::string expected =
      ReadFile(std::filesystem::path(TS_SOURCE_DIR) / "docs" / "openapi.yaml");
  ASSERT_FALSE(expected.empty());

  HttpResponse r = Call("GET", kDocumentPath, std::nullopt);
  ASSERT_EQ(r.status, 200) << r.Dump().substr(0, 500);
  EXPECT_TRUE(r.body == expected) << "the served document differs from docs/openapi.yaml ("
                                  << r.body.size() << " bytes served, " << expected.size()
                                  << " in the file)";
  EXPECT_EQ(r.Header("Content-Type").value_or(""), "application/yaml");
  EXPECT_EQ(r.Header("Cache-Control").value_or(""), "no-store");
}

TEST_P(OpenApiDocumentTest, IsTheSameWithAnAccessTokenOfAnyTenant) {
  Tenant t = NewTenant();
  HttpResponse anonymous = Call("GET", kDocumentPath, std::nullopt);
  HttpResponse authenticated = Call("GET", kDocumentPath, t.read);
  ASSERT_EQ(authenticated.status, 200);
  EXPECT_TRUE(authenticated.body == anonymous.body);
}

TEST_P(OpenApiDocumentTest, OtherMethodsAre405WithAllowGet) {
  for (const std::string method : {"POST", "PUT", "PATCH", "DELETE"}) {
    SCOPED_TRACE(method);
    HttpResponse r = Call(method, kDocumentPath, std::nullopt);
    ExpectError(r, 405, "Method Not Allowed");
    EXPECT_EQ(r.Header("Allow").value_or(""), "GET");
  }
}

TEST_P(OpenApiDocumentTest, NeighbouringPathsAreNotTheDocument) {
  for (const std::string target : {"/ai-service/openapi.yml", "/ai-service/openapi.yaml/x",
                                   "/openapi.yaml", "/ai-service/OPENAPI.yaml"}) {
    SCOPED_TRACE(target);
    ExpectError(Call("GET", target, std::nullopt), 404, "Not Found");
  }
}

}  // namespace
}  // namespace bb
