// Versioned schema migrations for the PostgreSQL store (its own list, independent of SQLite's).
// Replicas that start together migrate once: the runner holds a session advisory lock while it
// reads the schema version and applies what is missing, each migration in one transaction with
// its row in `schema_migrations`. Where advisory locks do not exist (some PostgreSQL-compatible
// databases), the runner still converges: a migration that loses a race fails on the version
// row's primary key (or an existing object), rolls back, and the version is read again. A
// database whose schema is newer than this binary knows is refused.
// Thread-safety: ApplyPgMigrations uses the connection it is given exclusively.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.h"
#include "store/postgres/pg_connection.h"

namespace ts::store::postgres {

struct PgMigration {
  std::int64_t version;  // 1, 2, 3, ... in order, never reused
  std::string_view description;
  const char* sql;  // trusted constant SQL, may hold several statements
};

std::span<const PgMigration> PgMigrations();
std::int64_t LatestPgSchemaVersion();

// The advisory lock key (any bigint; fixed so every replica uses the same one).
inline constexpr std::int64_t kMigrationLockKey = 0x746f6b656e737663;  // "tokensvc"

// Brings the schema up to LatestPgSchemaVersion(). `now_ms` is recorded as applied_at.
// kInternal (saying so) when the database is newer than this binary.
Result<void> ApplyPgMigrations(PgConnection& conn, std::int64_t now_ms);

}  // namespace ts::store::postgres
