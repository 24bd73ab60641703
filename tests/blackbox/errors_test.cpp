// Contract sections "Order of checks" and "Error bodies", the request limits, and robustness
// against malformed input (never a 5xx, the server stays up).
#include <set>

#include "blackbox/contract_fixture.h"

namespace bb {
namespace {
namespace json = boost::json;

BB_CONTRACT_SUITE(OrderOfChecksTest);
BB_CONTRACT_SUITE(ErrorBodyTest);
BB_CONTRACT_SUITE(LimitsTest);
BB_CONTRACT_SUITE(RobustnessTest);

const char* kRename = R"([{"op":"REPLACE","path":"/name","value":"renamed"}])";

std::set<std::string> AllowedMethods(const HttpResponse& r) {
  std::set<std::string> methods;
  const std::string allow = r.Header("Allow").value_or("");
  std::size_t start = 0;
  while (start <= allow.size()) {
    std::size_t comma = allow.find(',', start);
    std::string item =
        allow.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) methods.insert(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return methods;
}

// --- order of checks --------------------------------------------------------------------

TEST_P(OrderOfChecksTest, UnknownRouteIs404EvenWithoutAuth) {
  Tenant t = NewTenant();
  for (const std::string& target :
       {std::string("/"), std::string("/nope"), std::string("/ai-service"), "/ai-service/" + t.name,
        "/ai-service/" + t.name + "/agentic", "/ai-service/" + t.name + "/agentic/tools",
        "/ai-service/" + t.name + "/agentic/token", t.Item("a/b"), t.base + "/search/x",
        std::string("/health/nope"), "/AI-SERVICE/" + t.name + "/agentic/tokens"}) {
    SCOPED_TRACE(target);
    for (const auto& auth : {std::optional<std::string>(), std::optional<std::string>(t.rw)}) {
      HttpResponse r = Call("GET", target, auth);
      ExpectError(r, 404, "Not Found");
    }
  }
}

TEST_P(OrderOfChecksTest, WrongMethodIs405WithAllowEvenWithoutAuth) {
  Tenant t = NewTenant();
  for (const std::string method : {"POST", "PUT", "PATCH", "DELETE"}) {
    SCOPED_TRACE(method + " list");
    for (const auto& auth : {std::optional<std::string>(), std::optional<std::string>(t.rw)}) {
      HttpResponse r = Call(method, t.base, auth, std::string("{}"));
      ExpectError(r, 405, "Method Not Allowed");
      std::set<std::string> allowed = AllowedMethods(r);
      EXPECT_EQ(allowed.count("GET"), 1u) << r.Dump();
      EXPECT_EQ(allowed.count(method), 0u) << r.Dump();
    }
  }
  for (const auto& auth : {std::optional<std::string>(), std::optional<std::string>(t.rw)}) {
    HttpResponse r = Call("POST", t.Item("some-id"), auth, std::string("{}"));
    ExpectError(r, 405, "Method Not Allowed");
    std::set<std::string> allowed = AllowedMethods(r);
    for (const char* m : {"GET", "PUT", "PATCH", "DELETE"}) {
      EXPECT_EQ(allowed.count(m), 1u) << m << " missing from Allow: " << r.Dump();
    }
    EXPECT_EQ(allowed.count("POST"), 0u) << r.Dump();
  }
}

TEST_P(OrderOfChecksTest, MalformedTenantOrIdIs400EvenWithoutAuth) {
  Tenant t = NewTenant();
  ExpectBadRequest(Call("GET", "/ai-service/Upper/agentic/tokens", std::nullopt));
  ExpectBadRequest(Call("GET", "/ai-service/" + Repeat("a", 65) + "/agentic/tokens", std::nullopt));
  ExpectBadRequest(Call("GET", t.Item("%2F"), std::nullopt));
  ExpectBadRequest(Call("PUT", t.Item(".."), std::nullopt, std::string("{}")));
  ExpectBadRequest(Call("DELETE", t.Item(Repeat("x", 129)), std::nullopt));
  ExpectBadRequest(Call("PATCH", t.Item("a%20b"), std::nullopt, std::string(kRename)));
  // Malformed path beats a bad token, too.
  ExpectBadRequest(Call("GET", t.Item("%2F"), std::string("Bearer nonsense")));
}

TEST_P(OrderOfChecksTest, UnauthenticatedComesBeforeForbidden) {
  Tenant a = NewTenant();
  Tenant b = NewTenant();
  // No token on another tenant's path: 401, not 403.
  ExpectUnauthorized(Call("GET", b.base, std::nullopt));
  // An expired token of another tenant, without the scope: still 401 (expired).
  ExpectUnauthorized(Call("PUT", b.Item("x"), BearerFor(a.name, kReadScope, 3600, -7200),
                          TokenBody("n", NewValue())),
                     /*expired=*/true);
  // A badly signed token that would lack the scope: 401.
  ExpectUnauthorized(Call("DELETE", b.Item("x"),
                          "Bearer " + MintToken(server().jwt_secret() + "x", b.name, kReadScope)));
}

TEST_P(OrderOfChecksTest, UnauthenticatedComesBeforeValidationAndNotFound) {
  Tenant t = NewTenant();
  ExpectUnauthorized(Call("GET", t.Item("absent"), std::nullopt));
  ExpectUnauthorized(Call("GET", t.base + "?pageSize=0", std::nullopt));
  ExpectUnauthorized(Call("GET", t.base + "?q=" + UrlEncode("colour:red"), std::nullopt));
  ExpectUnauthorized(Call("PUT", t.Item("absent"), std::nullopt, std::string("not json")));
  ExpectUnauthorized(Call("PATCH", t.Item("absent"), std::nullopt, std::string("[]")));
  ExpectUnauthorized(Call("POST", t.base + "/search", std::nullopt, std::string(R"({"x":1})")));
  ExpectUnauthorized(Call("DELETE", t.Item("absent") + "?force=maybe", std::nullopt));
}

TEST_P(OrderOfChecksTest, ForbiddenComesBeforeQueryAndBodyValidation) {
  Tenant t = NewTenant();
  Tenant other = NewTenant();
  // Missing scope.
  ExpectForbidden(Call("PUT", t.Item("x"), t.read, std::string("not json")));
  ExpectForbidden(Call("PUT", t.Item("x"), t.read, std::string(R"({"name":""})")));
  ExpectForbidden(Call("PATCH", t.Item("x"), t.read, std::string("[]")));
  ExpectForbidden(Call("DELETE", t.Item("x") + "?force=maybe", t.read));
  ExpectForbidden(Call("GET", t.base + "?pageSize=0", t.manage));
  ExpectForbidden(Call("GET", t.base + "?q=" + UrlEncode("colour:red"), t.manage));
  ExpectForbidden(Call("POST", t.base + "/search", t.manage, std::string(R"({"x":1})")));
  // Wrong tenant.
  ExpectForbidden(Call("PUT", t.Item("x"), other.rw, std::string("not json")));
  ExpectForbidden(Call("GET", t.base + "?sort=colour", other.rw));
}

// --- error bodies -----------------------------------------------------------------------

TEST_P(ErrorBodyTest, BodyThatIsNotJsonIs400) {
  Tenant t = NewTenant();
  ASSERT_TRUE(Create(t, "present", "n", NewValue()));
  for (const std::string body : {"not json", "{", "{\"name\":", "'single'", "{name:\"x\"}"}) {
    SCOPED_TRACE(body);
    ExpectBadRequest(Call("PUT", t.Item("fresh"), t.rw, body));
    ExpectBadRequest(Call("PUT", t.Item("present"), t.rw, body));
    ExpectBadRequest(Call("PATCH", t.Item("present"), t.rw, body));
    ExpectBadRequest(Call("POST", t.base + "/search", t.rw, body));
  }
  ExpectNotFound(Call("GET", t.Item("fresh"), t.rw), "fresh");
}

TEST_P(ErrorBodyTest, WrongContentTypeIs415) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "present", "n", value));
  for (const std::string type : {"text/plain", "application/x-www-form-urlencoded"}) {
    SCOPED_TRACE(type);
    ExpectError(Call("PUT", t.Item("fresh"), t.rw, TokenBody("n", value), {{"Content-Type", type}}),
                415, "");
    ExpectError(
        Call("PATCH", t.Item("present"), t.rw, std::string(kRename), {{"Content-Type", type}}), 415,
        "");
    ExpectError(Call("POST", t.base + "/search", t.rw, std::string(R"({"q":"name:n"})"),
                     {{"Content-Type", type}}),
                415, "");
  }
  ExpectNotFound(Call("GET", t.Item("fresh"), t.rw), "fresh");
  EXPECT_EQ(VersionOf(t, "present"), 1);
}

TEST_P(ErrorBodyTest, JsonWithCharsetParameterIsAccepted) {
  Tenant t = NewTenant();
  EXPECT_EQ(Call("PUT", t.Item("charset"), t.rw, TokenBody("n", NewValue()),
                 {{"Content-Type", "application/json; charset=utf-8"}})
                .status,
            201);
  EXPECT_EQ(Call("PATCH", t.Item("charset"), t.rw, std::string(kRename),
                 {{"Content-Type", "application/json;charset=UTF-8"}})
                .status,
            204);
}

TEST_P(ErrorBodyTest, JsonNestedDeeperThan64LevelsIs400) {
  Tenant t = NewTenant();
  ASSERT_TRUE(Create(t, "present", "n", NewValue()));
  auto nested = [](std::size_t depth) { return Repeat("[", depth) + Repeat("]", depth); };
  auto nested_objects = [](std::size_t depth) {
    return Repeat(R"({"a":)", depth) + "1" + Repeat("}", depth);
  };
  for (std::size_t depth : {65u, 100u, 100000u}) {
    SCOPED_TRACE(depth);
    ExpectBadRequest(Call("PUT", t.Item("deep"), t.rw,
                          R"({"name":"n","value":"v","metadata":)" + nested_objects(depth) + "}"));
    ExpectBadRequest(Call("PATCH", t.Item("present"), t.rw, nested(depth)));
    ExpectBadRequest(Call("POST", t.base + "/search", t.rw, R"({"q":)" + nested(depth) + "}"));
  }
  EXPECT_TRUE(ServerAlive());
  ExpectNotFound(Call("GET", t.Item("deep"), t.rw), "deep");
}

TEST_P(ErrorBodyTest, MessagesQuoteAtMost100CharactersOfTheInput) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "present", "n", value));
  const std::string long_name = Repeat("k", 5000);
  json::object body{{"name", "n"}, {"value", value}, {long_name, 1}};
  HttpResponse unknown_field = Call("PUT", t.Item("fresh"), t.rw, Serialize(body));
  ExpectBadRequest(unknown_field);
  EXPECT_LE(LongestRun(unknown_field.body, 'k'), 100u) << unknown_field.body.substr(0, 500);
  EXPECT_LT(unknown_field.body.size(), 2000u) << "a short message, not an echo";

  for (const std::string& target :
       {t.base + "?sort=" + long_name, t.base + "?fields=" + long_name,
        t.base + "?pageSize=" + long_name, t.Item("present") + "?force=" + long_name}) {
    SCOPED_TRACE(target.substr(0, 80));
    HttpResponse r =
        Call(target.find("force=") != std::string::npos ? "DELETE" : "GET", target, t.rw);
    ExpectBadRequest(r);
    EXPECT_LE(LongestRun(r.body, 'k'), 100u) << r.body.substr(0, 500);
  }
  HttpResponse patch = Call("PATCH", t.Item("present"), t.rw,
                            Serialize(json::array{json::object{
                                {"op", "REPLACE"}, {"path", "/" + long_name}, {"value", "x"}}}));
  ExpectBadRequest(patch);
  EXPECT_LE(LongestRun(patch.body, 'k'), 100u) << patch.body.substr(0, 500);
  HttpResponse op = Call(
      "PATCH", t.Item("present"), t.rw,
      Serialize(json::array{json::object{{"op", long_name}, {"path", "/name"}, {"value", "x"}}}));
  ExpectBadRequest(op);
  EXPECT_LE(LongestRun(op.body, 'k'), 100u) << op.body.substr(0, 500);
}

TEST_P(ErrorBodyTest, EveryResponseSaysCacheControlNoStore) {
  // Each status class once, checked here explicitly (TearDown checks every response too).
  Tenant t = NewTenant();
  const std::string value = NewValue();
  std::vector<HttpResponse> responses = {
      Call("GET", "/health/ready", std::nullopt),
      Call("PUT", t.Item("cc"), t.rw, TokenBody("n", value)),
      Call("GET", t.Item("cc"), t.rw),
      Call("GET", t.base, t.rw),
      Call("PUT", t.Item("cc"), t.rw, std::string(R"({"name":"m"})")),
      Call("PUT", t.Item("cc"), t.rw, std::string("nope")),
      Call("GET", t.base, std::nullopt),
      Call("GET", t.base, t.manage),
      Call("GET", t.Item("absent"), t.rw),
      Call("GET", "/nope", std::nullopt),
      Call("POST", t.base, std::nullopt, std::string("{}")),
      Call("PUT", t.Item("cc"), t.rw, std::string(R"({"name":"x","metadata":{"version":9}})")),
      Call("PUT", t.Item("cc"), t.rw, std::string(R"({"name":"x"})"), {{"If-Match", "\"9\""}}),
  };
  std::set<int> statuses;
  for (const HttpResponse& r : responses) {
    statuses.insert(r.status);
    EXPECT_EQ(r.Header("Cache-Control").value_or("<absent>"), "no-store") << r.Dump();
  }
  EXPECT_EQ(statuses, (std::set<int>{200, 201, 204, 400, 401, 403, 404, 405, 409, 412}));
}

// --- limits -----------------------------------------------------------------------------

TEST_P(LimitsTest, BodyOverOneMebibyteIs413) {
  Tenant t = NewTenant();
  const std::string core = NewValue();
  const std::string prefix = R"({"name":"big","value":")" + core;
  const std::string suffix = R"("})";
  const std::string over = prefix + Repeat("v", 1048577 - prefix.size() - suffix.size()) + suffix;
  ASSERT_EQ(over.size(), 1048577u);
  ExpectError(Call("PUT", t.Item("big"), t.rw, over), 413, "");
  EXPECT_TRUE(ServerAlive());
  ExpectNotFound(Call("GET", t.Item("big"), t.rw), "big");
}

TEST_P(LimitsTest, BodyOfExactlyOneMebibyteIsReadAndValidated) {
  Tenant t = NewTenant();
  const std::string core = NewValue();
  const std::string prefix = R"({"name":"big","value":")" + core;
  const std::string suffix = R"("})";
  const std::string exact = prefix + Repeat("v", 1048576 - prefix.size() - suffix.size()) + suffix;
  ASSERT_EQ(exact.size(), 1048576u);
  // Within the body limit: the body is parsed, and the value is too long.
  ExpectBadRequest(Call("PUT", t.Item("big"), t.rw, exact));
}

TEST_P(LimitsTest, ChunkedBodyOverTheLimitIs413) {
  Tenant t = NewTenant();
  const std::string core = NewValue();
  std::string request = "PUT " + t.Item("chunked") + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                        "Authorization: " + t.rw +
                        "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n" +
                        "Connection: close\r\n\r\n";
  const std::string head = R"({"name":"n","value":")" + core;
  auto chunk = [](const std::string& data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return std::string(size) + data + "\r\n";
  };
  request += chunk(head);
  for (int i = 0; i < 20; ++i) request += chunk(Repeat("v", 64 * 1024));
  request += chunk(R"("})") + "0\r\n\r\n";
  ExchangeResult r = Raw(request);
  ASSERT_TRUE(r.ok) << r.error;
  ExpectError(r.response, 413, "");
  EXPECT_TRUE(ServerAlive());
  ExpectNotFound(Call("GET", t.Item("chunked"), t.rw), "chunked");
}

TEST_P(LimitsTest, UrlOverTenKilobytesIs414) {
  Tenant t = NewTenant();
  HttpResponse ok = Call("GET", t.base + "?pad=" + Repeat("p", 9000), t.rw);
  EXPECT_EQ(ok.status, 200) << "a 9 KB URL is within the limit (unknown parameter ignored)";
  HttpResponse r = Call("GET", t.base + "?pad=" + Repeat("p", 16 * 1024), t.rw);
  ExpectError(r, 414, "");
  EXPECT_TRUE(ServerAlive());
}

TEST_P(LimitsTest, HeadersOverSixtyKilobytesAre431) {
  Tenant t = NewTenant();
  HttpResponse ok = Call("GET", t.base, t.rw, std::nullopt, {{"X-Pad", Repeat("h", 40000)}});
  EXPECT_EQ(ok.status, 200) << "40 KB of headers are within the limit";
  HttpResponse one = Call("GET", t.base, t.rw, std::nullopt, {{"X-Pad", Repeat("h", 70 * 1024)}});
  ExpectError(one, 431, "");
  HeaderList many;
  for (int i = 0; i < 100; ++i) many.emplace_back("X-Pad-" + std::to_string(i), Repeat("h", 700));
  HttpResponse lots = Call("GET", t.base, t.rw, std::nullopt, many);
  ExpectError(lots, 431, "");
  EXPECT_TRUE(ServerAlive());
}

// --- robustness -------------------------------------------------------------------------

TEST_P(RobustnessTest, MalformedTokenBodiesAre400) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "present", "n", value));
  const std::string v = "\"" + value + "\"";
  const std::vector<std::string> bodies = {
      "{\"name\":\"\xFF\xFE\",\"value\":" + v + "}",           // invalid UTF-8 in a string
      "{\"name\":\"n\",\"value\":\"\xC3\x28" + value + "\"}",  // invalid UTF-8 in the value
      "{\"name\":\"\xC0\xAF\",\"value\":" + v + "}",           // overlong encoding
      "{\"name\":\"\xED\xA0\x80\",\"value\":" + v + "}",       // encoded surrogate
      R"({"name":"\ud800","value":)" + v + "}",                // lone surrogate escape
      "{\"name\":\"a\xF8\x88\x80\x80\x80\",\"value\":" + v + "}",
      R"({"name":"n","value":)" + v + R"(,"metadata":{"version":1e400}})",
      R"({"name":"n","value":)" + v + R"(,"metadata":{"version":123456789012345678901234567890}})",
      R"({"name":"n","value":)" + v + R"(,"metadata":{"version":-1}})",
      R"({"name":"n","value":)" + v + R"(,"metadata":{"version":0}})",
      R"({"name":"n","value":)" + v + R"(,"metadata":{"version":"1"}})",
      R"({"name":"n","value":)" + v + R"(,"metadata":{"version":1.5}})",
      R"({"name":"n","value":)" + v + R"(,"metadata":{"version":NaN}})",
      R"({"name":null,"value":)" + v + "}",
      R"({"name":["n"],"value":)" + v + "}",
      R"({"name":{"n":1},"value":)" + v + "}",
      R"({"name":"n","value":[)" + v + "]}",
      R"({"name":"n","value":{"v":)" + v + "}}",
      R"({"name":"n","value":)" + v + R"(,"metadata":[]})",
      R"({"name":"n","value":)" + v + R"(,"metadata":"x"})",
      "[" + v + "]",
      v,
      "123",
      "null",
      "true",
      "",
      " ",
      R"({"name":"n","value":)" + v + "} trailing",
      R"({"name":"n","value":)" + v + "}{}",
      std::string("{\"name\":\"a\0b\",\"value\":", 22) + v + "}",
      "{\"name\":\"tab\there\",\"value\":" + v + "}",
      R"({"name":"n","value":)" + v,
      R"({"name":"n",,"value":)" + v + "}",
      R"({"name":"n","value":)" + v + ",}",
  };
  int i = 0;
  for (const std::string& body : bodies) {
    SCOPED_TRACE("body #" + std::to_string(i));
    const std::string id = "fresh" + std::to_string(i++);
    ExpectBadRequest(Call("PUT", t.Item(id), t.rw, body));
    ExpectBadRequest(Call("PUT", t.Item("present"), t.rw, body));
  }
  EXPECT_TRUE(ServerAlive());
  EXPECT_EQ(Ids(List(t)), (std::vector<std::string>{"present"}));
  EXPECT_EQ(VersionOf(t, "present"), 1);
}

TEST_P(RobustnessTest, MalformedHttpNeverCrashesTheServer) {
  Tenant t = NewTenant();
  const std::string item = t.Item("raw");
  const std::vector<std::string> requests = {
      "GARBAGE\r\n\r\n",
      "GET / HTTP/1.1\r\nHost x\r\n\r\n",
      "PUT " + item + " HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
      "PUT " + item + " HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}",
      "PUT " + item +
          " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: "
          "chunked\r\n\r\n0\r\n\r\n",
      "PUT " + item + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
      "PUT " + item +
          " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
      std::string("\x00\x01\x02\xFF\r\n\r\n", 8),
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "GET " + t.base + "\r\n\r\n",
      "GET  HTTP/1.1\r\n\r\n",
      "GET " + t.base + "?q=%ZZ HTTP/1.1\r\nHost: x\r\nAuthorization: " + t.rw + "\r\n\r\n",
      "GET " + t.base + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xFF\xFE\r\n\r\n",
      "GET " + t.base + " HTTP/1.1\r\nHost: x\r\nX-Total-Count: \x01\r\n\r\n",
  };
  int i = 0;
  for (const std::string& request : requests) {
    SCOPED_TRACE("raw request #" + std::to_string(i++));
    ClientOptions options;
    options.timeout = std::chrono::seconds(20);
    ExchangeResult r = SendRaw(port(), request, options);
    if (r.ok) {
      // A client error; 505 is the one 5xx that fits an unsupported HTTP version.
      const int status = r.response.status;
      EXPECT_TRUE((status >= 400 && status < 500) || status == 505) << r.response.Dump();
      EXPECT_EQ(r.response.Header("Cache-Control").value_or("<absent>"), "no-store")
          << r.response.Dump();
      EXPECT_EQ(r.response.Header("Content-Type").value_or("<absent>").rfind("application/json", 0),
                0u)
          << r.response.Dump();
    } else {
      EXPECT_TRUE(r.closed_without_response) << "neither a response nor a close: " << r.error;
    }
    ASSERT_TRUE(ServerAlive()) << "the server stopped answering";
  }
  ExpectNotFound(Call("GET", item, t.rw), "raw");
}

}  // namespace
}  // namespace bb
