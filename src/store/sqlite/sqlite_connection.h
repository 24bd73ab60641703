// SqliteConnection: one sqlite3 handle with its cache of prepared statements, plus the small
// tools every SQLite call site needs: BoundStatement (bind, step, always reset), Transaction
// (rolls back unless committed) and SqliteError (SQLite result code -> ts::Error, with the
// SQLite text kept internal).
// Not thread-safe: a connection, and everything obtained from it, is used by one thread at a
// time; SqliteTokenStore hands connections out exclusively.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"

namespace ts::store::sqlite {

// Maps a failed SQLite call to an Error. BUSY/LOCKED (the busy timeout ran out) is
// kUnavailable; everything else is kInternal. `what` names the operation; SQLite's message
// only goes into Error::internal.
Error SqliteError(sqlite3* db, int rc, std::string_view what);

class SqliteConnection {
 public:
  // Opens `path` with `flags` (SQLITE_OPEN_*), enables extended result codes and defensive mode.
  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path, int flags);

  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;
  ~SqliteConnection();

  sqlite3* handle() const { return db_; }

  // Runs trusted, constant SQL (may hold several statements) that returns no rows.
  Result<void> Exec(const char* sql, std::string_view what);

  // Returns the cached prepared statement for `sql` (prepared on first use). The statement is
  // owned by the connection and stays valid until kStatementCacheSize other distinct statements
  // have been prepared after it; bind and step it through a BoundStatement.
  Result<sqlite3_stmt*> Prepare(std::string_view sql);

  static constexpr std::size_t kStatementCacheSize = 64;

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}

  struct CachedStatement {
    std::string sql;
    sqlite3_stmt* stmt;
  };

  sqlite3* db_;
  std::list<CachedStatement> lru_;  // most recently used first
  std::unordered_map<std::string_view, std::list<CachedStatement>::iterator> by_sql_;
};

// Binds parameters (1-based) and steps a prepared statement; resets it and clears its bindings
// on destruction, so a cached statement never holds a read snapshot or a dangling pointer.
// Bound strings and blobs are not copied: they must outlive the BoundStatement.
class BoundStatement {
 public:
  explicit BoundStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  BoundStatement(const BoundStatement&) = delete;
  BoundStatement& operator=(const BoundStatement&) = delete;
  ~BoundStatement();

  void BindText(int index, std::string_view text);
  void BindInt64(int index, std::int64_t value);
  void BindBlob(int index, std::span<const std::uint8_t> bytes);
  // SQL NULL for nullopt: how optional fields are stored.
  void BindOptionalText(int index, const std::optional<std::string>& text);

  // SQLITE_ROW, SQLITE_DONE or an error code (including the first failed bind).
  int Step();

  std::int64_t ColumnInt64(int column) const;
  std::string ColumnText(int column) const;
  std::optional<std::string> ColumnOptionalText(int column) const;  // nullopt for NULL
  std::vector<std::uint8_t> ColumnBlob(int column) const;

 private:
  void Remember(int rc);

  sqlite3_stmt* stmt_;
  int bind_rc_ = SQLITE_OK;
};

// A transaction on one connection that rolls back when it goes out of scope uncommitted, so an
// early error return never leaves a transaction (or a write lock) behind.
class Transaction {
 public:
  explicit Transaction(SqliteConnection& conn) : conn_(conn) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // `begin_sql` is "BEGIN" (deferred: a consistent read snapshot from the first read) or
  // "BEGIN IMMEDIATE" (takes the write lock now, waiting up to the busy timeout).
  Result<void> Begin(const char* begin_sql);
  Result<void> Commit();

 private:
  SqliteConnection& conn_;
  bool open_ = false;
};

}  // namespace ts::store::sqlite
