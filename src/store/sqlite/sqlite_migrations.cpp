#include "store/sqlite/sqlite_migrations.h"

#include <array>
#include <string>
#include <utility>

#include "common/log.h"

namespace ts::store::sqlite {
namespace {

// Append only: a released migration is never edited, only followed by a new one.
// Tenant leads every index (but tokens_by_key_id, see migration 2) so that every query, which
// always filters by tenant, stays inside one tenant's key range. BINARY collation makes text order
// bytewise (UTF-8 code units), as the API promises. STRICT makes SQLite reject values of the wrong
// type instead of storing them.
constexpr std::array<Migration, 4> kMigrations{{
    {1, "create tokens",
     R"sql(
CREATE TABLE tokens (
  tenant       TEXT    NOT NULL COLLATE BINARY,
  id           TEXT    NOT NULL COLLATE BINARY,
  name         TEXT    NOT NULL COLLATE BINARY,
  sealed_value BLOB    NOT NULL,
  version      INTEGER NOT NULL CHECK (version >= 1),
  created_at   INTEGER NOT NULL,
  modified_at  INTEGER NOT NULL,
  PRIMARY KEY (tenant, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX tokens_by_name     ON tokens (tenant, name, id);
CREATE INDEX tokens_by_version  ON tokens (tenant, version, id);
CREATE INDEX tokens_by_created  ON tokens (tenant, created_at, id);
CREATE INDEX tokens_by_modified ON tokens (tenant, modified_at, id);
)sql"},
    {2, "key ids of sealed values, and settings",
     // key_id mirrors the master key id in each sealed value's header (bytes 5..8, big-endian,
     // after the "tsv1" magic), so key rotation can count and find what still needs an old key
     // without reading every blob. The UPDATE backfills rows written before this migration;
     // from now on the service sets key_id on every write. Its index is the one index not led
     // by tenant: key bookkeeping is the one query that spans all tenants.
     // settings holds a few named blobs, such as the sealed key check.
     R"sql(
ALTER TABLE tokens ADD COLUMN key_id INTEGER NOT NULL DEFAULT 0 CHECK (key_id >= 0);
UPDATE tokens SET key_id =
    ((instr('0123456789ABCDEF', substr(hex(substr(sealed_value, 5, 4)), 1, 1)) - 1) << 28) |
    ((instr('0123456789ABCDEF', substr(hex(substr(sealed_value, 5, 4)), 2, 1)) - 1) << 24) |
    ((instr('0123456789ABCDEF', substr(hex(substr(sealed_value, 5, 4)), 3, 1)) - 1) << 20) |
    ((instr('0123456789ABCDEF', substr(hex(substr(sealed_value, 5, 4)), 4, 1)) - 1) << 16) |
    ((instr('0123456789ABCDEF', substr(hex(substr(sealed_value, 5, 4)), 5, 1)) - 1) << 12) |
    ((instr('0123456789ABCDEF', substr(hex(substr(sealed_value, 5, 4)), 6, 1)) - 1) << 8) |
    ((instr('0123456789ABCDEF', substr(hex(substr(sealed_value, 5, 4)), 7, 1)) - 1) << 4) |
    ((instr('0123456789ABCDEF', substr(hex(substr(sealed_value, 5, 4)), 8, 1)) - 1) << 0)
  WHERE length(sealed_value) >= 120 AND substr(sealed_value, 1, 4) = X'74737631';
CREATE INDEX tokens_by_key_id ON tokens (key_id);
CREATE TABLE settings (
  name  TEXT NOT NULL COLLATE BINARY PRIMARY KEY,
  value BLOB NOT NULL
) STRICT, WITHOUT ROWID;
)sql"},
    {3, "mcp servers, referencing tokens",
     // A reference is a column of the referrer with a composite foreign key to the referenced
     // row (docs/design-references.md): the database refuses a dangling reference whatever
     // the interleaving of writers. NO ACTION, not SET NULL: removing a reference must also
     // bump the referrer's version and modifiedAt, which the forced delete does itself. The
     // index led by (tenant, auth_token_id) makes "who references token X" a range scan, and
     // serves the foreign key's own checks. NULL means absent for the optional fields.
     R"sql(
CREATE TABLE mcp_servers (
  tenant           TEXT    NOT NULL COLLATE BINARY,
  id               TEXT    NOT NULL COLLATE BINARY,
  name             TEXT    NOT NULL COLLATE BINARY,
  enabled          INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  type             TEXT    NOT NULL COLLATE BINARY,
  transport        TEXT    NOT NULL COLLATE BINARY,
  url              TEXT    NOT NULL COLLATE BINARY,
  auth_header_name TEXT    COLLATE BINARY,
  auth_token_id    TEXT    COLLATE BINARY,
  version          INTEGER NOT NULL CHECK (version >= 1),
  created_at       INTEGER NOT NULL,
  modified_at      INTEGER NOT NULL,
  PRIMARY KEY (tenant, id),
  FOREIGN KEY (tenant, auth_token_id) REFERENCES tokens (tenant, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX mcp_servers_by_token     ON mcp_servers (tenant, auth_token_id);
CREATE INDEX mcp_servers_by_name      ON mcp_servers (tenant, name, id);
CREATE INDEX mcp_servers_by_version   ON mcp_servers (tenant, version, id);
CREATE INDEX mcp_servers_by_created   ON mcp_servers (tenant, created_at, id);
CREATE INDEX mcp_servers_by_modified  ON mcp_servers (tenant, modified_at, id);
)sql"},
    {4, "agents, referencing tokens and mcp servers",
     // Queried fields and token references are columns (compiled q and sort, foreign keys);
     // the rest is one JSON document (store/agent_doc.h) that no SQL looks into. Each custom
     // MCP server an agent uses is a row of agent_mcp_servers: its foreign key refuses a
     // dangling reference, its index answers "who uses server X". Token references are NO
     // ACTION for the reason given in migration 3.
     R"sql(
CREATE TABLE agents (
  tenant       TEXT    NOT NULL COLLATE BINARY,
  id           TEXT    NOT NULL COLLATE BINARY,
  enabled      INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  type         TEXT    COLLATE BINARY,
  provider     TEXT    NOT NULL COLLATE BINARY,
  model        TEXT    NOT NULL COLLATE BINARY,
  llm_token_id TEXT    COLLATE BINARY,
  sh_token_id  TEXT    COLLATE BINARY,
  doc          TEXT    NOT NULL,
  version      INTEGER NOT NULL CHECK (version >= 1),
  created_at   INTEGER NOT NULL,
  modified_at  INTEGER NOT NULL,
  PRIMARY KEY (tenant, id),
  FOREIGN KEY (tenant, llm_token_id) REFERENCES tokens (tenant, id),
  FOREIGN KEY (tenant, sh_token_id) REFERENCES tokens (tenant, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX agents_by_llm_token ON agents (tenant, llm_token_id);
CREATE INDEX agents_by_sh_token  ON agents (tenant, sh_token_id);
CREATE INDEX agents_by_provider  ON agents (tenant, provider, id);
CREATE INDEX agents_by_model     ON agents (tenant, model, id);
CREATE INDEX agents_by_enabled   ON agents (tenant, enabled, id);
CREATE INDEX agents_by_version   ON agents (tenant, version, id);
CREATE INDEX agents_by_created   ON agents (tenant, created_at, id);
CREATE INDEX agents_by_modified  ON agents (tenant, modified_at, id);
CREATE TABLE agent_mcp_servers (
  tenant        TEXT NOT NULL COLLATE BINARY,
  agent_id      TEXT NOT NULL COLLATE BINARY,
  mcp_server_id TEXT NOT NULL COLLATE BINARY,
  PRIMARY KEY (tenant, agent_id, mcp_server_id),
  FOREIGN KEY (tenant, agent_id) REFERENCES agents (tenant, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant, mcp_server_id) REFERENCES mcp_servers (tenant, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX agent_mcp_servers_by_server ON agent_mcp_servers (tenant, mcp_server_id);
)sql"},
}};

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " applied_at INTEGER NOT NULL"  // milliseconds since the Unix epoch
    ") STRICT";

Result<std::int64_t> CurrentVersion(SqliteConnection& conn) {
  auto stmt = conn.Prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!stmt.ok()) return std::move(stmt).error();
  BoundStatement query(*stmt);
  const int rc = query.Step();
  if (rc != SQLITE_ROW) return SqliteError(conn.handle(), rc, "read schema version");
  return query.ColumnInt64(0);
}

Result<void> RecordVersion(SqliteConnection& conn, std::int64_t version, std::int64_t now_ms) {
  auto stmt = conn.Prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
  if (!stmt.ok()) return std::move(stmt).error();
  BoundStatement insert(*stmt);
  insert.BindInt64(1, version);
  insert.BindInt64(2, now_ms);
  const int rc = insert.Step();
  if (rc != SQLITE_DONE) return SqliteError(conn.handle(), rc, "record schema version");
  return Ok();
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

std::int64_t LatestSchemaVersion() { return kMigrations.back().version; }

Result<void> ApplyMigrations(SqliteConnection& conn, std::int64_t now_ms) {
  // One transaction per migration; the version is re-read inside each, because another
  // process may have migrated the same file in the meantime.
  for (;;) {
    Transaction tx(conn);
    if (auto begun = tx.Begin("BEGIN IMMEDIATE"); !begun.ok()) return begun;
    if (auto created = conn.Exec(kCreateMigrationsTable, "create schema_migrations");
        !created.ok()) {
      return created;
    }
    auto current = CurrentVersion(conn);
    if (!current.ok()) return std::move(current).error();
    if (*current > LatestSchemaVersion()) {
      const std::string text = "database schema version " + std::to_string(*current) +
                               " is newer than this binary supports (" +
                               std::to_string(LatestSchemaVersion()) +
                               "); refusing to open it, upgrade the binary";
      return Error{ErrorCode::kInternal, text, {}, text, {}};
    }
    const Migration* next = nullptr;
    for (const Migration& migration : kMigrations) {
      if (migration.version > *current) {
        next = &migration;
        break;
      }
    }
    if (next == nullptr) return tx.Commit();

    const std::string what = "apply migration " + std::to_string(next->version);
    if (auto applied = conn.Exec(next->sql, what); !applied.ok()) return applied;
    if (auto recorded = RecordVersion(conn, next->version, now_ms); !recorded.ok()) {
      return recorded;
    }
    if (auto committed = tx.Commit(); !committed.ok()) return committed;
    const std::string version = std::to_string(next->version);
    log::Info("store.migration_applied",
              {{"version", version}, {"description", next->description}});
  }
}

}  // namespace ts::store::sqlite
