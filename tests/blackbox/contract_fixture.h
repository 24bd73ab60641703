// ContractTest: the base fixture of the contract tests. One server per test suite and backend
// (started lazily by the first test, stopped in TearDownTestSuite), unique tenants and ids per
// test so tests never depend on each other, request helpers, and checks that every test gets
// for free in TearDown:
//   - no response is a 5xx,
//   - every response carries `Cache-Control: no-store`,
//   - every error response is `Content-Type: application/json`,
//   - no secret value registered by the test (NewValue/RegisterSecret) appears in any
//     response header or body,
//   - the server is still alive.
// At the end of a suite the server's stdout, stderr and audit log are searched for every
// value the suite wrote (and, on PostgreSQL, for the database password).
// Requests may be made from several threads of one test (Call is thread-safe).
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blackbox/harness.h"
#include "blackbox/http_client.h"

namespace bb {

inline constexpr const char* kReadScope = "ai.agent_read";
inline constexpr const char* kManageScope = "ai.agent_manage";
inline constexpr const char* kBothScopes = "ai.agent_read ai.agent_manage";

// A fresh tenant and bearer header values for it.
struct Tenant {
  std::string name;
  std::string rw;      // "Bearer …" with both scopes
  std::string read;    // ai.agent_read only
  std::string manage;  // ai.agent_manage only
  std::string base;    // /ai-service/{tenant}/agentic/tokens
  std::string Item(const std::string& raw_id) const { return base + "/" + raw_id; }
};

class ContractTest : public ::testing::TestWithParam<Backend> {
 public:
  static void TearDownTestSuite();

 protected:
  void SetUp() override;
  void TearDown() override;

  ServerProcess& server() { return *server_; }
  std::uint16_t port() const { return server_->port(); }

  Tenant NewTenant();
  std::string NewId(const std::string& prefix = "tok");
  // A distinctive random value, registered as a secret that must never come back.
  std::string NewValue();
  // Registers `core` as a secret; returns it.
  std::string RegisterSecret(const std::string& core);
  std::string BearerFor(const std::string& tenant, const std::string& scope = kBothScopes,
                        std::int64_t ttl_seconds = 3600, std::int64_t iat_offset = 0);

  // One exchange. `authorization` is the raw Authorization header value, if any. A body gets
  // `Content-Type: application/json` unless `headers` names a Content-Type. The response is
  // recorded for the TearDown checks; a transport failure is a test failure (status 0).
  HttpResponse Call(const std::string& method, const std::string& target,
                    const std::optional<std::string>& authorization,
                    const std::optional<std::string>& body = std::nullopt,
                    const HeaderList& headers = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Raw bytes; records the response if there is one.
  ExchangeResult Raw(const std::string& bytes,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // GET /health/ready answers 200.
  bool ServerAlive();

  // JSON helpers.
  static std::string TokenBody(const std::string& name, const std::string& value);
  static std::string Serialize(const boost::json::value& value);
  boost::json::value ParseBody(const HttpResponse& response);

  // Creates a token (expects 201); returns whether it was created.
  bool Create(const Tenant& t, const std::string& id, const std::string& name,
              const std::string& value);
  // GET one token (expects 200); returns the object (empty on failure).
  boost::json::object Read(const Tenant& t, const std::string& id);
  std::int64_t VersionOf(const Tenant& t, const std::string& id);
  // GET the list with a raw query string (without '?'); expects 200; returns the array.
  boost::json::array List(const Tenant& t, const std::string& query = "");
  static std::vector<std::string> Ids(const boost::json::array& tokens);

  // Error shape checks (status, JSON Content-Type, code/status/message).
  void ExpectError(const HttpResponse& r, int code, const std::string& status_text);
  void ExpectBadRequest(const HttpResponse& r) { ExpectError(r, 400, "Bad Request"); }
  void ExpectForbidden(const HttpResponse& r) { ExpectError(r, 403, "Forbidden"); }
  void ExpectConflict(const HttpResponse& r) { ExpectError(r, 409, "Conflict"); }
  void ExpectPreconditionFailed(const HttpResponse& r) {
    ExpectError(r, 412, "Precondition Failed");
  }
  void ExpectNotFound(const HttpResponse& r, const std::string& resource_id);
  void ExpectUnauthorized(const HttpResponse& r, bool expired = false);
  // The message (or a details[].field / details[].message) mentions `text`.
  bool ErrorMentions(const HttpResponse& r, const std::string& text);

 private:
  struct SharedServer {
    std::unique_ptr<ServerProcess> process;
    std::string start_error;
  };
  static std::map<std::string, SharedServer>& Servers();
  static std::vector<std::string>& SuiteSecrets();
  static std::mutex& SuiteMutex();

  void Record(const HttpResponse& response);

  ServerProcess* server_ = nullptr;
  std::mutex mutex_;
  std::vector<HttpResponse> responses_;
  std::vector<std::string> secrets_;
};

// Timestamps the API shows: YYYY-MM-DDTHH:MM:SS.mmmZ. Returns epoch milliseconds if the text
// has exactly that form.
std::optional<std::int64_t> ParseApiTimestamp(const std::string& text);
std::int64_t NowMillis();

// `piece` repeated `count` times.
std::string Repeat(std::string_view piece, std::size_t count);
// Lowercase ASCII copy.
std::string Lower(std::string_view text);
// The longest run of `c` in `text`.
std::size_t LongestRun(std::string_view text, char c);
// Lenient accessors for assertions: a missing or mistyped value yields a marker that fails
// the comparison (and shows what was there) instead of throwing.
std::string Str(const boost::json::value& v);
std::int64_t Int(const boost::json::value& v);
// The value at a dotted path ("metadata.version"), or null.
boost::json::value At(const boost::json::value& v, std::string_view dotted_path);
// The object's keys, sorted.
std::vector<std::string> Keys(const boost::json::value& object);

#define BB_CONTRACT_SUITE(Name)                                                   \
  class Name : public ::bb::ContractTest {};                                      \
  INSTANTIATE_TEST_SUITE_P(Backends, Name, ::testing::ValuesIn(::bb::Backends()), \
                           ::bb::BackendName())

}  // namespace bb
