// Versioned schema migrations for the SQLite store. Migrations are an ordered list; each is
// applied in its own transaction together with its row in `schema_migrations`, so a crash
// leaves the schema at one version or the next. A database whose schema is newer than the
// newest migration this binary knows is refused: an older binary must not write to it.
// Thread-safety: ApplyMigrations uses the connection it is given exclusively; several processes
// opening one database at once are serialized by BEGIN IMMEDIATE.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.h"
#include "store/sqlite/sqlite_connection.h"

namespace ts::store::sqlite {

struct Migration {
  std::int64_t version;  // 1, 2, 3, ... in order, never reused
  std::string_view description;
  const char* sql;  // trusted constant SQL, may hold several statements
};

std::span<const Migration> Migrations();
std::int64_t LatestSchemaVersion();

// Brings the schema of `conn`'s database up to LatestSchemaVersion(). `now_ms` is recorded as
// applied_at. kInternal (with a message saying so) when the database is newer than this binary.
Result<void> ApplyMigrations(SqliteConnection& conn, std::int64_t now_ms);

}  // namespace ts::store::sqlite
