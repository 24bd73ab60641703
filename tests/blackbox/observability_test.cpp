// Operating the service (issue 7, points 2-4): /health/ready's checks and the drain delay,
// /metrics in the Prometheus text format (counters that move as the requests say, checked by
// `promtool check metrics`), and the request log on stderr (one JSON line per request with the
// right fields, never a secret). Each test runs its own server.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <cstdio>
#include <map>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "blackbox/contract_fixture.h"
#include "blackbox/harness.h"
#include "blackbox/http_client.h"

namespace bb {
namespace {
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kItemRoute = "/ai-service/{tenant}/agentic/tokens/{tokenId}";

// "name{labels}" → value, from a Prometheus text exposition.
std::map<std::string, double> ParseSamples(const std::string& text) {
  std::map<std::string, double> samples;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

std::string RequestsSeries(const std::string& route, const std::string& method, int code) {
  return "token_service_http_requests_total{route=\"" + route + "\",method=\"" + method +
         "\",code=\"" + std::to_string(code) + "\"}";
}

class ObservabilityTest : public ::testing::TestWithParam<Backend> {
 protected:
  std::unique_ptr<ServerProcess> StartServer(ServerConfig config = {}) {
    config.backend = GetParam();
    std::string error;
    std::unique_ptr<ServerProcess> server = ServerProcess::Start(config, &error);
    EXPECT_NE(server, nullptr) << "cannot start token-service: " << error;
    return server;
  }

  static HttpResponse Request(const ServerProcess& server, const std::string& method,
                              const std::string& target,
                              const std::optional<std::string>& authorization = std::nullopt,
                              const std::optional<std::string>& body = std::nullopt,
                              HeaderList headers = {}) {
    HttpRequest request{method, target, std::move(headers), body};
    if (authorization) request.headers.emplace_back("Authorization", *authorization);
    if (body) request.headers.emplace_back("Content-Type", "application/json");
    ExchangeResult r = Send(server.port(), request);
    EXPECT_TRUE(r.ok) << method << " " << target << ": " << r.error;
    return r.response;
  }

  static std::string Scrape(const ServerProcess& server) {
    HttpResponse r = Request(server, "GET", "/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.Header("Content-Type").value_or(""), "text/plain; version=0.0.4; charset=utf-8");
    return r.body;
  }

  static std::string Bearer(const ServerProcess& server, const std::string& tenant) {
    return "Bearer " + MintToken(server.jwt_secret(), tenant, kBothScopes);
  }

  // The server's stderr lines that parse as JSON objects.
  static std::vector<json::object> LogLines(const ServerProcess& server) {
    std::vector<json::object> lines;
    std::istringstream text(ReadFile(server.stderr_file()));
    std::string line;
    while (std::getline(text, line)) {
      boost::system::error_code ec;
      json::value v = json::parse(line, ec);
      if (!ec && v.is_object()) lines.push_back(v.as_object());
    }
    return lines;
  }

  // The http.request line with this request id, waiting for it (the line is written just after
  // the response, so it may trail the client by a moment).
  static std::optional<json::object> RequestLine(const ServerProcess& server,
                                                 const std::string& request_id) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    do {
      for (const json::object& line : LogLines(server)) {
        const json::value* event = line.if_contains("event");
        const json::value* id = line.if_contains("request_id");
        if (event && id && *event == "http.request" && *id == request_id.c_str()) return line;
      }
      std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return std::nullopt;
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, ObservabilityTest, ::testing::ValuesIn(Backends()),
                         BackendName());

TEST_P(ObservabilityTest, ReadyReportsEveryCheckWithoutAuthenticationOrTenantData) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  HttpResponse ready = Request(*server, "GET", "/health/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(json::parse(ready.body),
            json::parse(R"({"status":"UP","checks":[{"name":"store","status":"UP"},)"
                        R"({"name":"keys","status":"UP"},{"name":"serving","status":"UP"}]})"));
  HttpResponse live = Request(*server, "GET", "/health/live");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(json::parse(live.body), json::parse(R"({"status":"UP"})"));
  EXPECT_EQ(server->Stop(), 0);
}

TEST_P(ObservabilityTest, DrainDelayFailsReadinessAtOnceButKeepsServing) {
  ServerConfig config;
  config.extra_args = {"--drain-delay-ms", "600000"};
  auto server = StartServer(config);
  ASSERT_NE(server, nullptr);
  const std::string tenant = "drain" + RandomHex(4);
  ASSERT_EQ(::kill(server->pid(), SIGTERM), 0);
  // Polled, not slept: the signal is handled asynchronously.
  HttpResponse ready;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  do {
    ready = Request(*server, "GET", "/health/ready");
    if (ready.status == 503) break;
    std::this_thread::sleep_for(20ms);
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(ready.status, 503) << ready.body;
  const json::value body = json::parse(ready.body);
  EXPECT_EQ(body.at("status"), "DOWN");
  EXPECT_NE(ready.body.find(R"({"name":"serving","status":"DOWN"})"), std::string::npos)
      << ready.body;
  EXPECT_NE(ready.body.find(R"({"name":"store","status":"UP"})"), std::string::npos) << ready.body;
  // Still serving everything else while the load balancer takes it out.
  EXPECT_EQ(Request(*server, "GET", "/health/live").status, 200);
  EXPECT_EQ(
      Request(*server, "GET", "/ai-service/" + tenant + "/agentic/tokens", Bearer(*server, tenant))
          .status,
      200);
  // A second SIGTERM ends the delay; the stop is graceful.
  EXPECT_EQ(server->Stop(SIGTERM), 0) << server->StderrTail();
  const std::string err = ReadFile(server->stderr_file());
  EXPECT_NE(err.find("\"event\":\"service.draining\""), std::string::npos);
  EXPECT_NE(err.find("\"event\":\"service.stopped\""), std::string::npos);
}

TEST_P(ObservabilityTest, MetricsCountRequestsAsTheyHappened) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const std::string tenant = "metrics" + RandomHex(4);
  const std::string base = "/ai-service/" + tenant + "/agentic/tokens";
  const std::string bearer = Bearer(*server, tenant);
  const auto before = ParseSamples(Scrape(*server));

  const std::string value = "sv-" + RandomHex(16);
  const std::string put_body = json::serialize(json::object{{"name", "n"}, {"value", value}});
  EXPECT_EQ(Request(*server, "PUT", base + "/t1", bearer, put_body).status, 201);
  EXPECT_EQ(Request(*server, "GET", base + "/t1", bearer).status, 200);
  EXPECT_EQ(Request(*server, "GET", base + "/t1", bearer).status, 200);
  EXPECT_EQ(Request(*server, "GET", base + "/absent", bearer).status, 404);
  EXPECT_EQ(Request(*server, "GET", base + "/t1").status, 401);
  EXPECT_EQ(Request(*server, "GET", "/no/such/" + tenant).status, 404);
  EXPECT_EQ(Request(*server, "BREW", "/health/ready").status, 405);

  // A request is counted once its response has been written, which the client may see
  // before the server's write completes, on any I/O thread and in any order between
  // connections: the scrape polls until every request made above has been counted.
  std::map<std::string, double> after;
  const std::string get_200 = RequestsSeries(kItemRoute, "GET", 200);
  std::string text;
  auto delta = [&](const std::string& series) {
    const auto b = before.find(series);
    return after[series] - (b == before.end() ? 0.0 : b->second);
  };
  const std::vector<std::string> expected_series = {
      RequestsSeries(kItemRoute, "PUT", 201),  get_200,
      RequestsSeries(kItemRoute, "GET", 404),  RequestsSeries(kItemRoute, "GET", 401),
      RequestsSeries("unmatched", "GET", 404), RequestsSeries("/health/ready", "other", 405)};
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    text = Scrape(*server);
    after = ParseSamples(text);
    bool all_counted = true;
    for (const std::string& series : expected_series)
      all_counted = all_counted && delta(series) >= 1;
    if (all_counted && delta(get_200) >= 2) break;
    std::this_thread::sleep_for(20ms);
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(delta(RequestsSeries(kItemRoute, "PUT", 201)), 1) << text;
  EXPECT_EQ(delta(get_200), 2);
  EXPECT_EQ(delta(RequestsSeries(kItemRoute, "GET", 404)), 1);
  EXPECT_EQ(delta(RequestsSeries(kItemRoute, "GET", 401)), 1);
  EXPECT_EQ(delta(RequestsSeries("unmatched", "GET", 404)), 1);
  EXPECT_EQ(delta(RequestsSeries("/health/ready", "other", 405)), 1);
  EXPECT_EQ(delta("token_service_http_request_duration_seconds_count{route=\"" +
                  std::string(kItemRoute) + "\"}"),
            5);
  EXPECT_EQ(delta("token_service_http_request_duration_seconds_bucket{route=\"" +
                  std::string(kItemRoute) + "\",le=\"+Inf\"}"),
            5);
  // The scrape itself is in flight on its own connection.
  EXPECT_GE(after["token_service_http_requests_in_flight"], 1);
  EXPECT_GE(after["token_service_http_open_connections"], 1);
  // Store operations: the PUT inserted, the three GETs read.
  EXPECT_GE(delta("token_service_store_operation_duration_seconds_count{operation=\"insert\"}"), 1);
  EXPECT_GE(delta("token_service_store_operation_duration_seconds_count{operation=\"get\"}"), 3);
  // Key rotation progress and build info.
  EXPECT_EQ(after["token_service_active_key_id"], 1);
  EXPECT_EQ(after.count("token_service_sealed_values{key_id=\"1\"}"), 1u) << text;
  EXPECT_EQ(after["token_service_sealed_values_not_under_active_key"], 0);
  bool build_info = false;
  for (const auto& [series, v] : after) {
    if (series.rfind("token_service_build_info{version=\"", 0) == 0 && v == 1) build_info = true;
  }
  EXPECT_TRUE(build_info) << text;
  // Pool usage exists with PostgreSQL only, group commit figures with SQLite only.
  EXPECT_EQ(after.count("token_service_store_pool_size"), GetParam().postgres ? 1u : 0u);
  EXPECT_EQ(after.count("token_service_store_write_batches_total"), GetParam().postgres ? 0u : 1u);
  if (!GetParam().postgres) {
    EXPECT_GE(delta("token_service_store_batched_writes_total"), 1);  // the PUT
    EXPECT_GE(delta("token_service_store_write_batches_total"), 1);
    EXPECT_EQ(after["token_service_store_write_queue_length"], 0);
  }
  // Privacy: no tenant, id, value or path as sent in any label.
  EXPECT_EQ(text.find(tenant), std::string::npos);
  EXPECT_EQ(text.find("t1"), std::string::npos);
  EXPECT_EQ(text.find(value), std::string::npos);
  EXPECT_EQ(text.find("/no/such"), std::string::npos);
  EXPECT_EQ(server->Stop(), 0);
}

// `promtool check metrics` (Debian package prometheus) parses and lints a real scrape.
TEST_P(ObservabilityTest, PromtoolAcceptsAScrape) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    if (std::getenv("TS_REQUIRE_PROMTOOL") != nullptr || std::getenv("CI") != nullptr) {
      FAIL() << "promtool is missing (scripts/install-deps --test-tools installs it)";
    }
    GTEST_SKIP() << "promtool not installed (Debian package prometheus; "
                    "scripts/install-deps --test-tools installs it)";
  }
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const std::string tenant = "promtool" + RandomHex(4);
  const std::string base = "/ai-service/" + tenant + "/agentic/tokens";
  EXPECT_EQ(Request(*server, "PUT", base + "/t1", Bearer(*server, tenant),
                    json::serialize(json::object{{"name", "n"}, {"value", "sv-" + RandomHex(8)}}))
                .status,
            201);
  EXPECT_EQ(Request(*server, "GET", "/nowhere").status, 404);
  const std::filesystem::path scrape = server->dir() / "scrape.txt";
  ASSERT_TRUE(WriteFile(scrape, Scrape(*server)));
  const std::filesystem::path report = server->dir() / "promtool.txt";
  const std::string command =
      "promtool check metrics < '" + scrape.string() + "' > '" + report.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "promtool check metrics failed:\n"
      << ReadFile(report) << "\n--- scrape ---\n"
      << ReadFile(scrape);
  EXPECT_EQ(server->Stop(), 0);
}

TEST_P(ObservabilityTest, RequestLogLinesCarryTheFieldsAndNoSecret) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const std::string tenant = "logs" + RandomHex(4);
  const std::string item = "/ai-service/" + tenant + "/agentic/tokens/t1";
  const std::string bearer = Bearer(*server, tenant);
  const std::string value = "sv-" + RandomHex(16);
  const std::string good_id = "req-" + RandomHex(6) + ".A_b";

  HttpResponse put = Request(*server, "PUT", item + "?note=" + value, bearer,
                             json::serialize(json::object{{"name", "n"}, {"value", value}}),
                             {{"X-Request-Id", good_id}});
  EXPECT_EQ(put.status, 201);
  EXPECT_EQ(put.Header("X-Request-Id").value_or(""), good_id);

  // Not well-formed (a slash, and then too long): replaced by a generated id, which is echoed.
  for (const std::string& bad : {std::string("bad/") + RandomHex(4), std::string(65, 'x')}) {
    HttpResponse get = Request(*server, "GET", item, bearer, std::nullopt, {{"X-Request-Id", bad}});
    EXPECT_EQ(get.status, 200);
    const std::string echoed = get.Header("X-Request-Id").value_or("");
    EXPECT_TRUE(std::regex_match(echoed, std::regex("[0-9a-f]{16}"))) << echoed;
    auto line = RequestLine(*server, echoed);
    ASSERT_TRUE(line) << "no request line for " << echoed << "\n" << server->StderrTail();
    EXPECT_EQ(line->at("status"), 200);
    EXPECT_EQ(ReadFile(server->stderr_file()).find(bad), std::string::npos);
  }

  auto line = RequestLine(*server, good_id);
  ASSERT_TRUE(line) << server->StderrTail();
  EXPECT_EQ(line->at("level"), "info");
  EXPECT_EQ(line->at("method"), "PUT");
  EXPECT_EQ(line->at("route"), kItemRoute);
  EXPECT_EQ(line->at("status"), 201);
  EXPECT_TRUE(line->at("duration_ms").is_number());
  EXPECT_EQ(line->at("tenant"), tenant.c_str());
  EXPECT_EQ(line->at("subject"), "blackbox-tests");
  EXPECT_TRUE(line->at("time").is_string());

  // An error answer is logged with its request id too.
  HttpResponse denied = Request(*server, "DELETE", item, std::nullopt, std::nullopt,
                                {{"X-Request-Id", good_id + "-denied"}});
  EXPECT_EQ(denied.status, 401);
  auto denied_line = RequestLine(*server, good_id + "-denied");
  ASSERT_TRUE(denied_line);
  EXPECT_EQ(denied_line->at("status"), 401);
  EXPECT_FALSE(denied_line->contains("subject"));

  EXPECT_EQ(server->Stop(), 0);
  const std::string err = ReadFile(server->stderr_file());
  EXPECT_EQ(err.find(value), std::string::npos) << "a value reached the log";
  EXPECT_EQ(err.find(bearer.substr(7)), std::string::npos) << "a bearer token reached the log";
  EXPECT_EQ(err.find("Bearer"), std::string::npos);
  EXPECT_EQ(err.find("?note="), std::string::npos) << "a query string reached the log";
  // Lifecycle events, in order.
  std::vector<std::string> events;
  for (const json::object& l : LogLines(*server)) {
    const json::value* event = l.if_contains("event");
    if (event && event->is_string()) events.emplace_back(event->as_string());
  }
  std::vector<std::string> lifecycle;
  for (const std::string& e : events) {
    if (e == "service.starting" || e == "http.listening" || e == "service.ready" ||
        e == "service.draining" || e == "http.stopped" || e == "service.stopped") {
      lifecycle.push_back(e);
    }
  }
  EXPECT_EQ(lifecycle,
            (std::vector<std::string>{"service.starting", "http.listening", "service.ready",
                                      "service.draining", "http.stopped", "service.stopped"}));
}

}  // namespace
}  // namespace bb
