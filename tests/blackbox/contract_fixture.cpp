#include "blackbox/contract_fixture.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <ctime>
#include <limits>
#include <regex>

#include "support/pg_test_server.h"

namespace bb {
namespace json = boost::json;

std::map<std::string, ContractTest::SharedServer>& ContractTest::Servers() {
  static auto* servers = new std::map<std::string, SharedServer>();
  return *servers;
}

std::vector<std::string>& ContractTest::SuiteSecrets() {
  static auto* secrets = new std::vector<std::string>();
  return *secrets;
}

std::mutex& ContractTest::SuiteMutex() {
  static auto* mutex = new std::mutex();
  return *mutex;
}

void ContractTest::SetUp() {
  const Backend& backend = GetParam();
  SharedServer& shared = Servers()[backend.name];
  ASSERT_TRUE(shared.start_error.empty())
      << "the " << backend.name << " server failed to start earlier: " << shared.start_error;
  if (!shared.process) {
    ServerConfig config;
    config.backend = backend;
    std::string error;
    shared.process = ServerProcess::Start(config, &error);
    if (!shared.process) {
      shared.start_error = error;
      FAIL() << "cannot start token-service (" << backend.name << "): " << error;
    }
  }
  server_ = shared.process.get();
}

void ContractTest::TearDown() {
  if (server_ == nullptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const HttpResponse& r : responses_) {
    const std::string dump = r.Dump().substr(0, 2000);
    EXPECT_LT(r.status, 500) << "a 5xx is never expected:\n" << dump;
    auto cache_control = r.Header("Cache-Control");
    EXPECT_TRUE(cache_control && cache_control->find("no-store") != std::string::npos)
        << "every response carries Cache-Control: no-store:\n"
        << dump;
    if (r.status >= 400) {
      auto type = r.Header("Content-Type");
      EXPECT_TRUE(type && type->rfind("application/json", 0) == 0)
          << "every error is application/json:\n"
          << dump;
    }
    for (const std::string& secret : secrets_) {
      EXPECT_EQ(r.Dump().find(secret), std::string::npos)
          << "a token value came back in a response:\n"
          << dump;
    }
  }
  std::string status;
  if (!server_->Running(&status)) {
    ADD_FAILURE() << "the server died during this test (" << status << ")\n"
                  << server_->StderrTail();
    Servers().erase(GetParam().name);  // the next test starts a fresh one
  }
}

void ContractTest::TearDownTestSuite() {
  for (auto& [name, shared] : Servers()) {
    if (!shared.process) continue;
    int code = shared.process->Stop();
    EXPECT_EQ(code, 0) << "SIGTERM must stop the " << name << " server with exit code 0\n"
                       << shared.process->StderrTail();
    const std::string output = shared.process->AllOutput();
    for (const std::string& secret : SuiteSecrets()) {
      EXPECT_EQ(output.find(secret), std::string::npos)
          << "a token value appeared in the server's logs or audit log (" << name << ")";
    }
    if (!shared.process->database_url().empty()) {
      std::string ignored;
      if (const auto* pg = ts::pgtest::SharedPgTestServer(&ignored)) {
        EXPECT_EQ(output.find(pg->app_password()), std::string::npos)
            << "the database password appeared in the server's output (" << name << ")";
      }
    }
  }
  Servers().clear();
  SuiteSecrets().clear();
}

Tenant ContractTest::NewTenant() {
  Tenant t;
  t.name = "bb" + RandomHex(7);
  t.rw = BearerFor(t.name, kBothScopes);
  t.read = BearerFor(t.name, kReadScope);
  t.manage = BearerFor(t.name, kManageScope);
  t.base = "/ai-service/" + t.name + "/agentic/tokens";
  return t;
}

std::string ContractTest::NewId(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + RandomHex(4) + "-" + std::to_string(counter.fetch_add(1));
}

std::string ContractTest::NewValue() { return RegisterSecret("sv-" + RandomHex(16)); }

std::string ContractTest::RegisterSecret(const std::string& core) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    secrets_.push_back(core);
  }
  std::lock_guard<std::mutex> lock(SuiteMutex());
  SuiteSecrets().push_back(core);
  return core;
}

std::string ContractTest::BearerFor(const std::string& tenant, const std::string& scope,
                                    std::int64_t ttl_seconds, std::int64_t iat_offset) {
  return "Bearer " + MintToken(server_->jwt_secret(), tenant, scope, ttl_seconds, iat_offset);
}

HttpResponse ContractTest::Call(const std::string& method, const std::string& target,
                                const std::optional<std::string>& authorization,
                                const std::optional<std::string>& body, const HeaderList& headers,
                                std::chrono::milliseconds timeout) {
  HttpRequest request;
  request.method = method;
  request.target = target;
  if (authorization) request.headers.emplace_back("Authorization", *authorization);
  bool has_type = false;
  for (const auto& [n, v] : headers) {
    std::string lower;
    for (char c : n) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "content-type") has_type = true;
  }
  if (body && !has_type) request.headers.emplace_back("Content-Type", "application/json");
  request.headers.insert(request.headers.end(), headers.begin(), headers.end());
  request.body = body;
  ClientOptions options;
  options.timeout = timeout;
  ExchangeResult result = Send(port(), request, options);
  if (!result.ok) {
    ADD_FAILURE() << method << " " << target.substr(0, 200) << ": no response: " << result.error;
    return HttpResponse{};
  }
  Record(result.response);
  return result.response;
}

ExchangeResult ContractTest::Raw(const std::string& bytes, std::chrono::milliseconds timeout) {
  ClientOptions options;
  options.timeout = timeout;
  ExchangeResult result = SendRaw(port(), bytes, options);
  if (result.ok) Record(result.response);
  return result;
}

void ContractTest::Record(const HttpResponse& response) {
  std::lock_guard<std::mutex> lock(mutex_);
  responses_.push_back(response);
}

bool ContractTest::ServerAlive() {
  HttpResponse r = Call("GET", "/health/ready", std::nullopt);
  return r.status == 200;
}

std::string ContractTest::TokenBody(const std::string& name, const std::string& value) {
  return Serialize(json::object{{"name", name}, {"value", value}});
}

std::string ContractTest::Serialize(const json::value& value) { return json::serialize(value); }

json::value ContractTest::ParseBody(const HttpResponse& response) {
  boost::system::error_code ec;
  json::value v = json::parse(response.body, ec);
  if (ec) {
    ADD_FAILURE() << "response body is not JSON (" << ec.message() << "):\n"
                  << response.Dump().substr(0, 2000);
    return nullptr;
  }
  return v;
}

bool ContractTest::Create(const Tenant& t, const std::string& id, const std::string& name,
                          const std::string& value) {
  HttpResponse r = Call("PUT", t.Item(id), t.rw, TokenBody(name, value));
  EXPECT_EQ(r.status, 201) << "create " << id << ":\n" << r.Dump().substr(0, 2000);
  return r.status == 201;
}

json::object ContractTest::Read(const Tenant& t, const std::string& id) {
  HttpResponse r = Call("GET", t.Item(id), t.rw);
  EXPECT_EQ(r.status, 200) << "GET " << id << ":\n" << r.Dump().substr(0, 2000);
  if (r.status != 200) return {};
  json::value v = ParseBody(r);
  if (!v.is_object()) {
    ADD_FAILURE() << "GET " << id << " is not an object: " << r.body;
    return {};
  }
  return v.as_object();
}

std::int64_t ContractTest::VersionOf(const Tenant& t, const std::string& id) {
  json::object token = Read(t, id);
  const json::value* version = token.if_contains("metadata");
  if (version == nullptr || !version->is_object()) return -1;
  const json::value* v = version->as_object().if_contains("version");
  if (v == nullptr || !v->is_int64()) return -1;
  return v->as_int64();
}

json::array ContractTest::List(const Tenant& t, const std::string& query) {
  HttpResponse r = Call("GET", query.empty() ? t.base : t.base + "?" + query, t.rw);
  EXPECT_EQ(r.status, 200) << "GET list ?" << query << ":\n" << r.Dump().substr(0, 2000);
  if (r.status != 200) return {};
  json::value v = ParseBody(r);
  if (!v.is_array()) {
    ADD_FAILURE() << "list is not an array: " << r.body.substr(0, 2000);
    return {};
  }
  return v.as_array();
}

std::vector<std::string> ContractTest::Ids(const json::array& tokens) {
  std::vector<std::string> ids;
  for (const json::value& token : tokens) {
    const json::value* id = token.is_object() ? token.as_object().if_contains("id") : nullptr;
    ids.push_back(id != nullptr && id->is_string() ? std::string(id->as_string()) : "<no id>");
  }
  return ids;
}

void ContractTest::ExpectError(const HttpResponse& r, int code, const std::string& status_text) {
  EXPECT_EQ(r.status, code) << r.Dump().substr(0, 2000);
  auto type = r.Header("Content-Type");
  EXPECT_TRUE(type && type->rfind("application/json", 0) == 0)
      << "error Content-Type: " << type.value_or("<none>");
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  ASSERT_FALSE(ec) << "error body is not JSON: " << r.body.substr(0, 500);
  ASSERT_TRUE(v.is_object()) << r.body.substr(0, 500);
  const json::object& o = v.as_object();
  const json::value* c = o.if_contains("code");
  ASSERT_NE(c, nullptr) << "error body has no code: " << r.body.substr(0, 500);
  EXPECT_TRUE(c->is_int64() && c->as_int64() == code) << r.body.substr(0, 500);
  const json::value* s = o.if_contains("status");
  ASSERT_NE(s, nullptr) << "error body has no status: " << r.body.substr(0, 500);
  ASSERT_TRUE(s->is_string()) << r.body.substr(0, 500);
  if (!status_text.empty()) {
    EXPECT_EQ(std::string(s->as_string()), status_text) << r.body.substr(0, 500);
  } else {
    EXPECT_FALSE(s->as_string().empty());
  }
  const json::value* m = o.if_contains("message");
  ASSERT_NE(m, nullptr) << "error body has no message: " << r.body.substr(0, 500);
  EXPECT_TRUE(m->is_string() && !m->as_string().empty()) << r.body.substr(0, 500);
  if (const json::value* d = o.if_contains("details")) {
    ASSERT_TRUE(d->is_array()) << "details must be an array: " << r.body.substr(0, 500);
    for (const json::value& detail : d->as_array()) EXPECT_TRUE(detail.is_object());
  }
}

void ContractTest::ExpectNotFound(const HttpResponse& r, const std::string& resource_id) {
  ExpectError(r, 404, "Not Found");
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return;
  const json::value* id = v.as_object().if_contains("resourceId");
  ASSERT_NE(id, nullptr) << "a token 404 carries resourceId: " << r.body;
  EXPECT_TRUE(id->is_string() && id->as_string() == resource_id) << r.body;
}

void ContractTest::ExpectUnauthorized(const HttpResponse& r, bool expired) {
  EXPECT_EQ(r.status, 401) << r.Dump().substr(0, 2000);
  auto type = r.Header("Content-Type");
  EXPECT_TRUE(type && type->rfind("application/json", 0) == 0)
      << "401 Content-Type: " << type.value_or("<none>");
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  ASSERT_FALSE(ec) << "401 body is not JSON: " << r.body.substr(0, 500);
  json::value expected =
      expired
          ? json::parse(R"({"fault":{"faultstring":"Access Token expired",)"
                        R"("detail":{"errorcode":"keymanagement.service.access_token_expired"}}})")
          : json::parse(R"({"fault":{"faultstring":"Invalid access token",)"
                        R"("detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}})");
  EXPECT_EQ(v, expected) << "401 body: " << r.body.substr(0, 500);
}

bool ContractTest::ErrorMentions(const HttpResponse& r, const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return false;
  const json::object& o = v.as_object();
  auto contains = [&](const json::value* s) {
    return s != nullptr && s->is_string() &&
           std::string_view(s->as_string()).find(text) != std::string_view::npos;
  };
  if (contains(o.if_contains("message"))) return true;
  if (const json::value* d = o.if_contains("details"); d != nullptr && d->is_array()) {
    for (const json::value& detail : d->as_array()) {
      if (!detail.is_object()) continue;
      if (contains(detail.as_object().if_contains("field")) ||
          contains(detail.as_object().if_contains("message"))) {
        return true;
      }
    }
  }
  return false;
}

std::optional<std::int64_t> ParseApiTimestamp(const std::string& text) {
  static const std::regex kFormat(R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$)");
  std::smatch m;
  if (!std::regex_match(text, m, kFormat)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(::timegm(&tm)) * 1000 + std::stoi(m[7]);
}

std::int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Repeat(std::string_view piece, std::size_t count) {
  std::string out;
  out.reserve(piece.size() * count);
  for (std::size_t i = 0; i < count; ++i) out += piece;
  return out;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::size_t LongestRun(std::string_view text, char c) {
  std::size_t best = 0;
  std::size_t run = 0;
  for (char x : text) {
    run = x == c ? run + 1 : 0;
    best = std::max(best, run);
  }
  return best;
}

std::string Str(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  return "<not a string: " + json::serialize(v) + ">";
}

std::int64_t Int(const json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v.as_uint64());
  }
  return std::numeric_limits<std::int64_t>::min();
}

json::value At(const json::value& v, std::string_view dotted_path) {
  const json::value* current = &v;
  while (!dotted_path.empty()) {
    std::size_t dot = dotted_path.find('.');
    std::string_view key = dotted_path.substr(0, dot);
    if (!current->is_object()) return nullptr;
    current = current->as_object().if_contains(key);
    if (current == nullptr) return nullptr;
    dotted_path = dot == std::string_view::npos ? std::string_view() : dotted_path.substr(dot + 1);
  }
  return *current;
}

std::vector<std::string> Keys(const json::value& object) {
  std::vector<std::string> keys;
  if (!object.is_object()) return keys;
  for (const auto& kv : object.as_object()) keys.emplace_back(kv.key());
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace bb
