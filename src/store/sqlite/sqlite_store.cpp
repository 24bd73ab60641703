#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "store/agent_doc.h"
#include "store/sqlite/re2_search.h"
#include "store/sqlite/sqlite_connection.h"
#include "store/sqlite/sqlite_migrations.h"
#include "store/sqlite/sqlite_query.h"

namespace ts::store {
namespace {

using sqlite::BoundStatement;
using sqlite::SqliteConnection;
using sqlite::SqliteError;
using sqlite::SqlParam;
using sqlite::Transaction;

constexpr int kMaxReadConnections = 64;

// Items are reserved up to this many rows, whatever the limit says: the page is filled row by
// row from the cursor and only as large as what the query really returns.
constexpr std::int64_t kMaxReserve = 1000;

constexpr const char* kGetSql =
    "SELECT id, name, sealed_value, version, created_at, modified_at, key_id FROM tokens"
    " WHERE tenant = ? AND id = ?";
constexpr const char* kInsertSql =
    "INSERT INTO tokens (tenant, id, name, sealed_value, version, created_at, modified_at, key_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kUpdateSql =
    "UPDATE tokens SET name = ?, modified_at = ?, version = version + 1"
    " WHERE tenant = ? AND id = ? AND version = ?";
constexpr const char* kDeleteSql = "DELETE FROM tokens WHERE tenant = ? AND id = ?";
constexpr const char* kTokenVersionSql = "SELECT version FROM tokens WHERE tenant = ? AND id = ?";
// Who references a token: the one referring column today (agents will add theirs).
constexpr const char* kTokenReferrersSql =
    "SELECT id FROM mcp_servers WHERE tenant = ? AND auth_token_id = ? ORDER BY id";
constexpr const char* kRemoveTokenReferencesSql =
    "UPDATE mcp_servers SET auth_token_id = NULL, version = version + 1, modified_at = ?"
    " WHERE tenant = ? AND auth_token_id = ?";
// The columns of sqlite::McpServerTable().select_columns, in that order (McpServerFromRow).
constexpr const char* kGetMcpServerSql =
    "SELECT id, name, enabled, type, transport, url, auth_header_name, auth_token_id, version,"
    " created_at, modified_at FROM mcp_servers WHERE tenant = ? AND id = ?";
constexpr const char* kInsertMcpServerSql =
    "INSERT INTO mcp_servers (tenant, id, name, enabled, type, transport, url, auth_header_name,"
    " auth_token_id, version, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kUpdateMcpServerSql =
    "UPDATE mcp_servers SET name = ?, enabled = ?, type = ?, transport = ?, url = ?,"
    " auth_header_name = ?, auth_token_id = ?, modified_at = ?, version = version + 1"
    " WHERE tenant = ? AND id = ? AND version = ?";
constexpr const char* kMcpServerVersionSql =
    "SELECT version FROM mcp_servers WHERE tenant = ? AND id = ?";
constexpr const char* kDeleteMcpServerSql = "DELETE FROM mcp_servers WHERE tenant = ? AND id = ?";
// The columns of sqlite::AgentTable().select_columns, in that order (AgentFromRow).
constexpr const char* kGetAgentSql =
    "SELECT id, enabled, type, provider, model, llm_token_id, sh_token_id, doc, version,"
    " created_at, modified_at FROM agents WHERE tenant = ? AND id = ?";
constexpr const char* kInsertAgentSql =
    "INSERT INTO agents (tenant, id, enabled, type, provider, model, llm_token_id, sh_token_id,"
    " doc, version, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kUpdateAgentSql =
    "UPDATE agents SET enabled = ?, type = ?, provider = ?, model = ?, llm_token_id = ?,"
    " sh_token_id = ?, doc = ?, modified_at = ?, version = version + 1"
    " WHERE tenant = ? AND id = ? AND version = ?";
constexpr const char* kAgentVersionSql = "SELECT version FROM agents WHERE tenant = ? AND id = ?";
constexpr const char* kDeleteAgentSql = "DELETE FROM agents WHERE tenant = ? AND id = ?";
constexpr const char* kClearAgentMcpServersSql =
    "DELETE FROM agent_mcp_servers WHERE tenant = ? AND agent_id = ?";
constexpr const char* kInsertAgentMcpServerSql =
    "INSERT INTO agent_mcp_servers (tenant, agent_id, mcp_server_id) VALUES (?, ?, ?)";
constexpr const char* kTokenAgentReferrersSql =
    "SELECT id, llm_token_id, sh_token_id FROM agents"
    " WHERE tenant = ?1 AND (llm_token_id = ?2 OR sh_token_id = ?2) ORDER BY id";
constexpr const char* kRemoveAgentTokenReferencesSql =
    "UPDATE agents SET"
    " llm_token_id = CASE WHEN llm_token_id = ?2 THEN NULL ELSE llm_token_id END,"
    " sh_token_id = CASE WHEN sh_token_id = ?2 THEN NULL ELSE sh_token_id END,"
    " version = version + 1, modified_at = ?3"
    " WHERE tenant = ?1 AND (llm_token_id = ?2 OR sh_token_id = ?2)";
constexpr const char* kMcpServerAgentReferrersSql =
    "SELECT a.id, a.doc FROM agent_mcp_servers m JOIN agents a"
    " ON a.tenant = m.tenant AND a.id = m.agent_id"
    " WHERE m.tenant = ? AND m.mcp_server_id = ? ORDER BY a.id";
constexpr const char* kEnabledMcpServerUsersSql =
    "SELECT a.id, a.doc FROM agent_mcp_servers m JOIN agents a"
    " ON a.tenant = m.tenant AND a.id = m.agent_id"
    " WHERE m.tenant = ? AND m.mcp_server_id = ? AND a.enabled = 1 ORDER BY a.id";
constexpr const char* kMcpServerEnabledAtVersionSql =
    "SELECT enabled FROM mcp_servers WHERE tenant = ? AND id = ? AND version = ?";
constexpr const char* kDisableAgentSql =
    "UPDATE agents SET enabled = 0, version = version + 1, modified_at = ?"
    " WHERE tenant = ? AND id = ?";
constexpr const char* kRewriteAgentDocSql =
    "UPDATE agents SET doc = ?, version = version + 1, modified_at = ? WHERE tenant = ? AND id = ?";
constexpr const char* kRemoveMcpServerUsesSql =
    "DELETE FROM agent_mcp_servers WHERE tenant = ? AND mcp_server_id = ?";
constexpr std::string_view kAgentKind = "agent";
constexpr std::string_view kMcpServerKind = "mcpServer";
constexpr std::string_view kMcpServerTokenField = "config.authorizationHeaderToken.id";
constexpr const char* kGetSettingSql = "SELECT value FROM settings WHERE name = ?";
constexpr const char* kInsertSettingSql =
    "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING";
constexpr const char* kSwapSettingSql =
    "UPDATE settings SET value = ? WHERE name = ? AND value = ?";
// key_id is never negative (CHECK), so binding -1 for "skip nothing" keeps one statement per
// shape. The row-value comparison walks the primary key from `after` (keyset pagination).
constexpr const char* kListSealedFirstSql =
    "SELECT tenant, id, sealed_value, key_id FROM tokens WHERE key_id != ?"
    " ORDER BY tenant, id LIMIT ?";
constexpr const char* kListSealedAfterSql =
    "SELECT tenant, id, sealed_value, key_id FROM tokens WHERE (tenant, id) > (?, ?)"
    " AND key_id != ? ORDER BY tenant, id LIMIT ?";
// Comparing the whole blob makes the swap a compare-and-swap: a write by the service (or
// another rotation) between our read and this UPDATE leaves the row alone.
constexpr const char* kSwapSealedSql =
    "UPDATE tokens SET sealed_value = ?, key_id = ? WHERE tenant = ? AND id = ? AND sealed_value = "
    "?";
constexpr const char* kCountByKeyIdSql = "SELECT key_id, count(*) FROM tokens GROUP BY key_id";
// Reads the file (a bare SELECT 1 would not), so a broken database shows up in Ping.
constexpr const char* kPingSql = "SELECT max(version) FROM schema_migrations";

// Every public entry point runs inside this, so an exception (std::bad_alloc, std::system_error
// from a mutex) becomes an Error instead of crossing the module boundary.
template <typename Fn>
auto NoThrow(std::string_view what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Error::Internal("sqlite store " + std::string(what) + ": " + e.what());
  } catch (...) {
    return Error::Internal("sqlite store " + std::string(what) + ": unknown exception");
  }
}

void BindParams(BoundStatement& stmt, const std::vector<SqlParam>& params) {
  int index = 1;
  for (const SqlParam& param : params) {
    if (const auto* text = std::get_if<std::string>(&param)) {
      stmt.BindText(index++, *text);
    } else {
      stmt.BindInt64(index++, std::get<std::int64_t>(param));
    }
  }
}

// A failing re2_search is the client's pattern, not a fault of the store.
Error ListError(SqliteConnection& conn, int rc, std::string_view what) {
  const std::string_view message = sqlite3_errmsg(conn.handle());
  if ((rc & 0xff) == SQLITE_ERROR && message.starts_with(sqlite::kRe2SearchErrorPrefix)) {
    return Error::InvalidField(
        "q", "invalid_regex",
        "Invalid regular expression" +
            std::string(message.substr(sqlite::kRe2SearchErrorPrefix.size(), 120)));
  }
  return SqliteError(conn.handle(), rc, what);
}

Error MissingToken(std::string_view field) {
  return Error::InvalidField(std::string(field), "notFound",
                             std::string(field) + " names a token that does not exist");
}

Error MissingMcpServer(std::string_view field) {
  return Error::InvalidField(std::string(field), "notFound",
                             std::string(field) + " names an MCP server that does not exist");
}

// The version of (tenant, id) in `version_sql`'s table, or nullopt if absent.
Result<std::optional<std::int64_t>> ReadVersion(SqliteConnection& conn, const char* version_sql,
                                                std::string_view tenant, std::string_view id) {
  auto prepared = conn.Prepare(version_sql);
  if (!prepared.ok()) return std::move(prepared).error();
  BoundStatement stmt(*prepared);
  stmt.BindText(1, tenant);
  stmt.BindText(2, id);
  const int rc = stmt.Step();
  if (rc == SQLITE_DONE) return std::optional<std::int64_t>();
  if (rc != SQLITE_ROW) return SqliteError(conn.handle(), rc, "read version");
  return std::optional<std::int64_t>(stmt.ColumnInt64(0));
}

// The outcome of a delete that ends before touching anything: the row is absent, or its
// version is not the expected one. nullopt: go on and delete.
Result<std::optional<DeleteResult>> DeleteEarlyOutcome(SqliteConnection& conn,
                                                       const char* version_sql,
                                                       std::string_view tenant, std::string_view id,
                                                       const DeleteRequest& request) {
  auto version = ReadVersion(conn, version_sql, tenant, id);
  if (!version.ok()) return std::move(version).error();
  if (!version->has_value()) return std::optional(DeleteResult{DeleteOutcome::kAbsent, {}});
  if (request.expected_version && **version != *request.expected_version) {
    return std::optional(DeleteResult{DeleteOutcome::kVersionMismatch, {}});
  }
  return std::optional<DeleteResult>();
}

// Runs a statement that returns nothing, binding tenant/id style text parameters in order.
Result<void> ExecTexts(SqliteConnection& conn, const char* sql,
                       std::initializer_list<std::string_view> texts, std::string_view what) {
  auto prepared = conn.Prepare(sql);
  if (!prepared.ok()) return std::move(prepared).error();
  BoundStatement stmt(*prepared);
  int index = 1;
  for (std::string_view text : texts) stmt.BindText(index++, text);
  const int rc = stmt.Step();
  if (rc != SQLITE_DONE) return SqliteError(conn.handle(), rc, what);
  return Ok();
}

// Binds an MCP server's writable fields to parameters first .. first + 6, in the column order
// of kInsertMcpServerSql and kUpdateMcpServerSql (name .. auth_token_id).
void BindMcpServerFields(BoundStatement& stmt, int first, const domain::McpServer& server) {
  stmt.BindText(first, server.name);
  stmt.BindInt64(first + 1, server.enabled ? 1 : 0);
  stmt.BindText(first + 2, server.type);
  stmt.BindText(first + 3, server.transport);
  stmt.BindText(first + 4, server.config.url);
  stmt.BindOptionalText(first + 5, server.config.authorization_header_name);
  stmt.BindOptionalText(first + 6, server.config.authorization_header_token_id);
}

domain::McpServer McpServerFromRow(const BoundStatement& row) {
  domain::McpServer server;
  server.id = row.ColumnText(0);
  server.name = row.ColumnText(1);
  server.enabled = row.ColumnInt64(2) != 0;
  server.type = row.ColumnText(3);
  server.transport = row.ColumnText(4);
  server.config.url = row.ColumnText(5);
  server.config.authorization_header_name = row.ColumnOptionalText(6);
  server.config.authorization_header_token_id = row.ColumnOptionalText(7);
  server.metadata.version = row.ColumnInt64(8);
  server.metadata.created_at_ms = row.ColumnInt64(9);
  server.metadata.modified_at_ms = row.ColumnInt64(10);
  return server;
}

// Binds an agent's column fields to parameters first .. first + 6, in the column order of
// kInsertAgentSql and kUpdateAgentSql (enabled .. doc). `doc` is EncodeAgentDoc(agent), owned by
// the caller until the statement ran (text is bound without a copy).
void BindAgentFields(BoundStatement& stmt, int first, const domain::Agent& agent,
                     const std::string& doc) {
  stmt.BindInt64(first, agent.enabled ? 1 : 0);
  stmt.BindOptionalText(first + 1, agent.type);
  stmt.BindText(first + 2, agent.llm_config.provider);
  stmt.BindText(first + 3, agent.llm_config.model);
  stmt.BindOptionalText(first + 4, agent.llm_config.token_id);
  static const std::optional<std::string> kAbsent;
  const auto& params = agent.llm_config.self_hosted_params;
  // A reference, not a copy: text is bound without a copy.
  stmt.BindOptionalText(first + 5, params ? params->authorization_header_token_id : kAbsent);
  stmt.BindText(first + 6, doc);
}

Result<domain::Agent> AgentFromRow(const BoundStatement& row) {
  domain::Agent agent;
  if (auto decoded = DecodeAgentDoc(row.ColumnText(7), agent); !decoded) {
    return std::move(decoded).error();
  }
  agent.id = row.ColumnText(0);
  agent.enabled = row.ColumnInt64(1) != 0;
  agent.type = row.ColumnOptionalText(2);
  agent.llm_config.provider = row.ColumnText(3);
  agent.llm_config.model = row.ColumnText(4);
  agent.llm_config.token_id = row.ColumnOptionalText(5);
  if (agent.llm_config.self_hosted_params) {
    agent.llm_config.self_hosted_params->authorization_header_token_id = row.ColumnOptionalText(6);
  }
  agent.metadata.version = row.ColumnInt64(8);
  agent.metadata.created_at_ms = row.ColumnInt64(9);
  agent.metadata.modified_at_ms = row.ColumnInt64(10);
  return agent;
}

// A fixed set of connections, each lent to one thread at a time. Waiting is bounded so that a
// stuck connection turns into kUnavailable instead of a hung request.
class ConnectionPool {
 public:
  class Lease {
   public:
    Lease(ConnectionPool* pool, SqliteConnection* conn) : pool_(pool), conn_(conn) {}
    Lease(Lease&& other) noexcept
        : pool_(other.pool_), conn_(std::exchange(other.conn_, nullptr)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_ != nullptr) pool_->Release(conn_);
    }
    SqliteConnection& conn() const { return *conn_; }

   private:
    ConnectionPool* pool_;
    SqliteConnection* conn_;
  };

  explicit ConnectionPool(std::vector<std::unique_ptr<SqliteConnection>> connections)
      : connections_(std::move(connections)) {
    for (auto& conn : connections_) idle_.push_back(conn.get());
  }

  Result<Lease> Acquire(std::chrono::milliseconds timeout, std::string_view what) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return !idle_.empty(); })) {
      return Error::Unavailable("sqlite store " + std::string(what) +
                                ": no connection free within the busy timeout");
    }
    SqliteConnection* conn = idle_.back();
    idle_.pop_back();
    return Lease(this, conn);
  }

 private:
  void Release(SqliteConnection* conn) {
    {
      std::lock_guard lock(mu_);
      idle_.push_back(conn);
    }
    cv_.notify_one();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<SqliteConnection*> idle_;  // guarded by mu_
  const std::vector<std::unique_ptr<SqliteConnection>> connections_;
};

class SqliteTokenStore final : public Store {
 public:
  SqliteTokenStore(std::chrono::milliseconds wait_timeout, std::unique_ptr<SqliteConnection> writer,
                   std::vector<std::unique_ptr<SqliteConnection>> readers)
      : wait_timeout_(wait_timeout),
        writer_(OnePool(std::move(writer))),
        readers_(std::move(readers)) {
    batch_.reserve(kMaxBatch);
  }

  ~SqliteTokenStore() override {
    // Lets the query planner refresh its statistics; cheap, and skipped tables cost nothing.
    if (auto writer = writer_.Acquire(std::chrono::milliseconds(0), "close"); writer.ok()) {
      (void)writer->conn().Exec("PRAGMA optimize", "optimize");
    }
  }

  std::optional<metrics::WriteBatchUsage> WriteBatchUsage() const override {
    metrics::WriteBatchUsage usage;
    usage.commits = commits_.load(std::memory_order_relaxed);
    usage.writes = committed_writes_.load(std::memory_order_relaxed);
    std::lock_guard lock(queue_mu_);
    usage.queued = static_cast<std::int64_t>(queue_.size());
    return usage;
  }

  Result<std::optional<TokenRecord>> Get(std::string_view tenant, std::string_view id) override {
    return NoThrow("get", [&]() -> Result<std::optional<TokenRecord>> {
      auto lease = readers_.Acquire(wait_timeout_, "read");
      if (!lease.ok()) return std::move(lease).error();
      SqliteConnection& conn = lease->conn();
      auto prepared = conn.Prepare(kGetSql);
      if (!prepared.ok()) return std::move(prepared).error();
      BoundStatement stmt(*prepared);
      stmt.BindText(1, tenant);
      stmt.BindText(2, id);
      const int rc = stmt.Step();
      if (rc == SQLITE_DONE) return std::optional<TokenRecord>();
      if (rc != SQLITE_ROW) return SqliteError(conn.handle(), rc, "get");
      TokenRecord record;
      record.token.id = stmt.ColumnText(0);
      record.token.name = stmt.ColumnText(1);
      record.sealed_value = stmt.ColumnBlob(2);
      record.token.metadata.version = stmt.ColumnInt64(3);
      record.token.metadata.created_at_ms = stmt.ColumnInt64(4);
      record.token.metadata.modified_at_ms = stmt.ColumnInt64(5);
      record.key_id = static_cast<std::uint32_t>(stmt.ColumnInt64(6));
      return std::optional<TokenRecord>(std::move(record));
    });
  }

  Result<ListPage> List(const ListQuery& query) override {
    return NoThrow("list", [&]() -> Result<ListPage> {
      return ListRows<domain::Token>(query, sqlite::TokenTable(), [](const BoundStatement& row) {
        domain::Token token;
        token.id = row.ColumnText(0);
        token.name = row.ColumnText(1);
        token.metadata.version = row.ColumnInt64(2);
        token.metadata.created_at_ms = row.ColumnInt64(3);
        token.metadata.modified_at_ms = row.ColumnInt64(4);
        return token;
      });
    });
  }

  Result<Page<domain::McpServer>> ListMcpServers(const ListQuery& query) override {
    return NoThrow("list mcp servers", [&]() -> Result<Page<domain::McpServer>> {
      return ListRows<domain::McpServer>(query, sqlite::McpServerTable(), McpServerFromRow);
    });
  }

  Result<void> Insert(std::string_view tenant, const TokenRecord& record) override {
    return NoThrow("insert", [&]() -> Result<void> {
      auto result = InWriteTransaction<std::monostate>(
          "insert", [&](SqliteConnection& conn) -> Result<std::monostate> {
            auto prepared = conn.Prepare(kInsertSql);
            if (!prepared.ok()) return std::move(prepared).error();
            BoundStatement stmt(*prepared);
            stmt.BindText(1, tenant);
            stmt.BindText(2, record.token.id);
            stmt.BindText(3, record.token.name);
            stmt.BindBlob(4, record.sealed_value);
            stmt.BindInt64(5, record.token.metadata.version);
            stmt.BindInt64(6, record.token.metadata.created_at_ms);
            stmt.BindInt64(7, record.token.metadata.modified_at_ms);
            stmt.BindInt64(8, record.key_id);
            const int rc = stmt.Step();
            if (rc == SQLITE_DONE) return std::monostate{};
            // The primary key decides, atomically; a prior SELECT would race.
            if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
              return Error::Conflict("A token with this id already exists");
            }
            return SqliteError(conn.handle(), rc, "insert");
          });
      if (!result.ok()) return std::move(result).error();
      return Ok();
    });
  }

  Result<void> Update(std::string_view tenant, const domain::Token& updated,
                      std::int64_t expected_version) override {
    return NoThrow("update", [&]() -> Result<void> {
      auto result = InWriteTransaction<std::monostate>(
          "update", [&](SqliteConnection& conn) -> Result<std::monostate> {
            auto prepared = conn.Prepare(kUpdateSql);
            if (!prepared.ok()) return std::move(prepared).error();
            BoundStatement stmt(*prepared);
            stmt.BindText(1, updated.name);
            stmt.BindInt64(2, updated.metadata.modified_at_ms);
            stmt.BindText(3, tenant);
            stmt.BindText(4, updated.id);
            stmt.BindInt64(5, expected_version);
            const int rc = stmt.Step();
            if (rc != SQLITE_DONE) return SqliteError(conn.handle(), rc, "update");
            // The version check is part of the UPDATE itself, so two writers can never both
            // see one row change; zero rows means another write (or a delete) won.
            if (sqlite3_changes64(conn.handle()) != 1) {
              return Error::Conflict("The token was changed or deleted concurrently");
            }
            return std::monostate{};
          });
      if (!result.ok()) return std::move(result).error();
      return Ok();
    });
  }

  Result<DeleteResult> Delete(std::string_view tenant, std::string_view id,
                              const DeleteRequest& request) override {
    return NoThrow("delete", [&]() -> Result<DeleteResult> {
      // BEGIN IMMEDIATE serializes this with every other writer (of any process), so the
      // version check, the referrer lookup, the reference removal and the delete all see one
      // state: a concurrent referrer update either committed before (and is seen here) or
      // runs after (and meets the version this transaction wrote: kConflict).
      return InWriteTransaction<DeleteResult>(
          "delete", [&](SqliteConnection& conn) -> Result<DeleteResult> {
            auto early = DeleteEarlyOutcome(conn, kTokenVersionSql, tenant, id, request);
            if (!early.ok()) return std::move(early).error();
            if (early->has_value()) return std::move(early->value());
            auto referrers = TokenReferrers(conn, tenant, id);
            if (!referrers.ok()) return std::move(referrers).error();
            if (!referrers->empty()) {
              if (request.references == ReferencePolicy::kRefuse) {
                return DeleteResult{DeleteOutcome::kReferenced, std::move(referrers).value()};
              }
              auto prepared = conn.Prepare(kRemoveTokenReferencesSql);
              if (!prepared.ok()) return std::move(prepared).error();
              BoundStatement stmt(*prepared);
              stmt.BindInt64(1, request.now_ms);
              stmt.BindText(2, tenant);
              stmt.BindText(3, id);
              const int rc = stmt.Step();
              if (rc != SQLITE_DONE) return SqliteError(conn.handle(), rc, "remove references");
              auto agents = conn.Prepare(kRemoveAgentTokenReferencesSql);
              if (!agents.ok()) return std::move(agents).error();
              BoundStatement agent_stmt(*agents);
              agent_stmt.BindText(1, tenant);
              agent_stmt.BindText(2, id);
              agent_stmt.BindInt64(3, request.now_ms);
              const int agent_rc = agent_stmt.Step();
              if (agent_rc != SQLITE_DONE) {
                return SqliteError(conn.handle(), agent_rc, "remove agent references");
              }
            }
            if (auto deleted = ExecTexts(conn, kDeleteSql, {tenant, id}, "delete"); !deleted) {
              return std::move(deleted).error();
            }
            return DeleteResult{DeleteOutcome::kDeleted, std::move(referrers).value()};
          });
    });
  }

  Result<std::optional<domain::McpServer>> GetMcpServer(std::string_view tenant,
                                                        std::string_view id) override {
    using Out = std::optional<domain::McpServer>;
    return NoThrow("get mcp server", [&]() -> Result<Out> {
      auto lease = readers_.Acquire(wait_timeout_, "read");
      if (!lease.ok()) return std::move(lease).error();
      SqliteConnection& conn = lease->conn();
      auto prepared = conn.Prepare(kGetMcpServerSql);
      if (!prepared.ok()) return std::move(prepared).error();
      BoundStatement stmt(*prepared);
      stmt.BindText(1, tenant);
      stmt.BindText(2, id);
      const int rc = stmt.Step();
      if (rc == SQLITE_DONE) return Out();
      if (rc != SQLITE_ROW) return SqliteError(conn.handle(), rc, "get mcp server");
      return Out(McpServerFromRow(stmt));
    });
  }

  Result<void> InsertMcpServer(std::string_view tenant, const domain::McpServer& server) override {
    return NoThrow("insert mcp server", [&]() -> Result<void> {
      auto result = InWriteTransaction<std::monostate>(
          "insert mcp server", [&](SqliteConnection& conn) -> Result<std::monostate> {
            if (auto ref = CheckTokenReference(conn, tenant, server); !ref) {
              return std::move(ref).error();
            }
            auto prepared = conn.Prepare(kInsertMcpServerSql);
            if (!prepared.ok()) return std::move(prepared).error();
            BoundStatement stmt(*prepared);
            stmt.BindText(1, tenant);
            stmt.BindText(2, server.id);
            BindMcpServerFields(stmt, 3, server);
            stmt.BindInt64(10, server.metadata.version);
            stmt.BindInt64(11, server.metadata.created_at_ms);
            stmt.BindInt64(12, server.metadata.modified_at_ms);
            const int rc = stmt.Step();
            if (rc == SQLITE_DONE) return std::monostate{};
            if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
              return Error::Conflict("An MCP server with this id already exists");
            }
            // Unreachable after the check above (one writer), kept as the backstop.
            if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return MissingToken(kMcpServerTokenField);
            return SqliteError(conn.handle(), rc, "insert mcp server");
          });
      if (!result.ok()) return std::move(result).error();
      return Ok();
    });
  }

  Result<McpServerUpdateResult> UpdateMcpServer(std::string_view tenant,
                                                const domain::McpServer& updated,
                                                std::int64_t expected_version,
                                                ReferencePolicy enabled_users) override {
    return NoThrow("update mcp server", [&]() -> Result<McpServerUpdateResult> {
      return InWriteTransaction<McpServerUpdateResult>(
          "update mcp server", [&](SqliteConnection& conn) -> Result<McpServerUpdateResult> {
            if (auto ref = CheckTokenReference(conn, tenant, updated); !ref) {
              return std::move(ref).error();
            }
            McpServerUpdateResult outcome;
            if (!updated.enabled) {
              auto disabled =
                  DisableEnabledUsers(conn, tenant, updated, expected_version, enabled_users);
              if (!disabled.ok()) return std::move(disabled).error();
              outcome = std::move(disabled).value();
              if (outcome.refused) return outcome;
            }
            auto prepared = conn.Prepare(kUpdateMcpServerSql);
            if (!prepared.ok()) return std::move(prepared).error();
            BoundStatement stmt(*prepared);
            BindMcpServerFields(stmt, 1, updated);
            stmt.BindInt64(8, updated.metadata.modified_at_ms);
            stmt.BindText(9, tenant);
            stmt.BindText(10, updated.id);
            stmt.BindInt64(11, expected_version);
            const int rc = stmt.Step();
            if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return MissingToken(kMcpServerTokenField);
            if (rc != SQLITE_DONE) return SqliteError(conn.handle(), rc, "update mcp server");
            if (sqlite3_changes64(conn.handle()) != 1) {
              return Error::Conflict("The MCP server was changed or deleted concurrently");
            }
            return outcome;
          });
    });
  }

  Result<DeleteResult> DeleteMcpServer(std::string_view tenant, std::string_view id,
                                       const DeleteRequest& request) override {
    return NoThrow("delete mcp server", [&]() -> Result<DeleteResult> {
      return InWriteTransaction<
          DeleteResult>("delete mcp server", [&](SqliteConnection& conn) -> Result<DeleteResult> {
        auto early = DeleteEarlyOutcome(conn, kMcpServerVersionSql, tenant, id, request);
        if (!early.ok()) return std::move(early).error();
        if (early->has_value()) return std::move(early->value());
        // BEGIN IMMEDIATE: the users read here are all there are until commit.
        auto users = McpServerUsers(conn, tenant, id);
        if (!users.ok()) return std::move(users).error();
        std::vector<Referrer> referrers;
        for (const UsingAgent& user : *users) {
          referrers.push_back(
              Referrer{std::string(kAgentKind), user.id, McpServerEntryField(user.doc_fields, id)});
        }
        if (!referrers.empty()) {
          if (request.references == ReferencePolicy::kRefuse) {
            return DeleteResult{DeleteOutcome::kReferenced, std::move(referrers)};
          }
          for (UsingAgent& user : *users) {
            RemoveMcpServerEntry(user.doc_fields, id);
            auto prepared = conn.Prepare(kRewriteAgentDocSql);
            if (!prepared.ok()) return std::move(prepared).error();
            BoundStatement stmt(*prepared);
            const std::string doc = EncodeAgentDoc(user.doc_fields);
            stmt.BindText(1, doc);
            stmt.BindInt64(2, request.now_ms);
            stmt.BindText(3, tenant);
            stmt.BindText(4, user.id);
            const int rc = stmt.Step();
            if (rc != SQLITE_DONE) return SqliteError(conn.handle(), rc, "remove agent use");
          }
          if (auto removed = ExecTexts(conn, kRemoveMcpServerUsesSql, {tenant, id}, "remove uses");
              !removed) {
            return std::move(removed).error();
          }
        }
        if (auto deleted = ExecTexts(conn, kDeleteMcpServerSql, {tenant, id}, "delete"); !deleted) {
          return std::move(deleted).error();
        }
        return DeleteResult{DeleteOutcome::kDeleted, std::move(referrers)};
      });
    });
  }

  // --- Agents ---

  Result<std::optional<domain::Agent>> GetAgent(std::string_view tenant,
                                                std::string_view id) override {
    using Out = std::optional<domain::Agent>;
    return NoThrow("get agent", [&]() -> Result<Out> {
      auto lease = readers_.Acquire(wait_timeout_, "read");
      if (!lease.ok()) return std::move(lease).error();
      SqliteConnection& conn = lease->conn();
      auto prepared = conn.Prepare(kGetAgentSql);
      if (!prepared.ok()) return std::move(prepared).error();
      BoundStatement stmt(*prepared);
      stmt.BindText(1, tenant);
      stmt.BindText(2, id);
      const int rc = stmt.Step();
      if (rc == SQLITE_DONE) return Out();
      if (rc != SQLITE_ROW) return SqliteError(conn.handle(), rc, "get agent");
      auto agent = AgentFromRow(stmt);
      if (!agent) return std::move(agent).error();
      return Out(std::move(agent).value());
    });
  }

  Result<Page<domain::Agent>> ListAgents(const ListQuery& query) override {
    return NoThrow("list agents", [&]() -> Result<Page<domain::Agent>> {
      return ListRows<domain::Agent>(query, sqlite::AgentTable(), AgentFromRow);
    });
  }

  Result<void> InsertAgent(std::string_view tenant, const domain::Agent& agent) override {
    return NoThrow("insert agent", [&]() -> Result<void> {
      auto result = InWriteTransaction<std::monostate>(
          "insert agent", [&](SqliteConnection& conn) -> Result<std::monostate> {
            if (auto refs = CheckAgentReferences(conn, tenant, agent); !refs) {
              return std::move(refs).error();
            }
            auto prepared = conn.Prepare(kInsertAgentSql);
            if (!prepared.ok()) return std::move(prepared).error();
            BoundStatement stmt(*prepared);
            stmt.BindText(1, tenant);
            stmt.BindText(2, agent.id);
            const std::string doc = EncodeAgentDoc(agent);
            BindAgentFields(stmt, 3, agent, doc);
            stmt.BindInt64(10, agent.metadata.version);
            stmt.BindInt64(11, agent.metadata.created_at_ms);
            stmt.BindInt64(12, agent.metadata.modified_at_ms);
            const int rc = stmt.Step();
            if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
              return Error::Conflict("An agent with this id already exists");
            }
            if (rc != SQLITE_DONE) return SqliteError(conn.handle(), rc, "insert agent");
            if (auto uses = WriteMcpServerUses(conn, tenant, agent); !uses) {
              return std::move(uses).error();
            }
            return std::monostate{};
          });
      if (!result.ok()) return std::move(result).error();
      return Ok();
    });
  }

  Result<void> UpdateAgent(std::string_view tenant, const domain::Agent& updated,
                           std::int64_t expected_version) override {
    return NoThrow("update agent", [&]() -> Result<void> {
      auto result = InWriteTransaction<std::monostate>(
          "update agent", [&](SqliteConnection& conn) -> Result<std::monostate> {
            if (auto refs = CheckAgentReferences(conn, tenant, updated); !refs) {
              return std::move(refs).error();
            }
            auto prepared = conn.Prepare(kUpdateAgentSql);
            if (!prepared.ok()) return std::move(prepared).error();
            BoundStatement stmt(*prepared);
            const std::string doc = EncodeAgentDoc(updated);
            BindAgentFields(stmt, 1, updated, doc);
            stmt.BindInt64(8, updated.metadata.modified_at_ms);
            stmt.BindText(9, tenant);
            stmt.BindText(10, updated.id);
            stmt.BindInt64(11, expected_version);
            const int rc = stmt.Step();
            if (rc != SQLITE_DONE) return SqliteError(conn.handle(), rc, "update agent");
            if (sqlite3_changes64(conn.handle()) != 1) {
              return Error::Conflict("The agent was changed or deleted concurrently");
            }
            if (auto uses = WriteMcpServerUses(conn, tenant, updated); !uses) {
              return std::move(uses).error();
            }
            return std::monostate{};
          });
      if (!result.ok()) return std::move(result).error();
      return Ok();
    });
  }

  Result<DeleteResult> DeleteAgent(std::string_view tenant, std::string_view id,
                                   const DeleteRequest& request) override {
    return NoThrow("delete agent", [&]() -> Result<DeleteResult> {
      return InWriteTransaction<DeleteResult>(
          "delete agent", [&](SqliteConnection& conn) -> Result<DeleteResult> {
            auto early = DeleteEarlyOutcome(conn, kAgentVersionSql, tenant, id, request);
            if (!early.ok()) return std::move(early).error();
            if (early->has_value()) return std::move(early->value());
            // agent_mcp_servers rows go with it (ON DELETE CASCADE).
            if (auto deleted = ExecTexts(conn, kDeleteAgentSql, {tenant, id}, "delete agent");
                !deleted) {
              return std::move(deleted).error();
            }
            return DeleteResult{DeleteOutcome::kDeleted, {}};
          });
    });
  }

  Result<void> Ping() override {
    return NoThrow("ping", [&]() -> Result<void> {
      auto lease = readers_.Acquire(wait_timeout_, "read");
      if (!lease.ok()) return std::move(lease).error();
      SqliteConnection& conn = lease->conn();
      auto prepared = conn.Prepare(kPingSql);
      if (!prepared.ok()) return std::move(prepared).error();
      BoundStatement stmt(*prepared);
      const int rc = stmt.Step();
      if (rc != SQLITE_ROW) return SqliteError(conn.handle(), rc, "ping");
      return Ok();
    });
  }

  Result<std::optional<std::vector<std::uint8_t>>> GetSetting(std::string_view name) override {
    using Out = std::optional<std::vector<std::uint8_t>>;
    return NoThrow("get setting", [&]() -> Result<Out> {
      auto lease = readers_.Acquire(wait_timeout_, "read");
      if (!lease.ok()) return std::move(lease).error();
      SqliteConnection& conn = lease->conn();
      auto prepared = conn.Prepare(kGetSettingSql);
      if (!prepared.ok()) return std::move(prepared).error();
      BoundStatement stmt(*prepared);
      stmt.BindText(1, name);
      const int rc = stmt.Step();
      if (rc == SQLITE_DONE) return Out();
      if (rc != SQLITE_ROW) return SqliteError(conn.handle(), rc, "get setting");
      return Out(stmt.ColumnBlob(0));
    });
  }

  Result<bool> PutSetting(std::string_view name, std::span<const std::uint8_t> value,
                          const std::optional<std::vector<std::uint8_t>>& expected) override {
    return NoThrow("put setting", [&]() -> Result<bool> {
      return InWriteTransaction<bool>("put setting", [&](SqliteConnection& conn) -> Result<bool> {
        auto prepared = conn.Prepare(expected ? kSwapSettingSql : kInsertSettingSql);
        if (!prepared.ok()) return std::move(prepared).error();
        BoundStatement stmt(*prepared);
        if (expected) {
          stmt.BindBlob(1, value);
          stmt.BindText(2, name);
          stmt.BindBlob(3, *expected);
        } else {
          stmt.BindText(1, name);
          stmt.BindBlob(2, value);
        }
        const int rc = stmt.Step();
        if (rc != SQLITE_DONE) return SqliteError(conn.handle(), rc, "put setting");
        return sqlite3_changes64(conn.handle()) == 1;
      });
    });
  }

  Result<std::vector<SealedValueRow>> ListSealedValues(
      const std::optional<SealedValueKey>& after, std::size_t limit,
      std::optional<std::uint32_t> skip_key_id) override {
    return NoThrow("list sealed values", [&]() -> Result<std::vector<SealedValueRow>> {
      if (limit == 0) return Error::Internal("sqlite store list sealed values: limit is 0");
      const auto bounded = static_cast<std::int64_t>(
          std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
      auto lease = readers_.Acquire(wait_timeout_, "read");
      if (!lease.ok()) return std::move(lease).error();
      SqliteConnection& conn = lease->conn();
      auto prepared = conn.Prepare(after ? kListSealedAfterSql : kListSealedFirstSql);
      if (!prepared.ok()) return std::move(prepared).error();
      BoundStatement stmt(*prepared);
      int index = 1;
      if (after) {
        stmt.BindText(index++, after->tenant);
        stmt.BindText(index++, after->id);
      }
      stmt.BindInt64(index++, skip_key_id ? std::int64_t{*skip_key_id} : -1);
      stmt.BindInt64(index, bounded);
      std::vector<SealedValueRow> rows;
      rows.reserve(static_cast<std::size_t>(std::min(bounded, kMaxReserve)));
      int rc;
      while ((rc = stmt.Step()) == SQLITE_ROW) {
        SealedValueRow row;
        row.tenant = stmt.ColumnText(0);
        row.id = stmt.ColumnText(1);
        row.sealed_value = stmt.ColumnBlob(2);
        row.key_id = static_cast<std::uint32_t>(stmt.ColumnInt64(3));
        rows.push_back(std::move(row));
      }
      if (rc != SQLITE_DONE) return SqliteError(conn.handle(), rc, "list sealed values");
      return rows;
    });
  }

  Result<std::vector<bool>> SwapSealedValues(std::span<const SealedValueSwap> swaps) override {
    return NoThrow("swap sealed values", [&]() -> Result<std::vector<bool>> {
      if (swaps.empty()) return std::vector<bool>();
      // One transaction for the batch: one commit (and fsync) instead of one per row, while each
      // UPDATE still decides for its own row whether it may write.
      return InWriteTransaction<std::vector<bool>>(
          "swap sealed values", [&](SqliteConnection& conn) -> Result<std::vector<bool>> {
            std::vector<bool> applied;
            applied.reserve(swaps.size());
            auto prepared = conn.Prepare(kSwapSealedSql);
            if (!prepared.ok()) return std::move(prepared).error();
            for (const SealedValueSwap& swap : swaps) {
              BoundStatement stmt(*prepared);
              stmt.BindBlob(1, swap.replacement);
              stmt.BindInt64(2, swap.replacement_key_id);
              stmt.BindText(3, swap.tenant);
              stmt.BindText(4, swap.id);
              stmt.BindBlob(5, swap.expected);
              const int rc = stmt.Step();
              if (rc != SQLITE_DONE) return SqliteError(conn.handle(), rc, "swap sealed value");
              applied.push_back(sqlite3_changes64(conn.handle()) == 1);
            }
            return applied;
          });
    });
  }

  Result<std::map<std::uint32_t, std::int64_t>> CountSealedValuesByKeyId() override {
    using Out = std::map<std::uint32_t, std::int64_t>;
    return NoThrow("count by key id", [&]() -> Result<Out> {
      auto lease = readers_.Acquire(wait_timeout_, "read");
      if (!lease.ok()) return std::move(lease).error();
      SqliteConnection& conn = lease->conn();
      auto prepared = conn.Prepare(kCountByKeyIdSql);
      if (!prepared.ok()) return std::move(prepared).error();
      BoundStatement stmt(*prepared);
      Out counts;
      int rc;
      while ((rc = stmt.Step()) == SQLITE_ROW) {
        counts[static_cast<std::uint32_t>(stmt.ColumnInt64(0))] = stmt.ColumnInt64(1);
      }
      if (rc != SQLITE_DONE) return SqliteError(conn.handle(), rc, "count by key id");
      return counts;
    });
  }

 private:
  static std::vector<std::unique_ptr<SqliteConnection>> OnePool(
      std::unique_ptr<SqliteConnection> conn) {
    std::vector<std::unique_ptr<SqliteConnection>> pool;
    pool.push_back(std::move(conn));
    return pool;
  }

  // Runs `body` on the writer connection inside a BEGIN IMMEDIATE ... COMMIT that it may share
  // with other writes of this process (group commit, as LevelDB's writer queue): the writer at
  // the front of the queue becomes the leader, runs every queued body in order, each inside
  // its own SAVEPOINT (a failing body is rolled back to it and fails alone), and commits once;
  // with synchronous=FULL that is one fsync for the batch instead of one per write. Success is
  // reported only after COMMIT returned; if the batch's BEGIN or COMMIT fails, every write of
  // the batch fails and none is visible. A body sees the writes queued before it, exactly as
  // if the transactions had run one after another.
  template <typename T, typename Body>
  Result<T> InWriteTransaction(std::string_view what, Body&& body) {
    std::optional<Result<T>> result;
    PendingWrite self;
    self.what = what;
    self.run = [&](SqliteConnection& conn) -> bool {
      try {
        result.emplace(body(conn));
      } catch (const std::exception&) {
        result.emplace(Error::Internal("sqlite store " + std::string(what) + ": exception"));
      }
      return result->ok();
    };

    std::unique_lock lock(queue_mu_);
    queue_.push_back(&self);
    while (!self.done && queue_.front() != &self) self.cv.wait(lock);
    if (!self.done) {
      // Leader. The batch is taken once the write lock is held, so the writes that queued
      // while it waited for the lock (another process's transaction, a checkpoint) join it.
      lock.unlock();
      try {
        RunBatch(self);
      } catch (...) {
        // Out of memory while leading: nothing of the batch committed (~Transaction rolled
        // back), so no write of it may report success.
        if (batch_.empty()) batch_.push_back(&self);
        const Error e = Error::Internal("sqlite store: exception while committing a batch");
        for (PendingWrite* w : batch_) w->failure = e;
      }
      lock.lock();
      for (PendingWrite* w : batch_) {
        queue_.pop_front();
        w->done = true;
        if (w != &self) w->cv.notify_one();
      }
      if (!queue_.empty()) queue_.front()->cv.notify_one();
    }
    lock.unlock();
    if (self.failure) return *self.failure;
    return std::move(*result);
  }

  // The list of any resource: `table` decides the SQL, `decode` turns a row of
  // table.select_columns into an item.
  template <typename Item, typename Decode>
  Result<Page<Item>> ListRows(const ListQuery& query, const sqlite::TableSpec& table,
                              Decode&& decode) {
    auto compiled = sqlite::CompileListQuery(query, table);
    if (!compiled.ok()) return std::move(compiled).error();
    auto lease = readers_.Acquire(wait_timeout_, "read");
    if (!lease.ok()) return std::move(lease).error();
    SqliteConnection& conn = lease->conn();

    // A deferred transaction pins one WAL snapshot for both statements, so the total always
    // describes the same data as the page.
    Transaction tx(conn);
    if (auto begun = tx.Begin("BEGIN"); !begun.ok()) return std::move(begun).error();

    Page<Item> page;
    page.items.reserve(static_cast<std::size_t>(std::min(query.limit, kMaxReserve)));
    {
      auto prepared = conn.Prepare(compiled->page_sql);
      if (!prepared.ok()) return std::move(prepared).error();
      BoundStatement stmt(*prepared);
      BindParams(stmt, compiled->params);
      const int next = static_cast<int>(compiled->params.size()) + 1;
      stmt.BindInt64(next, query.limit);
      stmt.BindInt64(next + 1, query.offset);
      int rc;
      while ((rc = stmt.Step()) == SQLITE_ROW) {
        if constexpr (std::is_same_v<decltype(decode(stmt)), Result<Item>>) {
          auto item = decode(stmt);
          if (!item) return std::move(item).error();
          page.items.push_back(std::move(item).value());
        } else {
          page.items.push_back(decode(stmt));
        }
      }
      if (rc != SQLITE_DONE) return ListError(conn, rc, "list page");
    }
    if (query.count_total) {
      auto prepared = conn.Prepare(compiled->count_sql);
      if (!prepared.ok()) return std::move(prepared).error();
      BoundStatement stmt(*prepared);
      BindParams(stmt, compiled->params);
      const int rc = stmt.Step();
      if (rc != SQLITE_ROW) return ListError(conn, rc, "list count");
      page.total = stmt.ColumnInt64(0);
    }
    if (auto committed = tx.Commit(); !committed.ok()) return std::move(committed).error();
    return page;
  }

  // Inside the write transaction (one writer), so the answer holds until commit; it only turns
  // the foreign keys' verdict into an error naming the first missing reference's field.
  static Result<void> CheckAgentReferences(SqliteConnection& conn, std::string_view tenant,
                                           const domain::Agent& agent) {
    for (const domain::AgentReference& ref : domain::ReferencesOf(agent)) {
      const bool token = ref.target == domain::AgentReference::Target::kToken;
      auto version =
          ReadVersion(conn, token ? kTokenVersionSql : kMcpServerVersionSql, tenant, ref.id);
      if (!version.ok()) return std::move(version).error();
      if (!version->has_value())
        return token ? MissingToken(ref.field) : MissingMcpServer(ref.field);
    }
    return Ok();
  }

  // Replaces the agent's agent_mcp_servers rows by its custom entries.
  static Result<void> WriteMcpServerUses(SqliteConnection& conn, std::string_view tenant,
                                         const domain::Agent& agent) {
    if (auto cleared = ExecTexts(conn, kClearAgentMcpServersSql, {tenant, agent.id}, "clear uses");
        !cleared) {
      return cleared;
    }
    for (const domain::AgentMcpServer& server : agent.mcp_servers) {
      if (!server.mcp_server_id) continue;
      if (auto inserted = ExecTexts(conn, kInsertAgentMcpServerSql,
                                    {tenant, agent.id, *server.mcp_server_id}, "record use");
          !inserted) {
        return inserted;
      }
    }
    return Ok();
  }

  // Agents naming token `id`, one Referrer per referring field.
  static Result<std::vector<Referrer>> TokenAgentReferrers(SqliteConnection& conn,
                                                           std::string_view tenant,
                                                           std::string_view id) {
    auto prepared = conn.Prepare(kTokenAgentReferrersSql);
    if (!prepared.ok()) return std::move(prepared).error();
    BoundStatement stmt(*prepared);
    stmt.BindText(1, tenant);
    stmt.BindText(2, id);
    std::vector<Referrer> referrers;
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      // Sorted by field within an agent: "…selfHostedParams…" < "…token.id".
      if (stmt.ColumnOptionalText(2) == id) {
        referrers.push_back(Referrer{std::string(kAgentKind), stmt.ColumnText(0),
                                     "llmConfig.selfHostedParams.authorizationHeaderToken.id"});
      }
      if (stmt.ColumnOptionalText(1) == id) {
        referrers.push_back(
            Referrer{std::string(kAgentKind), stmt.ColumnText(0), "llmConfig.token.id"});
      }
    }
    if (rc != SQLITE_DONE) return SqliteError(conn.handle(), rc, "find agent referrers");
    return referrers;
  }

  // Agents using MCP server `id` (only the enabled ones if `only_enabled`), each with its
  // document (for the entry's index and, when forced, the entry's removal).
  struct UsingAgent {
    std::string id;
    domain::Agent doc_fields;
  };
  static Result<std::vector<UsingAgent>> McpServerUsers(SqliteConnection& conn,
                                                        std::string_view tenant,
                                                        std::string_view id,
                                                        bool only_enabled = false) {
    auto prepared =
        conn.Prepare(only_enabled ? kEnabledMcpServerUsersSql : kMcpServerAgentReferrersSql);
    if (!prepared.ok()) return std::move(prepared).error();
    BoundStatement stmt(*prepared);
    stmt.BindText(1, tenant);
    stmt.BindText(2, id);
    std::vector<UsingAgent> users;
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      UsingAgent user{stmt.ColumnText(0), {}};
      if (auto decoded = DecodeAgentDoc(stmt.ColumnText(1), user.doc_fields); !decoded) {
        return std::move(decoded).error();
      }
      users.push_back(std::move(user));
    }
    if (rc != SQLITE_DONE) return SqliteError(conn.handle(), rc, "find mcp server users");
    return users;
  }

  // Inside UpdateMcpServer's transaction, for an update leaving the server disabled: when the
  // stored row of expected_version is enabled (the update disables it), the enabled agents
  // using it, refused or disabled as `policy` says. A row of another version is kConflict.
  static Result<McpServerUpdateResult> DisableEnabledUsers(SqliteConnection& conn,
                                                           std::string_view tenant,
                                                           const domain::McpServer& updated,
                                                           std::int64_t expected_version,
                                                           ReferencePolicy policy) {
    McpServerUpdateResult outcome;
    {
      auto prepared = conn.Prepare(kMcpServerEnabledAtVersionSql);
      if (!prepared.ok()) return std::move(prepared).error();
      BoundStatement stmt(*prepared);
      stmt.BindText(1, tenant);
      stmt.BindText(2, updated.id);
      stmt.BindInt64(3, expected_version);
      const int rc = stmt.Step();
      if (rc == SQLITE_DONE) {
        return Error::Conflict("The MCP server was changed or deleted concurrently");
      }
      if (rc != SQLITE_ROW) return SqliteError(conn.handle(), rc, "read mcp server");
      if (stmt.ColumnInt64(0) == 0) return outcome;  // already disabled
    }
    auto users = McpServerUsers(conn, tenant, updated.id, /*only_enabled=*/true);
    if (!users.ok()) return std::move(users).error();
    for (const UsingAgent& user : *users) {
      outcome.enabled_users.push_back(Referrer{std::string(kAgentKind), user.id,
                                               McpServerEntryField(user.doc_fields, updated.id)});
    }
    if (outcome.enabled_users.empty()) return outcome;
    if (policy == ReferencePolicy::kRefuse) {
      outcome.refused = true;
      return outcome;
    }
    for (const UsingAgent& user : *users) {
      auto prepared = conn.Prepare(kDisableAgentSql);
      if (!prepared.ok()) return std::move(prepared).error();
      BoundStatement stmt(*prepared);
      stmt.BindInt64(1, updated.metadata.modified_at_ms);
      stmt.BindText(2, tenant);
      stmt.BindText(3, user.id);
      const int rc = stmt.Step();
      if (rc != SQLITE_DONE) return SqliteError(conn.handle(), rc, "disable agent");
    }
    return outcome;
  }

  static Result<std::vector<Referrer>> TokenReferrers(SqliteConnection& conn,
                                                      std::string_view tenant,
                                                      std::string_view id) {
    // Sorted by kind: agents ("agent") before MCP servers ("mcpServer").
    auto agents = TokenAgentReferrers(conn, tenant, id);
    if (!agents.ok()) return std::move(agents).error();
    std::vector<Referrer> referrers = std::move(agents).value();
    auto prepared = conn.Prepare(kTokenReferrersSql);
    if (!prepared.ok()) return std::move(prepared).error();
    BoundStatement stmt(*prepared);
    stmt.BindText(1, tenant);
    stmt.BindText(2, id);
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      referrers.push_back(Referrer{std::string(kMcpServerKind), stmt.ColumnText(0),
                                   std::string(kMcpServerTokenField)});
    }
    if (rc != SQLITE_DONE) return SqliteError(conn.handle(), rc, "find referrers");
    return referrers;
  }

  // Inside the write transaction, so the answer holds until commit; it only turns the foreign
  // key's verdict into an error that names the field.
  static Result<void> CheckTokenReference(SqliteConnection& conn, std::string_view tenant,
                                          const domain::McpServer& server) {
    const auto& token_id = server.config.authorization_header_token_id;
    if (!token_id) return Ok();
    auto version = ReadVersion(conn, kTokenVersionSql, tenant, *token_id);
    if (!version.ok()) return std::move(version).error();
    if (!version->has_value()) return MissingToken(kMcpServerTokenField);
    return Ok();
  }

  // One write waiting in the group-commit queue; lives on its writer's stack until `done`.
  struct PendingWrite {
    std::string_view what;
    std::function<bool(SqliteConnection&)> run;  // runs the body; true: keep its changes
    std::optional<Error> failure;  // the batch failed as a whole: the body's result is void
    bool done = false;             // guarded by queue_mu_
    std::condition_variable cv;
  };

  // Leads one batch (see InWriteTransaction): takes the write lock, then the queued writes
  // (`leader` first, up to kMaxBatch), runs them and commits. Returns the batch. If the lock
  // cannot be had, only the leader fails; the next in the queue tries again for itself.
  void RunBatch(PendingWrite& leader) {
    std::vector<PendingWrite*>& batch = batch_;
    batch.assign(1, &leader);  // within the reserved capacity: no allocation
    auto lease = writer_.Acquire(wait_timeout_, leader.what);
    if (!lease.ok()) {
      leader.failure = lease.error();
      return;
    }
    SqliteConnection& conn = lease->conn();
    Transaction tx(conn);
    if (auto begun = tx.Begin("BEGIN IMMEDIATE"); !begun.ok()) {
      leader.failure = begun.error();
      return;
    }
    {
      std::lock_guard lock(queue_mu_);
      const std::size_t n = std::min(queue_.size(), kMaxBatch);
      batch.assign(queue_.begin(), queue_.begin() + static_cast<long>(n));  // front is leader
    }
    auto fail_all = [&](const Error& e) {
      for (PendingWrite* w : batch) w->failure = e;
    };
    const bool alone = batch.size() == 1;
    std::size_t kept = 0;
    for (PendingWrite* w : batch) {
      if (!alone) {
        if (auto saved = conn.Exec("SAVEPOINT w", "savepoint"); !saved.ok()) {
          return fail_all(saved.error());
        }
      }
      const bool ok = w->run(conn);
      // An I/O error or a full disk can make SQLite roll the whole transaction back by itself;
      // then nothing of the batch will commit, and every write must say so.
      if (sqlite3_get_autocommit(conn.handle()) != 0) {
        return fail_all(Error::Unavailable("sqlite store: the write transaction was rolled back"));
      }
      if (alone) {
        if (!ok) return;  // its own error; ~Transaction rolls back
      } else if (ok) {
        if (auto released = conn.Exec("RELEASE w", "release"); !released.ok()) {
          return fail_all(released.error());
        }
      } else if (auto undone = conn.Exec("ROLLBACK TO w; RELEASE w", "rollback to savepoint");
                 !undone.ok()) {
        return fail_all(undone.error());
      }
      if (ok) ++kept;
    }
    if (kept == 0) return;  // nothing to make durable; ~Transaction rolls back
    if (auto committed = tx.Commit(); !committed.ok()) return fail_all(committed.error());
    commits_.fetch_add(1, std::memory_order_relaxed);
    committed_writes_.fetch_add(kept, std::memory_order_relaxed);
  }

  static constexpr std::size_t kMaxBatch = 64;

  const std::chrono::milliseconds wait_timeout_;

  mutable std::mutex queue_mu_;
  std::deque<PendingWrite*> queue_;                 // guarded by queue_mu_; the front one leads
  std::atomic<std::uint64_t> commits_{0};           // for WriteBatchUsage
  std::atomic<std::uint64_t> committed_writes_{0};  // for WriteBatchUsage
  // The batch being led; only the leader (queue_.front()) touches it. Capacity kMaxBatch.
  std::vector<PendingWrite*> batch_;

  // Declared first, destroyed last: the last connection to close checkpoints the WAL.
  ConnectionPool writer_;  // exactly one connection
  ConnectionPool readers_;
};

Result<std::string> NormalizeSynchronous(std::string_view value) {
  std::string upper(value);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper == "FULL" || upper == "NORMAL") return upper;
  return Error::InvalidField(
      "synchronous", "invalid",
      "SQLite synchronous must be FULL or NORMAL, not '" + std::string(value.substr(0, 100)) + "'");
}

// Creates the file before SQLite does, with mode 0600: it holds ciphertext and metadata, which
// are nobody else's business. SQLite gives the -wal and -shm files the mode of the database.
Result<void> CreateFilePrivately(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return Ok();
  }
  if (errno == EEXIST) return Ok();
  const std::string reason = std::generic_category().message(errno);
  return Error::Internal("sqlite store: cannot create database file '" + path + "': " + reason);
}

Result<void> Configure(SqliteConnection& conn, const SqliteOptions& options,
                       const std::string& synchronous, bool reader) {
  sqlite3* db = conn.handle();
  if (const int rc = sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
      rc != SQLITE_OK) {
    return SqliteError(db, rc, "busy_timeout");
  }
  const std::string pragma = "PRAGMA synchronous = " + synchronous;  // validated: FULL|NORMAL
  if (auto r = conn.Exec(pragma.c_str(), "synchronous"); !r.ok()) return r;
  if (auto r = conn.Exec("PRAGMA foreign_keys = ON", "foreign_keys"); !r.ok()) return r;
  if (reader) {
    // Readers never write; make a mistake fail loudly instead of bypassing the writer.
    if (auto r = conn.Exec("PRAGMA query_only = ON", "query_only"); !r.ok()) return r;
  }
  if (const int rc = sqlite::RegisterRe2Search(db); rc != SQLITE_OK) {
    return SqliteError(db, rc, "register re2_search");
  }
  return Ok();
}

// SQLite does not always consult the busy handler for a journal mode change: while another
// process (or store) on the same file migrates, this PRAGMA can fail with SQLITE_BUSY at once.
// So it is retried here, within the same busy timeout every other lock wait gets.
Result<void> EnableWal(SqliteConnection& conn, std::chrono::milliseconds busy_timeout) {
  const auto deadline = std::chrono::steady_clock::now() + busy_timeout;
  for (;;) {
    auto prepared = conn.Prepare("PRAGMA journal_mode = WAL");
    if (!prepared.ok()) return std::move(prepared).error();
    BoundStatement stmt(*prepared);
    const int rc = stmt.Step();
    if ((rc & 0xff) == SQLITE_BUSY && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (rc != SQLITE_ROW) return SqliteError(conn.handle(), rc, "journal_mode");
    const std::string mode = stmt.ColumnText(0);
    if (mode != "wal") {
      return Error::Internal("sqlite store: could not switch to WAL mode (journal_mode is '" +
                             mode + "')");
    }
    return Ok();
  }
}

Result<std::unique_ptr<Store>> Open(const SqliteOptions& options) {
  if (options.path.empty() || options.path == ":memory:") {
    return Error::InvalidField("path", "invalid", "SQLite path must name a database file");
  }
  auto synchronous = NormalizeSynchronous(options.synchronous);
  if (!synchronous.ok()) return std::move(synchronous).error();
  if (options.busy_timeout.count() < 0 || options.busy_timeout.count() > INT_MAX) {
    return Error::InvalidField("busyTimeout", "invalid",
                               "SQLite busy timeout must be between 0 and 2147483647 ms");
  }
  if (options.read_connections < 1 || options.read_connections > kMaxReadConnections) {
    return Error::InvalidField("readConnections", "invalid",
                               "SQLite read connections must be between 1 and 64");
  }
  // Connections are handed to one thread at a time, so SQLite's per-connection mutex is not
  // needed (NOMUTEX), but the library itself must be built thread-safe.
  if (sqlite3_threadsafe() == 0) {
    return Error::Internal("sqlite store: the SQLite library was built without thread support");
  }
  if (auto created = CreateFilePrivately(options.path); !created.ok()) return created.error();

  auto writer = SqliteConnection::Open(options.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
  if (!writer.ok()) return std::move(writer).error();
  if (auto r = Configure(**writer, options, *synchronous, false); !r.ok()) return r.error();
  if (auto r = EnableWal(**writer, options.busy_timeout); !r.ok()) return r.error();
  if (auto r = sqlite::ApplyMigrations(**writer, SystemClock().NowMillis()); !r.ok())
    return r.error();

  std::vector<std::unique_ptr<SqliteConnection>> readers;
  for (int i = 0; i < options.read_connections; ++i) {
    auto reader = SqliteConnection::Open(options.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
    if (!reader.ok()) return std::move(reader).error();
    if (auto r = Configure(**reader, options, *synchronous, true); !r.ok()) return r.error();
    readers.push_back(std::move(reader).value());
  }
  return std::unique_ptr<Store>(std::make_unique<SqliteTokenStore>(
      options.busy_timeout, std::move(writer).value(), std::move(readers)));
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  return NoThrow("open", [&] { return Open(options); });
}

}  // namespace ts::store
