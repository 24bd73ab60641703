// Contract section "Upsert (PUT /{tokenId})": create, optimistic locking (metadata.version,
// ETag/If-Match), the immutable value, and writers racing on one token.
#include <algorithm>
#include <latch>
#include <thread>

#include "blackbox/contract_fixture.h"

namespace bb {
namespace {
namespace json = boost::json;

BB_CONTRACT_SUITE(UpsertTest);

std::string VersionBody(const std::string& name, std::int64_t version) {
  return boost::json::serialize(
      json::object{{"name", name}, {"metadata", json::object{{"version", version}}}});
}

// The path part of a Location header (which may be absolute).
std::string LocationPath(const std::string& location) {
  if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) {
    std::size_t slash = location.find('/', location.find("//") + 2);
    return slash == std::string::npos ? "/" : location.substr(slash);
  }
  return location;
}

// Runs `count` copies of `request(i)` at once (all released together) and returns statuses.
template <class Request>
std::vector<int> RunConcurrently(int count, Request request) {
  std::vector<int> statuses(static_cast<std::size_t>(count), 0);
  std::latch start(count);
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      statuses[static_cast<std::size_t>(i)] = request(i);
    });
  }
  for (std::thread& thread : threads) thread.join();
  return statuses;
}

int CountOf(const std::vector<int>& statuses, int status) {
  return static_cast<int>(std::count(statuses.begin(), statuses.end(), status));
}

TEST_P(UpsertTest, CreateAnswers201WithIdAndLocation) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  HttpResponse r = Call("PUT", t.Item("created"), t.rw, TokenBody("Created", value));
  ASSERT_EQ(r.status, 201) << r.Dump();
  auto type = r.Header("Content-Type");
  EXPECT_TRUE(type && type->rfind("application/json", 0) == 0) << r.Dump();
  EXPECT_EQ(ParseBody(r), json::value(json::object{{"id", "created"}})) << r.body;
  auto location = r.Header("Location");
  ASSERT_TRUE(location.has_value()) << r.Dump();
  const std::string path = LocationPath(*location);
  EXPECT_EQ(path, t.Item("created"));
  HttpResponse fetched = Call("GET", path, t.rw);
  ASSERT_EQ(fetched.status, 200) << fetched.Dump();
  json::value token = ParseBody(fetched);
  EXPECT_EQ(Str(At(token, "id")), "created");
  EXPECT_EQ(Str(At(token, "name")), "Created");
  EXPECT_EQ(Int(At(token, "metadata.version")), 1);
}

// "Unknown query parameters are ignored" (stated for lists; read as a general rule).
TEST_P(UpsertTest, UnknownQueryParametersOnSingleTokenRequestsAreIgnored) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  EXPECT_EQ(Call("PUT", t.Item("q") + "?foo=1&bar", t.rw, TokenBody("n", value)).status, 201);
  EXPECT_EQ(Call("GET", t.Item("q") + "?foo=1", t.rw).status, 200);
  EXPECT_EQ(Call("PATCH", t.Item("q") + "?foo=1", t.rw,
                 std::string(R"([{"op":"REPLACE","path":"/name","value":"m"}])"))
                .status,
            204);
  EXPECT_EQ(Call("DELETE", t.Item("q") + "?foo=1", t.rw).status, 204);
  ExpectNotFound(Call("GET", t.Item("q"), t.rw), "q");
}

TEST_P(UpsertTest, VersionOnAnAbsentTokenIs404) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  for (std::int64_t version : {1, 5}) {
    json::object body{
        {"name", "n"}, {"value", value}, {"metadata", json::object{{"version", version}}}};
    HttpResponse r = Call("PUT", t.Item("ghost"), t.rw, Serialize(body));
    ExpectNotFound(r, "ghost");
  }
  ExpectNotFound(Call("GET", t.Item("ghost"), t.rw), "ghost");
}

TEST_P(UpsertTest, WrongVersionIs409AndRightVersionUpdates) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "locked", "v1", value));
  for (std::int64_t stale : {2, 7}) {
    HttpResponse r = Call("PUT", t.Item("locked"), t.rw, VersionBody("lost", stale));
    ExpectConflict(r);
  }
  json::value token = Read(t, "locked");
  EXPECT_EQ(Str(At(token, "name")), "v1");
  EXPECT_EQ(Int(At(token, "metadata.version")), 1);

  EXPECT_EQ(Call("PUT", t.Item("locked"), t.rw, VersionBody("won", 1)).status, 204);
  token = Read(t, "locked");
  EXPECT_EQ(Str(At(token, "name")), "won");
  EXPECT_EQ(Int(At(token, "metadata.version")), 2);
  // The old version is now stale.
  ExpectConflict(Call("PUT", t.Item("locked"), t.rw, VersionBody("late", 1)));
  EXPECT_EQ(Str(Read(t, "locked")["name"]), "won");
}

TEST_P(UpsertTest, ValueIsKeptWhenOmittedAcceptedWhenEqualRejectedWhenDifferent) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  const std::string other = NewValue();
  ASSERT_TRUE(Create(t, "immutable", "n1", value));
  EXPECT_EQ(Call("PUT", t.Item("immutable"), t.rw, R"({"name":"n2"})").status, 204);
  // Still the original value: sending it is accepted...
  EXPECT_EQ(Call("PUT", t.Item("immutable"), t.rw, TokenBody("n3", value)).status, 204);
  // ...and a different one is not.
  HttpResponse r = Call("PUT", t.Item("immutable"), t.rw, TokenBody("n4", other));
  ExpectBadRequest(r);
  EXPECT_NE(Lower(r.body).find("cannot be changed"), std::string::npos) << r.body;
  json::value token = Read(t, "immutable");
  EXPECT_EQ(Str(At(token, "name")), "n3");
  EXPECT_EQ(Int(At(token, "metadata.version")), 3);
}

TEST_P(UpsertTest, RetriedCreateIsSafe) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  const std::string body = TokenBody("retried", value);
  EXPECT_EQ(Call("PUT", t.Item("retry"), t.rw, body).status, 201);
  EXPECT_EQ(Call("PUT", t.Item("retry"), t.rw, body).status, 204);
  json::value token = Read(t, "retry");
  EXPECT_EQ(Str(At(token, "name")), "retried");
  EXPECT_EQ(Int(At(token, "metadata.version")), 2);
}

TEST_P(UpsertTest, UpdateReplacesName) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "renamed", "before", value));
  HttpResponse r = Call("PUT", t.Item("renamed"), t.rw, R"({"name":"after"})");
  EXPECT_EQ(r.status, 204) << r.Dump();
  EXPECT_TRUE(r.body.empty()) << "204 has no body: " << r.body;
  json::value token = Read(t, "renamed");
  EXPECT_EQ(Str(At(token, "name")), "after");
  EXPECT_EQ(Int(At(token, "metadata.version")), 2);
}

TEST_P(UpsertTest, TwentyConcurrentPutsWithOneVersionHaveExactlyOneWinner) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "contended", "start", value));
  std::vector<int> statuses = RunConcurrently(20, [&](int i) {
    return Call("PUT", t.Item("contended"), t.rw, VersionBody("racer-" + std::to_string(i), 1))
        .status;
  });
  EXPECT_EQ(CountOf(statuses, 204), 1) << ::testing::PrintToString(statuses);
  EXPECT_EQ(CountOf(statuses, 409), 19) << ::testing::PrintToString(statuses);
  const auto winner = std::find(statuses.begin(), statuses.end(), 204);
  json::value token = Read(t, "contended");
  EXPECT_EQ(Int(At(token, "metadata.version")), 2);
  if (winner != statuses.end()) {
    EXPECT_EQ(Str(At(token, "name")), "racer-" + std::to_string(winner - statuses.begin()));
  }
}

TEST_P(UpsertTest, ConcurrentPatchesWithoutVersionNeverLoseAWrite) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "patched", "start", value));
  std::vector<int> statuses = RunConcurrently(50, [&](int i) {
    return Call("PATCH", t.Item("patched"), t.rw,
                R"([{"op":"REPLACE","path":"/name","value":"p)" + std::to_string(i) + R"("}])")
        .status;
  });
  const int wins = CountOf(statuses, 204);
  EXPECT_EQ(wins + CountOf(statuses, 409), 50) << ::testing::PrintToString(statuses);
  EXPECT_GE(wins, 1);
  EXPECT_EQ(VersionOf(t, "patched"), 1 + wins) << ::testing::PrintToString(statuses);
}

TEST_P(UpsertTest, ConcurrentPutsWithoutVersionNeverLoseAWrite) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "put-race", "start", value));
  std::vector<int> statuses = RunConcurrently(20, [&](int i) {
    return Call("PUT", t.Item("put-race"), t.rw, R"({"name":"w)" + std::to_string(i) + R"("})")
        .status;
  });
  const int wins = CountOf(statuses, 204);
  EXPECT_EQ(wins + CountOf(statuses, 409), 20) << ::testing::PrintToString(statuses);
  EXPECT_GE(wins, 1);
  EXPECT_EQ(VersionOf(t, "put-race"), 1 + wins) << ::testing::PrintToString(statuses);
}

TEST_P(UpsertTest, ConcurrentCreatesOfOneIdCreateItOnce) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  std::vector<int> statuses = RunConcurrently(20, [&](int) {
    return Call("PUT", t.Item("born-once"), t.rw, TokenBody("same", value)).status;
  });
  const int updates = CountOf(statuses, 204);
  EXPECT_EQ(CountOf(statuses, 201), 1) << ::testing::PrintToString(statuses);
  EXPECT_EQ(1 + updates + CountOf(statuses, 409), 20) << ::testing::PrintToString(statuses);
  EXPECT_EQ(VersionOf(t, "born-once"), 1 + updates) << ::testing::PrintToString(statuses);
}

TEST_P(UpsertTest, SingleReadsCarryTheVersionAsETag) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "tagged", "n", value));
  HttpResponse first = Call("GET", t.Item("tagged"), t.rw);
  EXPECT_EQ(first.Header("ETag").value_or("<absent>"), "\"1\"");
  ASSERT_EQ(Call("PUT", t.Item("tagged"), t.rw, R"({"name":"m"})").status, 204);
  HttpResponse second = Call("GET", t.Item("tagged"), t.rw);
  EXPECT_EQ(second.Header("ETag").value_or("<absent>"), "\"2\"");
  EXPECT_EQ(Int(At(ParseBody(second), "metadata.version")), 2);
}

TEST_P(UpsertTest, IfMatchLocksPut) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "if-put", "n1", value));
  EXPECT_EQ(Call("PUT", t.Item("if-put"), t.rw, R"({"name":"n2"})", {{"If-Match", "\"1\""}}).status,
            204);
  HttpResponse stale =
      Call("PUT", t.Item("if-put"), t.rw, R"({"name":"n3"})", {{"If-Match", "\"1\""}});
  ExpectPreconditionFailed(stale);
  json::value token = Read(t, "if-put");
  EXPECT_EQ(Str(At(token, "name")), "n2");
  EXPECT_EQ(Int(At(token, "metadata.version")), 2);
  EXPECT_EQ(Call("PUT", t.Item("if-put"), t.rw, R"({"name":"n3"})", {{"If-Match", "\"2\""}}).status,
            204);
}

TEST_P(UpsertTest, IfMatchLocksPatch) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "if-patch", "n1", value));
  const std::string rename = R"([{"op":"REPLACE","path":"/name","value":"n2"}])";
  ExpectPreconditionFailed(
      Call("PATCH", t.Item("if-patch"), t.rw, rename, {{"If-Match", "\"9\""}}));
  EXPECT_EQ(Int(At(Read(t, "if-patch"), "metadata.version")), 1);
  EXPECT_EQ(Call("PATCH", t.Item("if-patch"), t.rw, rename, {{"If-Match", "\"1\""}}).status, 204);
  EXPECT_EQ(Str(Read(t, "if-patch")["name"]), "n2");
}

TEST_P(UpsertTest, IfMatchLocksDelete) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "if-delete", "n1", value));
  ExpectPreconditionFailed(
      Call("DELETE", t.Item("if-delete"), t.rw, std::nullopt, {{"If-Match", "\"2\""}}));
  EXPECT_EQ(Call("GET", t.Item("if-delete"), t.rw).status, 200) << "not deleted";
  EXPECT_EQ(Call("DELETE", t.Item("if-delete"), t.rw, std::nullopt, {{"If-Match", "\"1\""}}).status,
            204);
  ExpectNotFound(Call("GET", t.Item("if-delete"), t.rw), "if-delete");
}

TEST_P(UpsertTest, IfMatchOnAnAbsentTokenIs412) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ExpectPreconditionFailed(
      Call("PUT", t.Item("nothing"), t.rw, TokenBody("n", value), {{"If-Match", "\"1\""}}));
  ExpectNotFound(Call("GET", t.Item("nothing"), t.rw), "nothing");
  ExpectPreconditionFailed(Call("PATCH", t.Item("nothing"), t.rw,
                                R"([{"op":"REPLACE","path":"/name","value":"x"}])",
                                {{"If-Match", "\"1\""}}));
  ExpectPreconditionFailed(
      Call("DELETE", t.Item("nothing"), t.rw, std::nullopt, {{"If-Match", "\"1\""}}));
}

TEST_P(UpsertTest, ValidationComesBeforeNotFoundConflictAndPrecondition) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  // Absent + version would be 404, but the body is invalid first.
  ExpectBadRequest(
      Call("PUT", t.Item("absent"), t.rw,
           Serialize(json::object{
               {"name", "  "}, {"value", value}, {"metadata", json::object{{"version", 1}}}})));
  ASSERT_TRUE(Create(t, "present", "n", value));
  // Stale version would be 409, but the body is invalid first.
  ExpectBadRequest(Call("PUT", t.Item("present"), t.rw, VersionBody("", 7)));
  ExpectBadRequest(
      Call("PUT", t.Item("present"), t.rw, R"({"name":"x","colour":1,"metadata":{"version":7}})"));
  // If-Match mismatch would be 412, but the body is invalid first.
  ExpectBadRequest(Call("PUT", t.Item("present"), t.rw, R"({"name":""})", {{"If-Match", "\"7\""}}));
  // Absent PATCH would be 404, but the operations are invalid first.
  ExpectBadRequest(Call("PATCH", t.Item("absent"), t.rw, R"([{"op":"REMOVE","path":"/name"}])"));
  ExpectBadRequest(Call("PATCH", t.Item("absent"), t.rw, "[]"));
  EXPECT_EQ(VersionOf(t, "present"), 1);
}

TEST_P(UpsertTest, ErrorBodiesOf404And409And412) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  HttpResponse not_found = Call("GET", t.Item("missing"), t.rw);
  ExpectNotFound(not_found, "missing");
  json::value body = ParseBody(not_found);
  EXPECT_EQ(Keys(body), (std::vector<std::string>{"code", "message", "resourceId", "status"}))
      << not_found.body;

  ASSERT_TRUE(Create(t, "shape", "n", value));
  HttpResponse conflict = Call("PUT", t.Item("shape"), t.rw, VersionBody("x", 5));
  ExpectConflict(conflict);
  HttpResponse precondition =
      Call("PUT", t.Item("shape"), t.rw, R"({"name":"x"})", {{"If-Match", "\"5\""}});
  ExpectPreconditionFailed(precondition);
}

}  // namespace
}  // namespace bb
