#include "store/postgres/pg_store.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

#include "common/log.h"
#include "store/agent_doc.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_migrations.h"
#include "store/postgres/pg_query.h"

namespace ts::store {
namespace {

using postgres::PgConnection;
using postgres::PgConnectOptions;
using postgres::PgParam;
using postgres::PgResult;
using Clock = std::chrono::steady_clock;

constexpr int kMaxPoolSize = 1000;
// Rows per FETCH when a regex query scans candidates: large enough to amortize the round
// trip, small enough that an early stop wastes little.
constexpr int kFetchBatch = 500;
// After a failed connect, further connects fail at once for this long, so a database that is
// down (or a host that swallows packets for connect_timeout) is answered with a quick 503 by
// every request instead of one slow attempt each.
constexpr std::chrono::milliseconds kReconnectBackoff{250};
// Migrations may wait for another replica's migrations (the advisory lock) and may rewrite
// tables; they get far more time than a request.
constexpr std::chrono::minutes kMigrationTimeout{10};
constexpr std::int64_t kMaxReserve = 1000;

constexpr const char* kGetSql =
    "SELECT id, name, sealed_value, version, created_at, modified_at, key_id FROM tokens"
    " WHERE tenant = $1 AND id = $2";
// The primary key decides a create atomically; a prior SELECT would race with other replicas.
constexpr const char* kInsertSql =
    "INSERT INTO tokens (tenant, id, name, sealed_value, version, created_at, modified_at,"
    " key_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant, id) DO NOTHING";
// The version check is part of the UPDATE: under READ COMMITTED a concurrent writer makes this
// one wait for its row lock and then re-check the condition on the new row, so two writers
// can never both see one version; zero rows means another write (or a delete) won.
constexpr const char* kUpdateSql =
    "UPDATE tokens SET name = $1, modified_at = $2, version = version + 1"
    " WHERE tenant = $3 AND id = $4 AND version = $5";
constexpr const char* kTokenVersionSql = "SELECT version FROM tokens WHERE tenant = $1 AND id = $2";
// Deletes exactly the version the transaction read: zero rows means a concurrent write got in
// between, and the whole delete runs again on the new state.
constexpr const char* kDeleteTokenSql =
    "DELETE FROM tokens WHERE tenant = $1 AND id = $2 AND version = $3";
// Who references a token: MCP servers (one column) and agents (two columns, both reported).
constexpr const char* kTokenReferrersSql =
    "SELECT id FROM mcp_servers WHERE tenant = $1 AND auth_token_id = $2 ORDER BY id";
// RETURNING reports exactly the rows this statement changed (READ COMMITTED gives it a newer
// snapshot than an earlier SELECT would have had).
constexpr const char* kRemoveTokenReferencesSql =
    "UPDATE mcp_servers SET auth_token_id = NULL, version = version + 1, modified_at = $1"
    " WHERE tenant = $2 AND auth_token_id = $3 RETURNING id";
constexpr const char* kAgentTokenReferrersSql =
    "SELECT id, llm_token_id, sh_token_id FROM agents"
    " WHERE tenant = $1 AND (llm_token_id = $2 OR sh_token_id = $2) ORDER BY id";
// The agents whose token reference a forced delete removes, locked in id order (as every
// writer of several agents locks them). Under READ COMMITTED a row updated concurrently is
// re-read and re-checked after the lock, so the values returned are the ones the removal
// changes; an agent that gains the reference later fails the token's DELETE (23503).
constexpr const char* kLockAgentTokenReferrersSql =
    "SELECT id, llm_token_id, sh_token_id FROM agents"
    " WHERE tenant = $1 AND (llm_token_id = $2 OR sh_token_id = $2) ORDER BY id FOR UPDATE";
constexpr const char* kRemoveAgentTokenReferenceSql =
    "UPDATE agents SET"
    " llm_token_id = CASE WHEN llm_token_id = $1 THEN NULL ELSE llm_token_id END,"
    " sh_token_id = CASE WHEN sh_token_id = $1 THEN NULL ELSE sh_token_id END,"
    " version = version + 1, modified_at = $2 WHERE tenant = $3 AND id = $4";
constexpr const char* kGetMcpServerSql =
    "SELECT id, name, enabled, type, transport, url, auth_header_name, auth_token_id, version,"
    " created_at, modified_at FROM mcp_servers WHERE tenant = $1 AND id = $2";
constexpr const char* kInsertMcpServerSql =
    "INSERT INTO mcp_servers (tenant, id, name, enabled, type, transport, url, auth_header_name,"
    " auth_token_id, version, created_at, modified_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    " ON CONFLICT (tenant, id) DO NOTHING";
// As kUpdateSql: the version check is part of the UPDATE.
constexpr const char* kUpdateMcpServerSql =
    "UPDATE mcp_servers SET name = $1, enabled = $2, type = $3, transport = $4, url = $5,"
    " auth_header_name = $6, auth_token_id = $7, modified_at = $8, version = version + 1"
    " WHERE tenant = $9 AND id = $10 AND version = $11";
constexpr const char* kMcpServerVersionSql =
    "SELECT version FROM mcp_servers WHERE tenant = $1 AND id = $2";
constexpr const char* kDeleteMcpServerSql =
    "DELETE FROM mcp_servers WHERE tenant = $1 AND id = $2 AND version = $3";
// The columns are postgres::AgentTable().select_columns, so AgentFromRow reads both.
constexpr const char* kGetAgentSql =
    "SELECT id, enabled, type, provider, model, llm_token_id, sh_token_id, version, created_at,"
    " modified_at, doc FROM agents WHERE tenant = $1 AND id = $2";
constexpr const char* kLockAgentSql =
    "SELECT id, enabled, type, provider, model, llm_token_id, sh_token_id, version, created_at,"
    " modified_at, doc FROM agents WHERE tenant = $1 AND id = $2 FOR UPDATE";
constexpr const char* kAgentVersionSql = "SELECT version FROM agents WHERE tenant = $1 AND id = $2";
constexpr const char* kInsertAgentSql =
    "INSERT INTO agents (tenant, id, enabled, type, provider, model, llm_token_id, sh_token_id,"
    " doc, version, created_at, modified_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    " ON CONFLICT (tenant, id) DO NOTHING";
// As kUpdateSql: the version check is part of the UPDATE.
constexpr const char* kUpdateAgentSql =
    "UPDATE agents SET enabled = $3, type = $4, provider = $5, model = $6, llm_token_id = $7,"
    " sh_token_id = $8, doc = $9, modified_at = $10, version = version + 1"
    " WHERE tenant = $1 AND id = $2 AND version = $11";
constexpr const char* kDeleteAgentSql =
    "DELETE FROM agents WHERE tenant = $1 AND id = $2 AND version = $3";
constexpr const char* kClearAgentServersSql =
    "DELETE FROM agent_mcp_servers WHERE tenant = $1 AND agent_id = $2";
constexpr const char* kInsertAgentServerSql =
    "INSERT INTO agent_mcp_servers (tenant, agent_id, mcp_server_id) VALUES ($1, $2, $3)";
constexpr const char* kDeleteAgentServerSql =
    "DELETE FROM agent_mcp_servers WHERE tenant = $1 AND agent_id = $2 AND mcp_server_id = $3";
constexpr const char* kTokenExistsSql = "SELECT 1 FROM tokens WHERE tenant = $1 AND id = $2";
constexpr const char* kMcpServerExistsSql =
    "SELECT 1 FROM mcp_servers WHERE tenant = $1 AND id = $2";
// Who uses an MCP server, with the documents that say at which index.
constexpr const char* kMcpServerUsersSql =
    "SELECT a.id, a.enabled, a.type, a.provider, a.model, a.llm_token_id, a.sh_token_id,"
    " a.version, a.created_at, a.modified_at, a.doc"
    " FROM agent_mcp_servers m JOIN agents a ON a.tenant = m.tenant AND a.id = m.agent_id"
    " WHERE m.tenant = $1 AND m.mcp_server_id = $2 ORDER BY a.id";
// The enabled agents using an MCP server, locked (agents before MCP servers: the order of every
// writer of both), as kMcpServerUsersSql.
constexpr const char* kLockEnabledMcpServerUsersSql =
    "SELECT a.id, a.enabled, a.type, a.provider, a.model, a.llm_token_id, a.sh_token_id,"
    " a.version, a.created_at, a.modified_at, a.doc"
    " FROM agent_mcp_servers m JOIN agents a ON a.tenant = m.tenant AND a.id = m.agent_id"
    " WHERE m.tenant = $1 AND m.mcp_server_id = $2 AND a.enabled = 1 ORDER BY a.id"
    " FOR UPDATE OF a";
constexpr const char* kMcpServerEnabledAtVersionSql =
    "SELECT enabled FROM mcp_servers WHERE tenant = $1 AND id = $2 AND version = $3";
constexpr const char* kDisableAgentSql =
    "UPDATE agents SET enabled = 0, version = version + 1, modified_at = $1"
    " WHERE tenant = $2 AND id = $3 AND enabled = 1";
constexpr const char* kMcpServerUserIdsSql =
    "SELECT agent_id FROM agent_mcp_servers WHERE tenant = $1 AND mcp_server_id = $2"
    " ORDER BY agent_id";
constexpr const char* kWriteAgentDocSql =
    "UPDATE agents SET doc = $1, version = version + 1, modified_at = $2"
    " WHERE tenant = $3 AND id = $4";
constexpr std::string_view kAgentKind = "agent";
constexpr std::string_view kAgentLlmTokenField = "llmConfig.token.id";
constexpr std::string_view kAgentShTokenField =
    "llmConfig.selfHostedParams.authorizationHeaderToken.id";
constexpr std::string_view kMcpServerKind = "mcpServer";
constexpr std::string_view kMcpServerTokenField = "config.authorizationHeaderToken.id";
// foreign_key_violation: a reference to a row that does not exist (insert/update of a
// referrer), or a delete of a row that gained a referrer concurrently.
constexpr std::string_view kForeignKeyViolation = "23503";
// How often a delete (or an agent write) runs again when concurrent writers changed what it
// read.
constexpr int kDeleteAttempts = 5;
// Error::internal of a delete attempt that must run again; never leaves this file.
constexpr std::string_view kRetryDelete = "postgres store: delete raced, run it again";
constexpr const char* kGetSettingSql = "SELECT value FROM settings WHERE name = $1";
constexpr const char* kInsertSettingSql =
    "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
constexpr const char* kSwapSettingSql =
    "UPDATE settings SET value = $1 WHERE name = $2 AND value = $3";
// key_id is never negative (CHECK), so -1 means "skip nothing" with one statement per shape.
constexpr const char* kListSealedFirstSql =
    "SELECT tenant, id, sealed_value, key_id FROM tokens WHERE key_id <> $1"
    " ORDER BY tenant, id LIMIT $2";
constexpr const char* kListSealedAfterSql =
    "SELECT tenant, id, sealed_value, key_id FROM tokens WHERE (tenant, id) > ($1, $2)"
    " AND key_id <> $3 ORDER BY tenant, id LIMIT $4";
// Comparing the whole value makes it a compare-and-swap against concurrent writers.
constexpr const char* kSwapSealedSql =
    "UPDATE tokens SET sealed_value = $1, key_id = $2"
    " WHERE tenant = $3 AND id = $4 AND sealed_value = $5";
constexpr const char* kCountByKeyIdSql = "SELECT key_id, count(*) FROM tokens GROUP BY key_id";
// Touches our own table (a bare SELECT 1 would not notice a missing schema or permission).
constexpr const char* kPingSql = "SELECT max(version) FROM schema_migrations";
constexpr const char* kCursorName = "ts_list";

std::int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

// Every public entry point runs inside this, so an exception (std::bad_alloc, a malformed
// column) becomes an Error instead of crossing the module boundary.
template <typename Fn>
auto NoThrow(std::string_view what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Error::Internal("postgres store " + std::string(what) + ": " + e.what());
  } catch (...) {
    return Error::Internal("postgres store " + std::string(what) + ": unknown exception");
  }
}

// A fixed number of connection slots, each lent to one thread at a time. A slot's connection
// is opened on first use and thrown away when it breaks, so the pool heals itself once the
// database is reachable again. Waiting for a free slot is bounded.
class ConnectionPool {
 public:
  class Lease {
   public:
    Lease(ConnectionPool* pool, int slot, bool fresh) : pool_(pool), slot_(slot), fresh_(fresh) {}
    Lease(Lease&& other) noexcept
        : pool_(other.pool_), slot_(std::exchange(other.slot_, -1)), fresh_(other.fresh_) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (slot_ >= 0) pool_->Release(slot_);
    }
    PgConnection& conn() const { return *pool_->slots_[static_cast<std::size_t>(slot_)]; }
    // Opened for this lease (so a failure cannot be blamed on a stale pooled connection).
    bool fresh() const { return fresh_; }

   private:
    ConnectionPool* pool_;
    int slot_;
    bool fresh_;
  };

  ConnectionPool(PgConnectOptions options, int size, std::chrono::milliseconds wait,
                 std::unique_ptr<PgConnection> first)
      : options_(std::move(options)), wait_(wait), slots_(static_cast<std::size_t>(size)) {
    slots_[0] = std::move(first);
    if (slots_[0]) open_.store(1);
    // Slot 0 (already connected) is handed out first.
    for (int i = size - 1; i >= 0; --i) idle_.push_back(i);
  }

  Result<Lease> Acquire(std::string_view what) {
    int slot = -1;
    {
      std::unique_lock lock(mu_);
      if (idle_.empty()) waits_.fetch_add(1, std::memory_order_relaxed);
      if (!cv_.wait_for(lock, wait_, [&] { return !idle_.empty(); })) {
        timeouts_.fetch_add(1, std::memory_order_relaxed);
        return Error::Unavailable("postgres store " + std::string(what) +
                                  ": no pooled connection free within the statement timeout");
      }
      slot = idle_.back();
      idle_.pop_back();
    }
    // Only the lease holder touches a slot's connection, so no lock is needed below.
    auto& conn = slots_[static_cast<std::size_t>(slot)];
    if (conn && !conn->LooksAlive()) Discard(conn);
    if (conn) return Lease(this, slot, false);

    if (SteadyMillis() - last_connect_failure_ms_.load() < kReconnectBackoff.count()) {
      Release(slot);
      return Error::Unavailable("postgres store " + std::string(what) +
                                ": database unreachable (a connect failed just now)");
    }
    auto connected = PgConnection::Connect(options_);
    if (!connected.ok()) {
      last_connect_failure_ms_.store(SteadyMillis());
      Release(slot);
      return std::move(connected).error();
    }
    conn = std::move(connected).value();
    open_.fetch_add(1, std::memory_order_relaxed);
    return Lease(this, slot, true);
  }

  // A snapshot for /metrics.
  metrics::PoolUsage Usage() {
    metrics::PoolUsage usage;
    usage.size = static_cast<std::int64_t>(slots_.size());
    usage.open = open_.load(std::memory_order_relaxed);
    {
      std::lock_guard lock(mu_);
      usage.in_use = usage.size - static_cast<std::int64_t>(idle_.size());
    }
    usage.waits = waits_.load(std::memory_order_relaxed);
    usage.timeouts = timeouts_.load(std::memory_order_relaxed);
    return usage;
  }

 private:
  void Release(int slot) {
    auto& conn = slots_[static_cast<std::size_t>(slot)];
    if (conn && conn->broken()) Discard(conn);  // reconnect on the next lease
    {
      std::lock_guard lock(mu_);
      idle_.push_back(slot);
    }
    cv_.notify_one();
  }

  void Discard(std::unique_ptr<PgConnection>& conn) {
    conn.reset();
    open_.fetch_sub(1, std::memory_order_relaxed);
  }

  const PgConnectOptions options_;
  const std::chrono::milliseconds wait_;
  std::vector<std::unique_ptr<PgConnection>> slots_;  // slot i: only its lease holder's
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int> idle_;  // guarded by mu_
  std::atomic<std::int64_t> open_{0};
  std::atomic<std::uint64_t> waits_{0};
  std::atomic<std::uint64_t> timeouts_{0};
  std::atomic<std::int64_t> last_connect_failure_ms_{std::numeric_limits<std::int64_t>::min() / 2};
};

// Whether a failed call may run again on another connection.
enum class Retry {
  kNever,       // a write whose outcome is unknown once the connection broke
  kIdempotent,  // a read: safe to repeat
};

std::int64_t KeyIdParam(std::optional<std::uint32_t> key_id) {
  return key_id ? std::int64_t{*key_id} : -1;
}

class PostgresTokenStore final : public Store {
 public:
  explicit PostgresTokenStore(std::unique_ptr<ConnectionPool> pool) : pool_(std::move(pool)) {}

  std::optional<metrics::PoolUsage> ConnectionPoolUsage() const override { return pool_->Usage(); }

  Result<std::optional<TokenRecord>> Get(std::string_view tenant, std::string_view id) override {
    using Out = std::optional<TokenRecord>;
    return NoThrow("get", [&]() -> Result<Out> {
      const PgParam params[] = {PgParam::Text(tenant), PgParam::Text(id)};
      return Run<Out>("get", Retry::kIdempotent, [&](PgConnection& conn) -> Result<Out> {
        auto result = conn.Exec(kGetSql, params, true);
        if (!result.ok()) return std::move(result).error();
        if (result->rows() == 0) return Out();
        TokenRecord record;
        record.token.id = result->Text(0, 0);
        record.token.name = result->Text(0, 1);
        record.sealed_value = result->Blob(0, 2);
        record.token.metadata.version = result->Int8(0, 3);
        record.token.metadata.created_at_ms = result->Int8(0, 4);
        record.token.metadata.modified_at_ms = result->Int8(0, 5);
        record.key_id = static_cast<std::uint32_t>(result->Int8(0, 6));
        return Out(std::move(record));
      });
    });
  }

  Result<ListPage> List(const ListQuery& query) override {
    return NoThrow("list", [&]() -> Result<ListPage> {
      return ListRows<domain::Token>(query, postgres::TokenTable(), TokenFromRow);
    });
  }

  Result<Page<domain::McpServer>> ListMcpServers(const ListQuery& query) override {
    return NoThrow("list mcp servers", [&]() -> Result<Page<domain::McpServer>> {
      return ListRows<domain::McpServer>(query, postgres::McpServerTable(), McpServerFromRow);
    });
  }

  Result<void> Insert(std::string_view tenant, const TokenRecord& record) override {
    return NoThrow("insert", [&]() -> Result<void> {
      const PgParam params[] = {PgParam::Text(tenant),
                                PgParam::Text(record.token.id),
                                PgParam::Bytea(std::string_view(record.token.name)),
                                PgParam::Bytea(record.sealed_value),
                                PgParam::Int8(record.token.metadata.version),
                                PgParam::Int8(record.token.metadata.created_at_ms),
                                PgParam::Int8(record.token.metadata.modified_at_ms),
                                PgParam::Int8(record.key_id)};
      return Run<void>("insert", Retry::kNever, [&](PgConnection& conn) -> Result<void> {
        auto result = conn.Exec(kInsertSql, params, true);
        if (!result.ok()) {
          // ON CONFLICT covers the primary key; a database that reports it anyway is no
          // different.
          if (conn.last_sqlstate() == "23505") {
            return Error::Conflict("A token with this id already exists");
          }
          return std::move(result).error();
        }
        if (result->affected() != 1) return Error::Conflict("A token with this id already exists");
        return Ok();
      });
    });
  }

  Result<void> Update(std::string_view tenant, const domain::Token& updated,
                      std::int64_t expected_version) override {
    return NoThrow("update", [&]() -> Result<void> {
      const PgParam params[] = {PgParam::Bytea(std::string_view(updated.name)),
                                PgParam::Int8(updated.metadata.modified_at_ms),
                                PgParam::Text(tenant), PgParam::Text(updated.id),
                                PgParam::Int8(expected_version)};
      return Run<void>("update", Retry::kNever, [&](PgConnection& conn) -> Result<void> {
        auto result = conn.Exec(kUpdateSql, params, true);
        if (!result.ok()) return std::move(result).error();
        if (result->affected() != 1) {
          return Error::Conflict("The token was changed or deleted concurrently");
        }
        return Ok();
      });
    });
  }

  // READ COMMITTED, one transaction per attempt: read the version, deal with the referrers,
  // delete exactly that version. A concurrent referrer update either commits first (the
  // reference removal waits for its row lock, then re-reads the row and still removes the
  // reference) or runs after (its `WHERE version = N` meets N + 1: kConflict). A referrer that
  // gains a reference to this token after the referrers were handled makes the DELETE fail
  // its foreign key (23503); then everything rolls back and the attempt repeats, and sees it.
  // Both transactions lock the referrer row before the token row, so they cannot deadlock on
  // each other (40P01 is retried anyway, by Run).
  Result<DeleteResult> Delete(std::string_view tenant, std::string_view id,
                              const DeleteRequest& request) override {
    return NoThrow("delete", [&]() -> Result<DeleteResult> {
      return DeleteRepeatedly("delete", [&](PgConnection& conn) -> Result<DeleteResult> {
        const PgParam key[] = {PgParam::Text(tenant), PgParam::Text(id)};
        auto version = ReadVersion(conn, kTokenVersionSql, key);
        if (!version.ok()) return std::move(version).error();
        if (!version->has_value()) return DeleteResult{DeleteOutcome::kAbsent, {}};
        if (request.expected_version && **version != *request.expected_version) {
          return DeleteResult{DeleteOutcome::kVersionMismatch, {}};
        }
        std::vector<Referrer> referrers;
        if (request.references == ReferencePolicy::kRefuse) {
          auto agents = conn.Exec(kAgentTokenReferrersSql, key, true);
          if (!agents.ok()) return std::move(agents).error();
          AppendAgentTokenReferrers(*agents, id, referrers);
          auto found = conn.Exec(kTokenReferrersSql, key, true);
          if (!found.ok()) return std::move(found).error();
          std::vector<Referrer> servers = McpServerReferrers(*found);
          referrers.insert(referrers.end(), servers.begin(), servers.end());
          if (!referrers.empty()) {
            SortReferrers(referrers);
            return DeleteResult{DeleteOutcome::kReferenced, std::move(referrers)};
          }
        } else {
          // Agents, then MCP servers, then the token: the order in which every writer of
          // several of these tables locks their rows (agent writes, forced MCP server deletes),
          // so they do not deadlock on each other; Run retries a deadlock (40P01) anyway.
          auto agents = conn.Exec(kLockAgentTokenReferrersSql, key, true);
          if (!agents.ok()) return std::move(agents).error();
          AppendAgentTokenReferrers(*agents, id, referrers);
          for (int i = 0; i < agents->rows(); ++i) {
            const PgParam params[] = {PgParam::Text(id), PgParam::Int8(request.now_ms),
                                      PgParam::Text(tenant), PgParam::Text(agents->Text(i, 0))};
            auto cleared = conn.Exec(kRemoveAgentTokenReferenceSql, params, true);
            if (!cleared.ok()) return std::move(cleared).error();
            if (cleared->affected() != 1) return RetryDelete();  // locked above: not expected
          }
          const PgParam params[] = {PgParam::Int8(request.now_ms), PgParam::Text(tenant),
                                    PgParam::Text(id)};
          auto removed = conn.Exec(kRemoveTokenReferencesSql, params, true);
          if (!removed.ok()) return std::move(removed).error();
          std::vector<Referrer> servers = McpServerReferrers(*removed);
          referrers.insert(referrers.end(), servers.begin(), servers.end());
          SortReferrers(referrers);
        }
        const PgParam versioned[] = {PgParam::Text(tenant), PgParam::Text(id),
                                     PgParam::Int8(**version)};
        auto deleted = conn.Exec(kDeleteTokenSql, versioned, true);
        if (!deleted.ok()) return std::move(deleted).error();
        if (deleted->affected() != 1) return RetryDelete();
        return DeleteResult{DeleteOutcome::kDeleted, std::move(referrers)};
      });
    });
  }

  Result<std::optional<domain::McpServer>> GetMcpServer(std::string_view tenant,
                                                        std::string_view id) override {
    using Out = std::optional<domain::McpServer>;
    return NoThrow("get mcp server", [&]() -> Result<Out> {
      const PgParam params[] = {PgParam::Text(tenant), PgParam::Text(id)};
      return Run<Out>("get mcp server", Retry::kIdempotent, [&](PgConnection& conn) -> Result<Out> {
        auto result = conn.Exec(kGetMcpServerSql, params, true);
        if (!result.ok()) return std::move(result).error();
        if (result->rows() == 0) return Out();
        return Out(McpServerFromRow(*result, 0));
      });
    });
  }

  Result<void> InsertMcpServer(std::string_view tenant, const domain::McpServer& server) override {
    return NoThrow("insert mcp server", [&]() -> Result<void> {
      const PgParam params[] = {PgParam::Text(tenant),
                                PgParam::Text(server.id),
                                PgParam::Bytea(std::string_view(server.name)),
                                PgParam::Int8(server.enabled ? 1 : 0),
                                PgParam::Text(server.type),
                                PgParam::Text(server.transport),
                                PgParam::Text(server.config.url),
                                PgParam::OptionalText(server.config.authorization_header_name),
                                PgParam::OptionalText(server.config.authorization_header_token_id),
                                PgParam::Int8(server.metadata.version),
                                PgParam::Int8(server.metadata.created_at_ms),
                                PgParam::Int8(server.metadata.modified_at_ms)};
      return Run<void>("insert mcp server", Retry::kNever, [&](PgConnection& conn) -> Result<void> {
        auto result = conn.Exec(kInsertMcpServerSql, params, true);
        if (!result.ok()) {
          if (conn.last_sqlstate() == kForeignKeyViolation) return MissingToken();
          if (conn.last_sqlstate() == "23505") {
            return Error::Conflict("An MCP server with this id already exists");
          }
          return std::move(result).error();
        }
        if (result->affected() != 1) {
          return Error::Conflict("An MCP server with this id already exists");
        }
        return Ok();
      });
    });
  }

  // One UPDATE under the version when the server stays enabled. An update leaving it disabled is
  // one transaction: it reads the stored row of expected_version; if that is enabled, the
  // enabled agents using the server are locked (agents before MCP servers) and refused or
  // disabled, then the server is written under its version. An agent enabled or given this
  // server concurrently, after the lock, may stay enabled: agents may use disabled servers
  // anyway (the vendor only guards the act of disabling).
  Result<McpServerUpdateResult> UpdateMcpServer(std::string_view tenant,
                                                const domain::McpServer& updated,
                                                std::int64_t expected_version,
                                                ReferencePolicy enabled_users) override {
    return NoThrow("update mcp server", [&]() -> Result<McpServerUpdateResult> {
      const PgParam params[] = {PgParam::Bytea(std::string_view(updated.name)),
                                PgParam::Int8(updated.enabled ? 1 : 0),
                                PgParam::Text(updated.type),
                                PgParam::Text(updated.transport),
                                PgParam::Text(updated.config.url),
                                PgParam::OptionalText(updated.config.authorization_header_name),
                                PgParam::OptionalText(updated.config.authorization_header_token_id),
                                PgParam::Int8(updated.metadata.modified_at_ms),
                                PgParam::Text(tenant),
                                PgParam::Text(updated.id),
                                PgParam::Int8(expected_version)};
      using Out = McpServerUpdateResult;
      return Run<Out>("update mcp server", Retry::kNever, [&](PgConnection& conn) -> Result<Out> {
        auto write = [&](Out outcome) -> Result<Out> {
          auto result = conn.Exec(kUpdateMcpServerSql, params, true);
          if (!result.ok()) {
            if (conn.last_sqlstate() == kForeignKeyViolation) return MissingToken();
            return std::move(result).error();
          }
          if (result->affected() != 1) {
            return Error::Conflict("The MCP server was changed or deleted concurrently");
          }
          return outcome;
        };
        // An update that leaves the server enabled is one statement, as any other write.
        if (updated.enabled) return write(Out{});
        return InTransaction<Out>(conn, "BEGIN", [&]() -> Result<Out> {
          auto disabled =
              DisableEnabledUsers(conn, tenant, updated, expected_version, enabled_users);
          if (!disabled.ok()) return std::move(disabled).error();
          if (disabled->refused) return std::move(disabled).value();
          return write(std::move(disabled).value());
        });
      });
    });
  }

  // UpdateMcpServer's handling of the enabled agents using a server it disables (see there).
  static Result<McpServerUpdateResult> DisableEnabledUsers(PgConnection& conn,
                                                           std::string_view tenant,
                                                           const domain::McpServer& updated,
                                                           std::int64_t expected_version,
                                                           ReferencePolicy policy) {
    McpServerUpdateResult outcome;
    const PgParam versioned[] = {PgParam::Text(tenant), PgParam::Text(updated.id),
                                 PgParam::Int8(expected_version)};
    auto stored = conn.Exec(kMcpServerEnabledAtVersionSql, versioned, true);
    if (!stored.ok()) return std::move(stored).error();
    if (stored->rows() == 0) {
      return Error::Conflict("The MCP server was changed or deleted concurrently");
    }
    if (stored->Int8(0, 0) == 0) return outcome;  // already disabled
    const PgParam key[] = {PgParam::Text(tenant), PgParam::Text(updated.id)};
    auto users = conn.Exec(kLockEnabledMcpServerUsersSql, key, true);
    if (!users.ok()) return std::move(users).error();
    for (int i = 0; i < users->rows(); ++i) {
      const domain::Agent agent = AgentFromRow(*users, i);
      outcome.enabled_users.push_back(
          Referrer{std::string(kAgentKind), agent.id, McpServerEntryField(agent, updated.id)});
    }
    if (outcome.enabled_users.empty()) return outcome;
    if (policy == ReferencePolicy::kRefuse) {
      outcome.refused = true;
      return outcome;
    }
    for (const Referrer& user : outcome.enabled_users) {
      const PgParam params[] = {PgParam::Int8(updated.metadata.modified_at_ms),
                                PgParam::Text(tenant), PgParam::Text(user.id)};
      auto disabled = conn.Exec(kDisableAgentSql, params, true);
      if (!disabled.ok()) return std::move(disabled).error();
    }
    return outcome;
  }

  Result<DeleteResult> DeleteMcpServer(std::string_view tenant, std::string_view id,
                                       const DeleteRequest& request) override {
    return NoThrow("delete mcp server", [&]() -> Result<DeleteResult> {
      return DeleteRepeatedly("delete mcp server", [&](PgConnection& conn) -> Result<DeleteResult> {
        const PgParam key[] = {PgParam::Text(tenant), PgParam::Text(id)};
        auto version = ReadVersion(conn, kMcpServerVersionSql, key);
        if (!version.ok()) return std::move(version).error();
        if (!version->has_value()) return DeleteResult{DeleteOutcome::kAbsent, {}};
        if (request.expected_version && **version != *request.expected_version) {
          return DeleteResult{DeleteOutcome::kVersionMismatch, {}};
        }
        std::vector<Referrer> referrers;
        if (request.references == ReferencePolicy::kRefuse) {
          auto users = conn.Exec(kMcpServerUsersSql, key, true);
          if (!users.ok()) return std::move(users).error();
          for (int i = 0; i < users->rows(); ++i) {
            const domain::Agent agent = AgentFromRow(*users, i);
            referrers.push_back(
                Referrer{std::string(kAgentKind), agent.id, McpServerEntryField(agent, id)});
          }
          if (!referrers.empty()) {
            SortReferrers(referrers);
            return DeleteResult{DeleteOutcome::kReferenced, std::move(referrers)};
          }
        } else {
          auto removed = RemoveMcpServerFromAgents(conn, tenant, id, request.now_ms);
          if (!removed.ok()) return std::move(removed).error();
          referrers = std::move(removed).value();
        }
        const PgParam versioned[] = {PgParam::Text(tenant), PgParam::Text(id),
                                     PgParam::Int8(**version)};
        auto deleted = conn.Exec(kDeleteMcpServerSql, versioned, true);
        if (!deleted.ok()) return std::move(deleted).error();
        if (deleted->affected() != 1) return RetryDelete();
        return DeleteResult{DeleteOutcome::kDeleted, std::move(referrers)};
      });
    });
  }

  Result<std::optional<domain::Agent>> GetAgent(std::string_view tenant,
                                                std::string_view id) override {
    using Out = std::optional<domain::Agent>;
    return NoThrow("get agent", [&]() -> Result<Out> {
      const PgParam params[] = {PgParam::Text(tenant), PgParam::Text(id)};
      return Run<Out>("get agent", Retry::kIdempotent, [&](PgConnection& conn) -> Result<Out> {
        auto result = conn.Exec(kGetAgentSql, params, true);
        if (!result.ok()) return std::move(result).error();
        if (result->rows() == 0) return Out();
        return Out(AgentFromRow(*result, 0));
      });
    });
  }

  Result<Page<domain::Agent>> ListAgents(const ListQuery& query) override {
    return NoThrow("list agents", [&]() -> Result<Page<domain::Agent>> {
      return ListRows<domain::Agent>(query, postgres::AgentTable(), AgentFromRow);
    });
  }

  // One transaction: the id is free, every reference exists (checked in ReferencesOf order so
  // the error names the first missing one), then the row and its agent_mcp_servers rows. The
  // foreign keys decide in the end; WriteAgentRepeatedly turns their verdict on a reference
  // deleted after the check into a precise error.
  Result<void> InsertAgent(std::string_view tenant, const domain::Agent& agent) override {
    return NoThrow("insert agent", [&]() -> Result<void> {
      std::vector<PgParam> row = AgentColumns(tenant, agent);
      row.push_back(PgParam::Int8(agent.metadata.version));
      row.push_back(PgParam::Int8(agent.metadata.created_at_ms));
      row.push_back(PgParam::Int8(agent.metadata.modified_at_ms));
      return WriteAgentRepeatedly("insert agent", [&](PgConnection& conn) -> Result<void> {
        const PgParam key[] = {PgParam::Text(tenant), PgParam::Text(agent.id)};
        auto existing = ReadVersion(conn, kAgentVersionSql, key);
        if (!existing.ok()) return std::move(existing).error();
        if (existing->has_value()) return Error::Conflict("An agent with this id already exists");
        if (auto present = CheckAgentReferences(conn, tenant, agent); !present.ok()) {
          return present;
        }
        auto inserted = conn.Exec(kInsertAgentSql, row, true);
        if (!inserted.ok()) {
          if (conn.last_sqlstate() == "23505") {
            return Error::Conflict("An agent with this id already exists");
          }
          return std::move(inserted).error();
        }
        if (inserted->affected() != 1) {
          return Error::Conflict("An agent with this id already exists");
        }
        return ReplaceAgentMcpServers(conn, tenant, agent);
      });
    });
  }

  // As InsertAgent; the version is read first so that a stale write is kConflict whatever its
  // references, and the UPDATE checks it again atomically.
  Result<void> UpdateAgent(std::string_view tenant, const domain::Agent& updated,
                           std::int64_t expected_version) override {
    return NoThrow("update agent", [&]() -> Result<void> {
      std::vector<PgParam> row = AgentColumns(tenant, updated);
      row.push_back(PgParam::Int8(updated.metadata.modified_at_ms));
      row.push_back(PgParam::Int8(expected_version));
      return WriteAgentRepeatedly("update agent", [&](PgConnection& conn) -> Result<void> {
        const PgParam key[] = {PgParam::Text(tenant), PgParam::Text(updated.id)};
        auto current = ReadVersion(conn, kAgentVersionSql, key);
        if (!current.ok()) return std::move(current).error();
        if (!current->has_value() || **current != expected_version) {
          return Error::Conflict("The agent was changed or deleted concurrently");
        }
        if (auto present = CheckAgentReferences(conn, tenant, updated); !present.ok()) {
          return present;
        }
        auto result = conn.Exec(kUpdateAgentSql, row, true);
        if (!result.ok()) return std::move(result).error();
        if (result->affected() != 1) {
          return Error::Conflict("The agent was changed or deleted concurrently");
        }
        return ReplaceAgentMcpServers(conn, tenant, updated);
      });
    });
  }

  // Nothing references an agent; its agent_mcp_servers rows go with it (ON DELETE CASCADE).
  Result<DeleteResult> DeleteAgent(std::string_view tenant, std::string_view id,
                                   const DeleteRequest& request) override {
    return NoThrow("delete agent", [&]() -> Result<DeleteResult> {
      return DeleteRepeatedly("delete agent", [&](PgConnection& conn) -> Result<DeleteResult> {
        const PgParam key[] = {PgParam::Text(tenant), PgParam::Text(id)};
        auto version = ReadVersion(conn, kAgentVersionSql, key);
        if (!version.ok()) return std::move(version).error();
        if (!version->has_value()) return DeleteResult{DeleteOutcome::kAbsent, {}};
        if (request.expected_version && **version != *request.expected_version) {
          return DeleteResult{DeleteOutcome::kVersionMismatch, {}};
        }
        const PgParam versioned[] = {PgParam::Text(tenant), PgParam::Text(id),
                                     PgParam::Int8(**version)};
        auto deleted = conn.Exec(kDeleteAgentSql, versioned, true);
        if (!deleted.ok()) return std::move(deleted).error();
        if (deleted->affected() != 1) return RetryDelete();
        return DeleteResult{DeleteOutcome::kDeleted, {}};
      });
    });
  }

  Result<void> Ping() override {
    return NoThrow("ping", [&]() -> Result<void> {
      return Run<void>("ping", Retry::kIdempotent, [&](PgConnection& conn) -> Result<void> {
        auto result = conn.Exec(kPingSql, {}, true);
        if (!result.ok()) return std::move(result).error();
        return Ok();
      });
    });
  }

  Result<std::optional<std::vector<std::uint8_t>>> GetSetting(std::string_view name) override {
    using Out = std::optional<std::vector<std::uint8_t>>;
    return NoThrow("get setting", [&]() -> Result<Out> {
      const PgParam params[] = {PgParam::Text(name)};
      return Run<Out>("get setting", Retry::kIdempotent, [&](PgConnection& conn) -> Result<Out> {
        auto result = conn.Exec(kGetSettingSql, params, true);
        if (!result.ok()) return std::move(result).error();
        if (result->rows() == 0) return Out();
        return Out(result->Blob(0, 0));
      });
    });
  }

  Result<bool> PutSetting(std::string_view name, std::span<const std::uint8_t> value,
                          const std::optional<std::vector<std::uint8_t>>& expected) override {
    return NoThrow("put setting", [&]() -> Result<bool> {
      if (!postgres::IsPgText(name)) {
        return Error::Internal("postgres store put setting: the name is not valid text");
      }
      std::vector<PgParam> params;
      if (expected) {
        params = {PgParam::Bytea(value), PgParam::Text(name), PgParam::Bytea(*expected)};
      } else {
        params = {PgParam::Text(name), PgParam::Bytea(value)};
      }
      return Run<bool>("put setting", Retry::kNever, [&](PgConnection& conn) -> Result<bool> {
        auto result = conn.Exec(expected ? kSwapSettingSql : kInsertSettingSql, params, true);
        if (!result.ok()) return std::move(result).error();
        return result->affected() == 1;
      });
    });
  }

  Result<std::vector<SealedValueRow>> ListSealedValues(
      const std::optional<SealedValueKey>& after, std::size_t limit,
      std::optional<std::uint32_t> skip_key_id) override {
    using Out = std::vector<SealedValueRow>;
    return NoThrow("list sealed values", [&]() -> Result<Out> {
      if (limit == 0) return Error::Internal("postgres store list sealed values: limit is 0");
      const auto bounded = static_cast<std::int64_t>(
          std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
      std::vector<PgParam> params;
      if (after) {
        params.push_back(PgParam::Text(after->tenant));
        params.push_back(PgParam::Text(after->id));
      }
      params.push_back(PgParam::Int8(KeyIdParam(skip_key_id)));
      params.push_back(PgParam::Int8(bounded));
      return Run<Out>(
          "list sealed values", Retry::kIdempotent, [&](PgConnection& conn) -> Result<Out> {
            auto result =
                conn.Exec(after ? kListSealedAfterSql : kListSealedFirstSql, params, true);
            if (!result.ok()) return std::move(result).error();
            Out rows;
            rows.reserve(static_cast<std::size_t>(result->rows()));
            for (int i = 0; i < result->rows(); ++i) {
              SealedValueRow row;
              row.tenant = result->Text(i, 0);
              row.id = result->Text(i, 1);
              row.sealed_value = result->Blob(i, 2);
              row.key_id = static_cast<std::uint32_t>(result->Int8(i, 3));
              rows.push_back(std::move(row));
            }
            return rows;
          });
    });
  }

  Result<std::vector<bool>> SwapSealedValues(std::span<const SealedValueSwap> swaps) override {
    using Out = std::vector<bool>;
    return NoThrow("swap sealed values", [&]() -> Result<Out> {
      if (swaps.empty()) return Out();
      // One transaction for the batch (one commit, one fsync), while each UPDATE still decides
      // for its own row whether it may write.
      return Run<Out>("swap sealed values", Retry::kNever, [&](PgConnection& conn) -> Result<Out> {
        return InTransaction<Out>(conn, "BEGIN", [&]() -> Result<Out> {
          Out applied;
          applied.reserve(swaps.size());
          for (const SealedValueSwap& swap : swaps) {
            const PgParam params[] = {
                PgParam::Bytea(swap.replacement), PgParam::Int8(swap.replacement_key_id),
                PgParam::Text(swap.tenant), PgParam::Text(swap.id), PgParam::Bytea(swap.expected)};
            auto result = conn.Exec(kSwapSealedSql, params, true);
            if (!result.ok()) return std::move(result).error();
            applied.push_back(result->affected() == 1);
          }
          return applied;
        });
      });
    });
  }

  Result<std::map<std::uint32_t, std::int64_t>> CountSealedValuesByKeyId() override {
    using Out = std::map<std::uint32_t, std::int64_t>;
    return NoThrow("count by key id", [&]() -> Result<Out> {
      return Run<Out>(
          "count by key id", Retry::kIdempotent, [&](PgConnection& conn) -> Result<Out> {
            auto result = conn.Exec(kCountByKeyIdSql, {}, true);
            if (!result.ok()) return std::move(result).error();
            Out counts;
            for (int i = 0; i < result->rows(); ++i) {
              counts[static_cast<std::uint32_t>(result->Int8(i, 0))] = result->Int8(i, 1);
            }
            return counts;
          });
    });
  }

 private:
  // Runs `fn` on a pooled connection. A read that failed because a pooled connection turned
  // out to be dead (the database restarted since it was last used) runs once more on a new
  // one; a write does not, since it may have committed before the connection broke (the
  // client gets 503 and decides). Serialization failures (40001/40P01: nothing was committed)
  // are retried a few times; PostgreSQL raises them rarely for single statements, serializable
  // distributed databases more often.
  template <typename T, typename Fn>
  Result<T> Run(std::string_view what, Retry retry, Fn&& fn) {
    for (int attempt = 1;; ++attempt) {
      auto lease = pool_->Acquire(what);
      if (!lease.ok()) return std::move(lease).error();
      Result<T> result = fn(lease->conn());
      if (result.ok()) return result;
      PgConnection& conn = lease->conn();
      const bool stale =
          retry == Retry::kIdempotent && conn.broken() && !lease->fresh() && attempt == 1;
      const bool serialization = postgres::IsRetryableSqlState(conn.last_sqlstate()) && attempt < 4;
      if (!stale && !serialization) return result;
    }
  }

  // BEGIN … COMMIT around `body`; any failure rolls back (a connection that cannot roll back
  // is broken and the pool discards it).
  template <typename T, typename Body>
  static Result<T> InTransaction(PgConnection& conn, const char* begin, Body&& body) {
    if (auto begun = conn.ExecScript(begin, "begin"); !begun.ok()) return std::move(begun).error();
    Result<T> result = body();
    if (!result.ok()) {
      conn.Rollback();
      return result;
    }
    if (auto committed = conn.ExecScript("COMMIT", "commit"); !committed.ok()) {
      return std::move(committed).error();
    }
    return result;
  }

  // Rows of postgres::TokenTable().select_columns.
  static domain::Token TokenFromRow(const PgResult& result, int row) {
    domain::Token token;
    token.id = result.Text(row, 0);
    token.name = result.Text(row, 1);
    token.metadata.version = result.Int8(row, 2);
    token.metadata.created_at_ms = result.Int8(row, 3);
    token.metadata.modified_at_ms = result.Int8(row, 4);
    return token;
  }

  // Rows of postgres::McpServerTable().select_columns (and of kGetMcpServerSql).
  static domain::McpServer McpServerFromRow(const PgResult& result, int row) {
    domain::McpServer server;
    server.id = result.Text(row, 0);
    server.name = result.Text(row, 1);
    server.enabled = result.Int8(row, 2) != 0;
    server.type = result.Text(row, 3);
    server.transport = result.Text(row, 4);
    server.config.url = result.Text(row, 5);
    if (!result.IsNull(row, 6)) server.config.authorization_header_name = result.Text(row, 6);
    if (!result.IsNull(row, 7)) server.config.authorization_header_token_id = result.Text(row, 7);
    server.metadata.version = result.Int8(row, 8);
    server.metadata.created_at_ms = result.Int8(row, 9);
    server.metadata.modified_at_ms = result.Int8(row, 10);
    return server;
  }

  // Rows of postgres::AgentTable().select_columns (and of kGetAgentSql, kLockAgentSql,
  // kMcpServerUsersSql). A document this code cannot read throws, like a malformed column does;
  // NoThrow reports it as kInternal.
  static domain::Agent AgentFromRow(const PgResult& result, int row) {
    domain::Agent agent;
    agent.id = result.Text(row, 0);
    agent.enabled = result.Int8(row, 1) != 0;
    if (!result.IsNull(row, 2)) agent.type = result.Text(row, 2);
    domain::LlmConfig& llm = agent.llm_config;
    llm.provider = result.Text(row, 3);
    llm.model = result.Text(row, 4);
    if (!result.IsNull(row, 5)) llm.token_id = result.Text(row, 5);
    // DecodeAgentDoc keeps this column's token id when it fills in the rest of the params.
    if (!result.IsNull(row, 6)) {
      llm.self_hosted_params = domain::SelfHostedParams{{}, std::nullopt, result.Text(row, 6)};
    }
    agent.metadata.version = result.Int8(row, 7);
    agent.metadata.created_at_ms = result.Int8(row, 8);
    agent.metadata.modified_at_ms = result.Int8(row, 9);
    if (auto decoded = DecodeAgentDoc(result.Bytes(row, 10), agent); !decoded.ok()) {
      throw std::runtime_error("agent " + agent.id + ": " + decoded.error().internal);
    }
    return agent;
  }

  // $1..$9 of kInsertAgentSql and kUpdateAgentSql: tenant, id, enabled, type, provider, model,
  // llm_token_id, sh_token_id, doc.
  static std::vector<PgParam> AgentColumns(std::string_view tenant, const domain::Agent& agent) {
    const domain::LlmConfig& llm = agent.llm_config;
    std::optional<std::string> sh_token_id;
    if (llm.self_hosted_params) sh_token_id = llm.self_hosted_params->authorization_header_token_id;
    return {PgParam::Text(tenant),
            PgParam::Text(agent.id),
            PgParam::Int8(agent.enabled ? 1 : 0),
            PgParam::OptionalText(agent.type),
            PgParam::Text(llm.provider),
            PgParam::Bytea(std::string_view(llm.model)),
            PgParam::OptionalText(llm.token_id),
            PgParam::OptionalText(sh_token_id),
            PgParam::Text(EncodeAgentDoc(agent))};
  }

  // kInvalidArgument naming the first reference, in domain::ReferencesOf order, whose target
  // is not in the tenant. Only for the precise error: the foreign keys are the guarantee.
  static Result<void> CheckAgentReferences(PgConnection& conn, std::string_view tenant,
                                           const domain::Agent& agent) {
    for (const domain::AgentReference& reference : domain::ReferencesOf(agent)) {
      const bool token = reference.target == domain::AgentReference::Target::kToken;
      const PgParam key[] = {PgParam::Text(tenant), PgParam::Text(reference.id)};
      auto found = conn.Exec(token ? kTokenExistsSql : kMcpServerExistsSql, key, true);
      if (!found.ok()) return std::move(found).error();
      if (found->rows() == 0) {
        return Error::InvalidField(reference.field, "notFound",
                                   reference.field +
                                       (token ? " names a token" : " names an MCP server") +
                                       " that does not exist");
      }
    }
    return Ok();
  }

  // The agent's agent_mcp_servers rows become its custom entries.
  static Result<void> ReplaceAgentMcpServers(PgConnection& conn, std::string_view tenant,
                                             const domain::Agent& agent) {
    const PgParam key[] = {PgParam::Text(tenant), PgParam::Text(agent.id)};
    if (auto cleared = conn.Exec(kClearAgentServersSql, key, true); !cleared.ok()) {
      return std::move(cleared).error();
    }
    for (const domain::AgentMcpServer& server : agent.mcp_servers) {
      if (!server.mcp_server_id) continue;
      const PgParam row[] = {PgParam::Text(tenant), PgParam::Text(agent.id),
                             PgParam::Text(*server.mcp_server_id)};
      if (auto inserted = conn.Exec(kInsertAgentServerSql, row, true); !inserted.ok()) {
        return std::move(inserted).error();
      }
    }
    return Ok();
  }

  // The forced part of an MCP server delete: each agent using the server, locked (in id order,
  // like every writer of several agents), loses the entry from its document, with version + 1
  // and modifiedAt now, and its agent_mcp_servers row. An agent whose concurrent update dropped
  // the entry before the lock is left alone; one that gained it after the lookup makes the
  // server's DELETE fail its foreign key, and the whole delete runs again.
  static Result<std::vector<Referrer>> RemoveMcpServerFromAgents(PgConnection& conn,
                                                                 std::string_view tenant,
                                                                 std::string_view server_id,
                                                                 std::int64_t now_ms) {
    const PgParam key[] = {PgParam::Text(tenant), PgParam::Text(server_id)};
    auto users = conn.Exec(kMcpServerUserIdsSql, key, true);
    if (!users.ok()) return std::move(users).error();
    std::vector<Referrer> referrers;
    for (int i = 0; i < users->rows(); ++i) {
      const std::string agent_id = users->Text(i, 0);
      const PgParam agent_key[] = {PgParam::Text(tenant), PgParam::Text(agent_id)};
      auto locked = conn.Exec(kLockAgentSql, agent_key, true);
      if (!locked.ok()) return std::move(locked).error();
      if (locked->rows() == 0) continue;  // deleted meanwhile, with its rows
      domain::Agent agent = AgentFromRow(*locked, 0);
      std::string field = McpServerEntryField(agent, server_id);
      if (!RemoveMcpServerEntry(agent, server_id)) continue;
      const PgParam written[] = {PgParam::Text(EncodeAgentDoc(agent)), PgParam::Int8(now_ms),
                                 PgParam::Text(tenant), PgParam::Text(agent_id)};
      if (auto updated = conn.Exec(kWriteAgentDocSql, written, true); !updated.ok()) {
        return std::move(updated).error();
      }
      const PgParam row[] = {PgParam::Text(tenant), PgParam::Text(agent_id),
                             PgParam::Text(server_id)};
      if (auto unlinked = conn.Exec(kDeleteAgentServerSql, row, true); !unlinked.ok()) {
        return std::move(unlinked).error();
      }
      referrers.push_back(Referrer{std::string(kAgentKind), agent_id, std::move(field)});
    }
    return referrers;
  }

  // The list of any resource: `table` decides the SQL, `decode` turns a row into an item.
  template <typename Item, typename Decode>
  Result<Page<Item>> ListRows(const ListQuery& query, const postgres::TableSpec& table,
                              Decode decode) {
    auto compiled = postgres::CompilePgListQuery(query, table);
    if (!compiled.ok()) return std::move(compiled).error();
    return Run<Page<Item>>("list", Retry::kIdempotent, [&](PgConnection& conn) {
      return compiled->regexes.empty() ? ListInSql<Item>(conn, query, table, *compiled, decode)
                                       : ListWithRegex<Item>(conn, query, *compiled, decode);
    });
  }

  // Everything in SQL: one statement, so the page and its total come from one snapshot. The
  // total is a window count over all matching rows; only an empty page (beyond the end) needs
  // a separate count.
  template <typename Item, typename Decode>
  static Result<Page<Item>> ListInSql(PgConnection& conn, const ListQuery& query,
                                      const postgres::TableSpec& table,
                                      const postgres::CompiledPgList& compiled, Decode& decode) {
    std::vector<PgParam> params = compiled.params;
    params.push_back(PgParam::Int8(query.limit));
    params.push_back(PgParam::Int8(query.offset));
    auto result = conn.Exec(compiled.PageSql(query.count_total), params, false);
    if (!result.ok()) return std::move(result).error();
    Page<Item> page;
    page.items.reserve(static_cast<std::size_t>(result->rows()));
    for (int i = 0; i < result->rows(); ++i) page.items.push_back(decode(*result, i));
    if (query.count_total) {
      if (result->rows() > 0) {
        page.total = result->Int8(0, table.select_count);
      } else {
        auto count = conn.Exec(compiled.CountSql(), compiled.params, false);
        if (!count.ok()) return std::move(count).error();
        page.total = count->Int8(0, 0);
      }
    }
    return page;
  }

  // Regex clauses: the candidates the SQL clauses select stream through a server-side cursor
  // in a read-only REPEATABLE READ transaction (one snapshot for the page and the total), in
  // batches; RE2 filters them here, and offset, limit and the total are counted here. Without
  // a total the scan stops once the page is full.
  template <typename Item, typename Decode>
  static Result<Page<Item>> ListWithRegex(PgConnection& conn, const ListQuery& query,
                                          const postgres::CompiledPgList& compiled,
                                          Decode& decode) {
    return InTransaction<Page<Item>>(
        conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", [&]() -> Result<Page<Item>> {
          const std::string declare = std::string("DECLARE ") + kCursorName +
                                      " NO SCROLL CURSOR FOR " + compiled.CandidatesSql();
          if (auto declared = conn.Exec(declare, compiled.params, false); !declared.ok()) {
            return std::move(declared).error();
          }
          const std::string fetch =
              "FETCH FORWARD " + std::to_string(kFetchBatch) + " FROM " + kCursorName;
          Page<Item> page;
          page.items.reserve(static_cast<std::size_t>(std::min(query.limit, kMaxReserve)));
          std::int64_t matched = 0;
          for (;;) {
            if (!query.count_total && static_cast<std::int64_t>(page.items.size()) >= query.limit) {
              break;
            }
            auto batch = conn.Exec(fetch, {}, false);
            if (!batch.ok()) return std::move(batch).error();
            for (int i = 0; i < batch->rows(); ++i) {
              bool all = true;
              for (const postgres::RegexFilter& filter : compiled.regexes) {
                if (batch->IsNull(i, filter.column)) {  // an absent field matches no pattern
                  all = false;
                  break;
                }
                const std::string_view text = batch->Bytes(i, filter.column);
                if (!RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *filter.re)) {
                  all = false;
                  break;
                }
              }
              if (!all) continue;
              ++matched;
              if (matched > query.offset &&
                  static_cast<std::int64_t>(page.items.size()) < query.limit) {
                page.items.push_back(decode(*batch, i));
              }
            }
            if (batch->rows() < kFetchBatch) break;
          }
          if (query.count_total) page.total = matched;
          return page;
        });
  }

  static Error MissingToken() {
    return Error::InvalidField(
        std::string(kMcpServerTokenField), "notFound",
        std::string(kMcpServerTokenField) + " names a token that does not exist");
  }

  static Error RetryDelete() {
    Error e = Error::Conflict("The resource was changed concurrently; retry");
    e.internal = std::string(kRetryDelete);
    return e;
  }

  static Result<std::optional<std::int64_t>> ReadVersion(PgConnection& conn, const char* sql,
                                                         std::span<const PgParam> key) {
    auto result = conn.Exec(sql, key, true);
    if (!result.ok()) return std::move(result).error();
    if (result->rows() == 0) return std::optional<std::int64_t>();
    return std::optional<std::int64_t>(result->Int8(0, 0));
  }

  static std::vector<Referrer> McpServerReferrers(const PgResult& ids) {
    std::vector<Referrer> referrers;
    referrers.reserve(static_cast<std::size_t>(ids.rows()));
    for (int i = 0; i < ids.rows(); ++i) {
      referrers.push_back(
          Referrer{std::string(kMcpServerKind), ids.Text(i, 0), std::string(kMcpServerTokenField)});
    }
    std::sort(referrers.begin(), referrers.end(),
              [](const Referrer& a, const Referrer& b) { return a.id < b.id; });
    return referrers;
  }

  // Agents referencing token `token_id` (rows of kAgentTokenReferrersSql), one referrer per
  // referring field.
  static void AppendAgentTokenReferrers(const PgResult& rows, std::string_view token_id,
                                        std::vector<Referrer>& referrers) {
    for (int i = 0; i < rows.rows(); ++i) {
      if (!rows.IsNull(i, 1) && rows.Bytes(i, 1) == token_id) {
        referrers.push_back(
            Referrer{std::string(kAgentKind), rows.Text(i, 0), std::string(kAgentLlmTokenField)});
      }
      if (!rows.IsNull(i, 2) && rows.Bytes(i, 2) == token_id) {
        referrers.push_back(
            Referrer{std::string(kAgentKind), rows.Text(i, 0), std::string(kAgentShTokenField)});
      }
    }
  }

  // The order DeleteResult promises: kind, id, field.
  static void SortReferrers(std::vector<Referrer>& referrers) {
    std::sort(referrers.begin(), referrers.end(), [](const Referrer& a, const Referrer& b) {
      return std::tie(a.kind, a.id, a.field) < std::tie(b.kind, b.id, b.field);
    });
  }

  // Runs an agent write in a transaction. A reference whose target a concurrent delete removed
  // between the check and the write fails a foreign key (23503); the write then runs again, so
  // its check sees the target gone and names the field.
  template <typename Attempt>
  Result<void> WriteAgentRepeatedly(std::string_view what, Attempt&& attempt) {
    for (int i = 1;; ++i) {
      bool raced = false;
      auto result = Run<void>(what, Retry::kNever, [&](PgConnection& conn) {
        auto done = InTransaction<void>(conn, "BEGIN", [&] { return attempt(conn); });
        raced = !done.ok() && conn.last_sqlstate() == kForeignKeyViolation;
        return done;
      });
      if (result.ok() || !raced) return result;
      if (i == kDeleteAttempts) {
        return Error::Conflict("The agent's references kept changing concurrently; retry");
      }
    }
  }

  // Runs `attempt` in a transaction until it commits or fails for a reason other than a race:
  // a row that changed between read and delete (RetryDelete) or a referrer that appeared
  // (23503). Each attempt rolls back completely before the next.
  template <typename Attempt>
  Result<DeleteResult> DeleteRepeatedly(std::string_view what, Attempt&& attempt) {
    for (int i = 1;; ++i) {
      bool raced = false;
      auto result = Run<DeleteResult>(what, Retry::kNever, [&](PgConnection& conn) {
        auto done = InTransaction<DeleteResult>(conn, "BEGIN", [&] { return attempt(conn); });
        raced = !done.ok() && (done.error().internal == kRetryDelete ||
                               conn.last_sqlstate() == kForeignKeyViolation);
        return done;
      });
      if (result.ok() || !raced) return result;
      if (i == kDeleteAttempts) {
        return Error::Conflict(
            "The resource or its referrers kept changing concurrently; retry the delete");
      }
    }
  }

  std::unique_ptr<ConnectionPool> pool_;
};

Result<void> ValidateOptions(const PostgresOptions& options) {
  if (!IsPostgresUrl(options.url)) {
    return Error::InvalidField("databaseUrl", "invalid",
                               "the database URL must start with postgresql:// or postgres://");
  }
  if (options.pool_size < 1 || options.pool_size > kMaxPoolSize) {
    return Error::InvalidField("poolSize", "invalid", "the pool size must be from 1 to 1000");
  }
  if (options.statement_timeout.count() < 1 || options.statement_timeout > std::chrono::hours(1)) {
    return Error::InvalidField("statementTimeout", "invalid",
                               "the statement timeout must be from 1 ms to 1 h");
  }
  if (options.connect_timeout.count() < 1 || options.connect_timeout.count() > 3600) {
    return Error::InvalidField("connectTimeout", "invalid",
                               "the connect timeout must be from 1 to 3600 s");
  }
  return Ok();
}

Result<std::unique_ptr<Store>> Open(const PostgresOptions& options) {
  if (auto valid = ValidateOptions(options); !valid.ok()) return std::move(valid).error();
  PgConnectOptions connect;
  connect.url = options.url;
  connect.connect_timeout = options.connect_timeout;
  connect.statement_timeout = options.statement_timeout;

  const std::string where = RedactDatabaseUrl(options.url);
  auto conn = PgConnection::Connect(connect);
  if (!conn.ok()) {
    Error error = std::move(conn).error();
    error.message = "cannot connect to the PostgreSQL database " + where;
    return error;
  }
  if (auto set = (*conn)->SetStatementTimeout(kMigrationTimeout); !set.ok()) return set.error();
  if (auto migrated = postgres::ApplyPgMigrations(**conn, NowMillis()); !migrated.ok()) {
    return migrated.error();
  }
  if (auto set = (*conn)->SetStatementTimeout(options.statement_timeout); !set.ok()) {
    return set.error();
  }
  log::Info("store.opened", {{"backend", "postgres"},
                             {"database", where},
                             {"pool_size", std::to_string(options.pool_size)}});
  auto pool = std::make_unique<ConnectionPool>(std::move(connect), options.pool_size,
                                               options.statement_timeout, std::move(conn).value());
  return std::unique_ptr<Store>(std::make_unique<PostgresTokenStore>(std::move(pool)));
}

}  // namespace

bool IsPostgresUrl(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

std::string RedactDatabaseUrl(std::string_view url) {
  if (!IsPostgresUrl(url)) return "***";
  const std::size_t scheme_end = url.find("://") + 3;
  std::string out(url.substr(0, scheme_end));
  std::string_view rest = url.substr(scheme_end);
  const std::size_t query_start = std::min(rest.find('?'), rest.size());
  std::string_view before_query = rest.substr(0, query_start);
  std::string_view query = rest.substr(query_start);
  // The user-info ends at the last '@' (a password may contain '@' or '/').
  if (const std::size_t at = before_query.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = before_query.substr(0, at);
    if (const std::size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
      out.append(userinfo.substr(0, colon));
      out += ":***";
    } else {
      out.append(userinfo);
    }
    out += '@';
    before_query.remove_prefix(at + 1);
  }
  out.append(before_query);
  if (query.empty()) return out;
  out += '?';
  query.remove_prefix(1);
  bool first = true;
  while (true) {
    const std::size_t amp = std::min(query.find('&'), query.size());
    const std::string_view pair = query.substr(0, amp);
    if (!first) out += '&';
    first = false;
    const std::string_view key = pair.substr(0, pair.find('='));
    if (key == "password" || key == "passfile" || key == "sslpassword") {
      out.append(key);
      out += "=***";
    } else {
      out.append(pair);
    }
    if (amp >= query.size()) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options) {
  return NoThrow("open", [&] { return Open(options); });
}

}  // namespace ts::store
