#include "store/postgres/pg_migrations.h"

#include <array>
#include <string>
#include <utility>

#include "common/log.h"

namespace ts::store::postgres {
namespace {

// Append only: a released migration is never edited, only followed by a new one.
//
// Portable on purpose (PostgreSQL 15, and what CockroachDB, YugabyteDB and Citus also accept;
// see docs/scaling.md): plain tables, B-tree indexes, CHECK constraints, no triggers,
// sequences, extensions or stored procedures. Tenant leads the primary key and every index of
// `tokens`, so a distributed database can shard by tenant and every query (which always names
// one tenant) stays on one shard. Timestamps are epoch milliseconds (bigint), like SQLite.
// tenant and id are ASCII from a fixed alphabet, stored as text COLLATE "C" (byte order);
// name is bytea because it may hold any UTF-8, including NUL, which text cannot. key_id holds
// a uint32 (the master key id of the sealed value; see store/token_store.h). `settings` and
// `schema_migrations` are tiny global tables (reference tables on Citus).
constexpr std::array<PgMigration, 3> kMigrations{{
    {1, "create tokens and settings",
     R"sql(
CREATE TABLE tokens (
  tenant       text   COLLATE "C" NOT NULL,
  id           text   COLLATE "C" NOT NULL,
  name         bytea  NOT NULL,
  sealed_value bytea  NOT NULL,
  version      bigint NOT NULL CHECK (version >= 1),
  created_at   bigint NOT NULL,
  modified_at  bigint NOT NULL,
  key_id       bigint NOT NULL DEFAULT 0 CHECK (key_id >= 0 AND key_id <= 4294967295),
  PRIMARY KEY (tenant, id)
);
CREATE INDEX tokens_by_name     ON tokens (tenant, name, id);
CREATE INDEX tokens_by_version  ON tokens (tenant, version, id);
CREATE INDEX tokens_by_created  ON tokens (tenant, created_at, id);
CREATE INDEX tokens_by_modified ON tokens (tenant, modified_at, id);
CREATE INDEX tokens_by_key_id   ON tokens (tenant, key_id);
CREATE TABLE settings (
  name  text  COLLATE "C" NOT NULL PRIMARY KEY,
  value bytea NOT NULL
);
)sql"},
    {2, "mcp servers, referencing tokens",
     // A reference is a column of the referrer with a composite foreign key that includes the
     // tenant (so Citus can co-locate it, see docs/scaling.md): the database refuses a dangling
     // reference whatever the interleaving of replicas. NO ACTION, not SET NULL: removing a
     // reference must also bump the referrer's version and modifiedAt, which the forced delete
     // does itself. mcp_servers_by_token makes "who references token X" an index range and
     // serves the foreign key's checks. name is bytea as in tokens; the other strings are
     // validated (no NUL) and stored as text. enabled is 0/1, like SQLite.
     R"sql(
CREATE TABLE mcp_servers (
  tenant           text   COLLATE "C" NOT NULL,
  id               text   COLLATE "C" NOT NULL,
  name             bytea  NOT NULL,
  enabled          bigint NOT NULL CHECK (enabled IN (0, 1)),
  type             text   COLLATE "C" NOT NULL,
  transport        text   COLLATE "C" NOT NULL,
  url              text   COLLATE "C" NOT NULL,
  auth_header_name text   COLLATE "C",
  auth_token_id    text   COLLATE "C",
  version          bigint NOT NULL CHECK (version >= 1),
  created_at       bigint NOT NULL,
  modified_at      bigint NOT NULL,
  PRIMARY KEY (tenant, id),
  CONSTRAINT mcp_servers_auth_token_fk FOREIGN KEY (tenant, auth_token_id)
    REFERENCES tokens (tenant, id)
);
CREATE INDEX mcp_servers_by_token    ON mcp_servers (tenant, auth_token_id);
CREATE INDEX mcp_servers_by_name     ON mcp_servers (tenant, name, id);
CREATE INDEX mcp_servers_by_version  ON mcp_servers (tenant, version, id);
CREATE INDEX mcp_servers_by_created  ON mcp_servers (tenant, created_at, id);
CREATE INDEX mcp_servers_by_modified ON mcp_servers (tenant, modified_at, id);
)sql"},
    {3, "agents, referencing tokens and mcp servers",
     // docs/design-references.md §3: the fields q and sort use and the two token references are
     // columns, the rest is one JSON document (store/agent_doc.h), and each custom MCP server an
     // agent uses is a row of agent_mcp_servers: the foreign-key guard and the index of "who
     // uses server X". Its rows go with their agent (CASCADE: they are part of the agent, not
     // referrers of it); the references to tokens and servers are NO ACTION, as in migration
     // 2. model is bytea like a name (any UTF-8, NUL included); doc is JSON text (the codec
     // escapes control characters, so it never holds NUL).
     R"sql(
CREATE TABLE agents (
  tenant       text   COLLATE "C" NOT NULL,
  id           text   COLLATE "C" NOT NULL,
  enabled      bigint NOT NULL CHECK (enabled IN (0, 1)),
  type         text   COLLATE "C",
  provider     text   COLLATE "C" NOT NULL,
  model        bytea  NOT NULL,
  llm_token_id text   COLLATE "C",
  sh_token_id  text   COLLATE "C",
  doc          text   NOT NULL,
  version      bigint NOT NULL CHECK (version >= 1),
  created_at   bigint NOT NULL,
  modified_at  bigint NOT NULL,
  PRIMARY KEY (tenant, id),
  CONSTRAINT agents_llm_token_fk FOREIGN KEY (tenant, llm_token_id)
    REFERENCES tokens (tenant, id),
  CONSTRAINT agents_sh_token_fk FOREIGN KEY (tenant, sh_token_id)
    REFERENCES tokens (tenant, id)
);
CREATE INDEX agents_by_llm_token ON agents (tenant, llm_token_id);
CREATE INDEX agents_by_sh_token  ON agents (tenant, sh_token_id);
CREATE INDEX agents_by_provider  ON agents (tenant, provider, id);
CREATE INDEX agents_by_model     ON agents (tenant, model, id);
CREATE INDEX agents_by_enabled   ON agents (tenant, enabled, id);
CREATE INDEX agents_by_version   ON agents (tenant, version, id);
CREATE INDEX agents_by_created   ON agents (tenant, created_at, id);
CREATE INDEX agents_by_modified  ON agents (tenant, modified_at, id);
CREATE TABLE agent_mcp_servers (
  tenant        text COLLATE "C" NOT NULL,
  agent_id      text COLLATE "C" NOT NULL,
  mcp_server_id text COLLATE "C" NOT NULL,
  PRIMARY KEY (tenant, agent_id, mcp_server_id),
  CONSTRAINT agent_mcp_servers_agent_fk FOREIGN KEY (tenant, agent_id)
    REFERENCES agents (tenant, id) ON DELETE CASCADE,
  CONSTRAINT agent_mcp_servers_server_fk FOREIGN KEY (tenant, mcp_server_id)
    REFERENCES mcp_servers (tenant, id)
);
CREATE INDEX agent_mcp_servers_by_server ON agent_mcp_servers (tenant, mcp_server_id);
)sql"},
}};

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version bigint PRIMARY KEY,"
    " applied_at bigint NOT NULL"  // milliseconds since the Unix epoch
    ")";

// SQLSTATEs of a migration that lost a race with another replica's: the version row or an
// object it creates exists already. The loser rolls back and reads the version again.
bool LostRace(std::string_view sqlstate) {
  return sqlstate == "23505" ||  // unique_violation (schema_migrations, or a catalog row)
         sqlstate == "42P07" ||  // duplicate_table (also indexes)
         sqlstate == "42710" ||  // duplicate_object
         IsRetryableSqlState(sqlstate);
}

Result<std::int64_t> CurrentVersion(PgConnection& conn) {
  auto result =
      conn.Exec("SELECT coalesce(max(version), 0)::bigint FROM schema_migrations", {}, false);
  if (!result.ok()) return std::move(result).error();
  return result->Int8(0, 0);
}

// Applies every missing migration. Returns true when it finished, false when it lost a race
// and should be called again.
Result<bool> MigrateOnce(PgConnection& conn, std::int64_t now_ms) {
  if (auto created = conn.ExecScript(kCreateMigrationsTable, "create schema_migrations");
      !created.ok()) {
    if (LostRace(conn.last_sqlstate())) return false;
    return std::move(created).error();
  }
  for (;;) {
    auto current = CurrentVersion(conn);
    if (!current.ok()) return std::move(current).error();
    if (*current > LatestPgSchemaVersion()) {
      const std::string text = "database schema version " + std::to_string(*current) +
                               " is newer than this binary supports (" +
                               std::to_string(LatestPgSchemaVersion()) +
                               "); refusing to open it, upgrade the binary";
      return Error{ErrorCode::kInternal, text, {}, text, {}};
    }
    const PgMigration* next = nullptr;
    for (const PgMigration& migration : kMigrations) {
      if (migration.version > *current) {
        next = &migration;
        break;
      }
    }
    if (next == nullptr) return true;

    if (auto begun = conn.ExecScript("BEGIN", "begin migration"); !begun.ok()) {
      return std::move(begun).error();
    }
    const std::string what = "apply migration " + std::to_string(next->version);
    auto applied = conn.ExecScript(next->sql, what);
    if (applied.ok()) {
      const PgParam params[] = {PgParam::Int8(next->version), PgParam::Int8(now_ms)};
      auto recorded = conn.Exec(
          "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", params, false);
      if (!recorded.ok()) applied = std::move(recorded).error();
    }
    if (applied.ok()) applied = conn.ExecScript("COMMIT", "commit migration");
    if (!applied.ok()) {
      conn.Rollback();
      if (LostRace(conn.last_sqlstate())) return false;
      return std::move(applied).error();
    }
    const std::string version = std::to_string(next->version);
    log::Info("store.migration_applied",
              {{"version", version}, {"description", next->description}, {"backend", "postgres"}});
  }
}

}  // namespace

std::span<const PgMigration> PgMigrations() { return kMigrations; }

std::int64_t LatestPgSchemaVersion() { return kMigrations.back().version; }

Result<void> ApplyPgMigrations(PgConnection& conn, std::int64_t now_ms) {
  // A session-level lock: held across the migrations' transactions, released by the unlock
  // below or, if this process dies, by the server when the connection closes.
  const PgParam key[] = {PgParam::Int8(kMigrationLockKey)};
  bool locked = false;
  if (auto lock = conn.Exec("SELECT pg_advisory_lock($1)", key, false); lock.ok()) {
    locked = true;
  } else if (conn.last_sqlstate() == "42883") {  // undefined_function
    log::Warn("store.migration_lock_unavailable",
              {{"note",
                "no advisory locks on this database; relying on transactional "
                "migrations to settle races between replicas"}});
  } else {
    return std::move(lock).error();
  }
  Result<void> outcome = Ok();
  for (int attempt = 0;; ++attempt) {
    auto done = MigrateOnce(conn, now_ms);
    if (!done.ok()) {
      outcome = std::move(done).error();
      break;
    }
    if (*done) break;
    if (attempt >= 10) {
      outcome = Error::Unavailable("postgres migrations: kept losing races to other replicas");
      break;
    }
  }
  if (locked) {
    if (auto unlock = conn.Exec("SELECT pg_advisory_unlock($1)", key, false);
        !unlock.ok() && outcome.ok()) {
      return std::move(unlock).error();
    }
  }
  return outcome;
}

}  // namespace ts::store::postgres
