// Fuzzes the request handler the server calls, ts::api::ApiRouter::Handle, wired to the real
// stack: the token, MCP server and agent handlers → their services → ValueBarrier
// (KeyRing::Generate) → SQLite store in a temporary directory (opened once per process),
// audited through the real file audit log writing to /dev/null. So fuzzed requests reach
// routing, authentication, the handlers, references between resources, `expand`, q compiled
// to SQL and the store. Tenant acme starts with an MCP server using one of its tokens and an
// agent using another token and that server.
//
// Input: one selector byte, then an HTTP-like request:
//   METHOD SP TARGET LF {NAME ":" VALUE LF} LF BODY
// selector % 8 chooses the bearer token put in front of the fuzzed headers (the router reads
// the first Authorization header): 0 none; 1 tenant acme, read+manage; 2 acme, read only;
// 3 acme, manage only; 4 tenant beta, read+manage; 5 acme, expired; 6 acme, no scope;
// 7 acme, read+manage as "bearer   <token>". Seeds start with an ASCII digit, so '1' is 1.
//
// Store state is reset after every successful write, so inputs replay the same way: every
// agent, MCP server and token is deleted and the seeds are planted again.
//
// Invariants: no 5xx and no status outside the contract's set; every body is JSON with a JSON
// Content-Type; error messages are bounded; no response header carries CR, LF or NUL; the
// contract's order of checks (without a valid token of the tenant with the operation's scope,
// nothing past the path syntax is answered: no 2xx, no validation 400, no 404 naming a
// resource, no 409/412/415); no response or audit line shows a stored value; tenant acme never
// sees tenant beta's token.
#include <stdlib.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/agent_handlers.h"
#include "api/mcp_server_handlers.h"
#include "api/router.h"
#include "api/token_handlers.h"
#include "auth/token_verifier.h"
#include "common/clock.h"
#include "crypto/key_ring.h"
#include "crypto/value_barrier.h"
#include "fuzz_support.h"
#include "http/message.h"
#include "service/audit_log.h"
#include "service/mismatch_throttle.h"
#include "service/agent_service.h"
#include "service/mcp_server_service.h"
#include "service/token_service.h"
#include "store/sqlite/sqlite_store.h"

namespace {

using ts::fuzz::kMaxPublicMessageBytes;

constexpr std::int64_t kNowMs = 1767225600000;  // 2026-01-01T00:00:00Z
constexpr std::int64_t kNow = kNowMs / 1000;
// A fixed test secret (not a real one): 40 bytes.
constexpr std::string_view kSecret = "fuzz-only-hs256-secret-0123456789abcdef!";
// The name of tenant beta's token; no 2xx for tenant acme may contain it, unless the input does.
constexpr std::string_view kBetaName = "beta-only-name-5e1f9a77c03d";

struct Seed {
  std::string tenant;
  std::string id;
  std::string name;
  std::string value;
};

const std::vector<Seed>& Seeds() {
  static const std::vector<Seed> seeds{
      {"acme", "openai-key", "OpenAI production", "CANARY-acme-openai-7c6a180b36896a0a8c02787eea"},
      {"acme", "mcp.github_1", "GitHub MCP", "CANARY-acme-github-e4da3b7fbbce2345d7772b0674"},
      {"acme", "search", "a token called search", "CANARY-acme-search-1679091c5a880faf6fb5e6087e"},
      {"beta", "openai-key", std::string(kBetaName),
       "CANARY-beta-openai-8f14e45fceea167a5a36dedd4b"},
  };
  return seeds;
}

// Substring search that is not instrumented for coverage: libFuzzer learns the operands of
// instrumented comparisons (and of memcmp/memmem), so checking for a stored value with
// std::string::find would teach the fuzzer that value and let it send it itself.
__attribute__((no_sanitize("coverage"), noinline)) bool HiddenContains(std::string_view haystack,
                                                                       std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    std::size_t k = 0;
    while (k < needle.size() && haystack[i + k] == needle[k]) ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

// True when `text` contains a stored value.
bool ShowsAValue(std::string_view text) {
  for (const Seed& seed : Seeds()) {
    if (HiddenContains(text, seed.value)) return true;
  }
  return false;
}

// Forwards to the real audit log and checks what reaches it.
class CheckingAuditLog final : public ts::service::AuditLog {
 public:
  explicit CheckingAuditLog(std::unique_ptr<ts::service::AuditLog> next) : next_(std::move(next)) {}

  void Record(const ts::service::AuditEvent& event) override {
    for (std::string_view field : {event.request_id, event.tenant, event.subject, event.action,
                                   event.token_id, event.outcome}) {
      FUZZ_CHECK(!ShowsAValue(field), "a value in the audit log");
      FUZZ_CHECK(!HiddenContains(field, kSecret), "the key in the audit log");
    }
    next_->Record(event);
  }

 private:
  std::unique_ptr<ts::service::AuditLog> next_;
};

struct Minted {
  std::string header;  // the Authorization value, empty: none
  std::string tenant;
  bool read = false;
  bool manage = false;
};

std::string Mint(std::string_view tenant, std::string_view scope, std::int64_t issued_at,
                 std::int64_t ttl) {
  auto token = ts::auth::MintHs256Token(kSecret, tenant, scope, "fuzzer", issued_at, ttl);
  FUZZ_CHECK(token.ok(), "minting a test token");
  return std::move(token).value();
}

class Stack {
 public:
  Stack() {
    FUZZ_CHECK(ts::crypto::InitCrypto().ok(), "libsodium");
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/ts-router-fuzz-XXXXXX";
    FUZZ_CHECK(::mkdtemp(pattern.data()) != nullptr, "temporary directory");
    dir_ = pattern;

    ts::store::SqliteOptions options;
    options.path = dir_ + "/tokens.db";
    options.synchronous = "NORMAL";
    options.read_connections = 1;
    auto store = ts::store::OpenSqliteStore(options);
    FUZZ_CHECK(store.ok(), "opening the SQLite store");
    store_ = std::move(store).value();
    auto audit = ts::service::OpenFileAuditLog("/dev/null", clock_, /*durable=*/false);
    FUZZ_CHECK(audit.ok(), "opening the audit log");
    audit_ = std::make_unique<CheckingAuditLog>(std::move(audit).value());
    barrier_ = std::make_unique<ts::crypto::ValueBarrier>(ts::crypto::KeyRing::Generate());
    throttle_ = std::make_unique<ts::service::MismatchThrottle>(clock_);
    service_ = std::make_unique<ts::service::TokenService>(*store_, *barrier_, clock_, *audit_,
                                                           *throttle_);
    handlers_ = std::make_unique<ts::api::TokenHandlers>(*service_);
    mcp_servers_ = std::make_unique<ts::service::McpServerService>(*store_, clock_, *audit_);
    mcp_handlers_ = std::make_unique<ts::api::McpServerHandlers>(*mcp_servers_);
    agents_ = std::make_unique<ts::service::AgentService>(*store_, clock_, *audit_);
    agent_handlers_ = std::make_unique<ts::api::AgentHandlers>(*agents_);
    ts::auth::VerifierOptions verifier_options;
    verifier_options.key = std::string(kSecret);
    auto verifier = ts::auth::TokenVerifier::Create(std::move(verifier_options));
    FUZZ_CHECK(verifier.ok(), "verifier");
    verifier_ = std::make_unique<ts::auth::TokenVerifier>(std::move(verifier).value());
    router_ = std::make_unique<ts::api::ApiRouter>(*verifier_, clock_, *audit_,
                                                   ts::api::OperationsEndpoints{});
    router_->AddResource({"tokens", "tokenId", handlers_.get()});
    router_->AddResource({"mcp-servers", "mcpServerId", mcp_handlers_.get()});
    router_->AddResource({"agents", "agentId", agent_handlers_.get()});
    PlantAll();

    const std::string both = "ai.agent_read ai.agent_manage";
    minted_ = {
        {},
        {"Bearer " + Mint("acme", both, kNow - 10, 86400 * 3650), "acme", true, true},
        {"Bearer " + Mint("acme", "ai.agent_read", kNow - 10, 86400), "acme", true, false},
        {"Bearer " + Mint("acme", "ai.agent_manage", kNow - 10, 86400), "acme", false, true},
        {"Bearer " + Mint("beta", both, kNow - 10, 86400), "beta", true, true},
        {"Bearer " + Mint("acme", both, kNow - 100000, 3600), "acme", false, false},
        {"Bearer " + Mint("acme", "", kNow - 10, 86400), "acme", false, false},
        {"bearer   " + Mint("acme", "openid " + both, kNow - 10, 86400), "acme", true, true},
    };
  }

  ~Stack() {
    router_.reset();
    agent_handlers_.reset();
    agents_.reset();
    mcp_handlers_.reset();
    mcp_servers_.reset();
    handlers_.reset();
    service_.reset();
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  ts::api::ApiRouter& router() { return *router_; }
  // TS_FUZZ_VERBOSE=1 prints each request's status (to check what seeds reach).
  bool verbose() const { return verbose_; }
  const Minted& minted(unsigned selector) const { return minted_[selector % minted_.size()]; }

  // Undoes a successful write: empties both tenants and plants the seeds again.
  void Reset() {
    for (const char* tenant : {"acme", "beta"}) {
      ts::store::ListQuery all;
      all.tenant = tenant;
      all.sort.push_back({"id", ts::query::FieldType::kString, false});
      all.limit = 1000;
      auto agents = store_->ListAgents(all);
      FUZZ_CHECK(agents.ok(), "listing agents to reset");
      for (const auto& agent : agents->items) {
        FUZZ_CHECK(store_->DeleteAgent(tenant, agent.id, {}).ok(), "resetting agents");
      }
      ts::store::DeleteRequest force;
      force.references = ts::store::ReferencePolicy::kRemove;
      auto servers = store_->ListMcpServers(all);
      FUZZ_CHECK(servers.ok(), "listing MCP servers to reset");
      for (const auto& server : servers->items) {
        FUZZ_CHECK(store_->DeleteMcpServer(tenant, server.id, force).ok(), "resetting servers");
      }
      auto tokens = store_->List(all);
      FUZZ_CHECK(tokens.ok(), "listing tokens to reset");
      for (const auto& token : tokens->items) {
        FUZZ_CHECK(store_->Delete(tenant, token.id, force).ok(), "resetting tokens");
      }
    }
    PlantAll();
  }

 private:
  void Plant(const Seed& seed) {
    ts::service::UpsertCommand command;
    command.id = seed.id;
    command.name = seed.name;
    command.value.emplace(seed.value);
    auto outcome = service_->Upsert({seed.tenant, "seed", "seed"}, std::move(command));
    FUZZ_CHECK(outcome.result.ok() && outcome.result->created, "planting a seed token");
  }

  void PlantAll() {
    for (const Seed& seed : Seeds()) Plant(seed);
    const ts::service::Caller caller{"acme", "seed", "seed"};
    ts::service::McpServerUpsertCommand server;
    server.resource.id = "orders";
    server.resource.name = "Orders MCP";
    server.resource.enabled = true;
    server.resource.transport = "streamable_http";
    server.resource.config.url = "https://mcp.example.com/orders";
    server.resource.config.authorization_header_name = "Authorization";
    server.resource.config.authorization_header_token_id = "mcp.github_1";
    FUZZ_CHECK(mcp_servers_->Upsert(caller, std::move(server)).ok(), "planting an MCP server");
    ts::service::AgentUpsertCommand agent;
    agent.resource.id = "complaints";
    agent.resource.name = {{"en", "Complaints"}};
    agent.resource.enabled = true;
    agent.resource.user_prompt = "Handle complaints.";
    agent.resource.llm_config.provider = "openai";
    agent.resource.llm_config.model = "gpt-4o";
    agent.resource.llm_config.temperature_tenths = 3;
    agent.resource.llm_config.token_id = "openai-key";
    agent.resource.mcp_servers = {{"custom", "orders", std::nullopt, std::nullopt},
                                  {"predefined", std::nullopt, "order",
                                   std::vector<std::string>{"get-order"}}};
    FUZZ_CHECK(agents_->Upsert(caller, std::move(agent)).ok(), "planting an agent");
  }

  ts::FakeClock clock_{kNowMs};
  std::string dir_;
  std::unique_ptr<ts::store::Store> store_;
  std::unique_ptr<ts::service::AuditLog> audit_;
  std::unique_ptr<ts::crypto::ValueBarrier> barrier_;
  std::unique_ptr<ts::service::MismatchThrottle> throttle_;
  std::unique_ptr<ts::service::TokenService> service_;
  std::unique_ptr<ts::api::TokenHandlers> handlers_;
  std::unique_ptr<ts::service::McpServerService> mcp_servers_;
  std::unique_ptr<ts::api::McpServerHandlers> mcp_handlers_;
  std::unique_ptr<ts::service::AgentService> agents_;
  std::unique_ptr<ts::api::AgentHandlers> agent_handlers_;
  std::unique_ptr<ts::auth::TokenVerifier> verifier_;
  std::unique_ptr<ts::api::ApiRouter> router_;
  std::vector<Minted> minted_;
  bool verbose_ = std::getenv("TS_FUZZ_VERBOSE") != nullptr;
};

Stack* stack = nullptr;

void DestroyStack() {
  delete stack;
  stack = nullptr;
}

// Splits "METHOD SP TARGET LF headers LF LF body" into a request.
ts::http::HttpRequest ParseRequest(std::string_view text) {
  ts::http::HttpRequest request;
  request.remote_address = "127.0.0.1";
  request.request_id = "fuzz0000000000000";
  auto take_line = [&text]() {
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  const std::string_view first = take_line();
  const std::size_t space = first.find(' ');
  request.method = first.substr(0, space);
  if (space != std::string_view::npos) request.target = first.substr(space + 1);
  while (!text.empty()) {
    const std::string_view line = take_line();
    if (line.empty()) break;
    const std::size_t colon = line.find(':');
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    request.headers.emplace_back(line.substr(0, colon), value);
  }
  request.body = text;
  return request;
}

std::optional<std::string_view> HeaderOf(const ts::http::HttpResponse& response,
                                         std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

void CheckErrorBody(int status, const boost::json::value& body) {
  FUZZ_CHECK(body.is_object(), "an error body is an object");
  const boost::json::object& object = body.as_object();
  if (status == 401) {
    FUZZ_CHECK(object.contains("fault"), "a 401 is a fault body");
    return;
  }
  const auto* code = object.if_contains("code");
  FUZZ_CHECK(code != nullptr && code->is_int64() && code->as_int64() == status,
             "the body's code is the status");
  const auto* message = object.if_contains("message");
  FUZZ_CHECK(message != nullptr && message->is_string() &&
                 message->as_string().size() <= kMaxPublicMessageBytes,
             "a bounded message");
  if (const auto* details = object.if_contains("details")) {
    FUZZ_CHECK(details->is_array(), "details are an array");
    for (const auto& detail : details->as_array()) {
      const auto* text = detail.is_object() ? detail.as_object().if_contains("message") : nullptr;
      FUZZ_CHECK(text != nullptr && text->is_string() &&
                     text->as_string().size() <= kMaxPublicMessageBytes,
                 "a bounded detail message");
    }
  }
}

bool IsContractStatus(int status) {
  switch (status) {
    case 200:
    case 201:
    case 204:
    case 400:
    case 401:
    case 403:
    case 404:
    case 405:
    case 409:
    case 412:
    case 415:
      return true;
    default:
      return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  stack = new Stack();
  std::atexit(DestroyStack);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input = ts::fuzz::AsText(data + 1, size - 1);
  const Minted& minted = stack->minted(data[0]);
  ts::http::HttpRequest request = ParseRequest(input);
  if (!minted.header.empty()) {
    request.headers.insert(request.headers.begin(), {"Authorization", minted.header});
  }
  const std::string method = request.method;
  const std::string target = request.target;

  ts::http::HttpResponse response = stack->router().Handle(request);

  const int status = response.status;
  if (stack->verbose()) {
    std::fprintf(stderr, "router_fuzz: %s %s -> %d (%zu bytes) %s\n", method.c_str(),
                 target.c_str(), status, response.body.size(),
                 response.body.substr(0, 300).c_str());
  }
  FUZZ_CHECK(status < 500, "a 5xx: " + std::to_string(status) + " " + response.body);
  FUZZ_CHECK(IsContractStatus(status), "status outside the contract: " + std::to_string(status));
  for (const auto& [name, value] : response.headers) {
    FUZZ_CHECK(!name.empty(), "an empty header name");
    for (char c : name + value) {
      FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0', "CR, LF or NUL in a response header");
    }
  }
  if (!response.body.empty()) {
    FUZZ_CHECK(HeaderOf(response, "Content-Type") == "application/json", "a JSON content type");
    boost::system::error_code ec;
    const boost::json::value body = boost::json::parse(response.body, ec);
    FUZZ_CHECK(!ec, "the body is not JSON: " + response.body.substr(0, 200));
    if (status >= 400) CheckErrorBody(status, body);
  }
  FUZZ_CHECK(status != 204 || response.body.empty(), "a 204 has no body");
  FUZZ_CHECK(!ShowsAValue(response.body), "a response shows a stored value");
  for (const auto& header : response.headers) {
    FUZZ_CHECK(!ShowsAValue(header.second), "a response header shows a stored value");
  }

  // The contract's order of checks: path syntax (400), then 401, then 403, and only then body
  // and query validation, lookups and locks. So a caller without a valid token of the tenant
  // with the operation's scope learns nothing past the path: no 2xx, no validation 400, no
  // 404 for a resource, no 409/412/415. One with such a token never gets a 401 or 403.
  auto url = boost::urls::parse_origin_form(target);
  std::vector<std::string> segments;
  if (url) {
    for (auto segment : url->segments()) segments.emplace_back(segment);
  }
  const bool tenant_path = segments.size() >= 2 && segments[0] == "ai-service";
  const bool read = method == "GET" || method == "POST";  // POST routes only to .../search
  const bool authorized = tenant_path && !minted.header.empty() && minted.tenant == segments[1] &&
                          (read ? minted.read : minted.manage);
  if (status == 405) FUZZ_CHECK(HeaderOf(response, "Allow").has_value(), "a 405 without Allow");
  if (tenant_path && !authorized) {
    FUZZ_CHECK(status == 400 || status == 401 || status == 403 || status == 404 || status == 405,
               "an unauthorized caller got " + std::to_string(status));
    if (status == 400 || status == 404) {
      const boost::json::value body = boost::json::parse(response.body);
      const boost::json::object& object = body.as_object();
      FUZZ_CHECK(!object.contains("resourceId"), "an unauthorized caller learns of a resource");
      if (const auto* details = object.if_contains("details")) {
        for (const auto& detail : details->as_array()) {
          const auto& field = detail.as_object().at("field");
          FUZZ_CHECK(field == "tenant" || field == "tokenId" || field == "mcpServerId" ||
                         field == "agentId",
                     "an unauthorized caller got past the path checks: " + response.body);
        }
      }
    }
  }
  if (authorized) FUZZ_CHECK(status != 401 && status != 403, "a valid token was refused");
  if (status < 300 && tenant_path) {
    FUZZ_CHECK(authorized, "a 2xx without a valid token of the tenant with the scope");
    if (segments[1] == "acme" && !HiddenContains(input, kBetaName)) {
      FUZZ_CHECK(!HiddenContains(response.body, kBetaName), "tenant acme sees tenant beta's token");
    }
  }
  if (status < 300 && tenant_path && segments.size() == 5 &&
      (method == "PUT" || method == "PATCH" || method == "DELETE")) {
    stack->Reset();
  }
  return 0;
}
