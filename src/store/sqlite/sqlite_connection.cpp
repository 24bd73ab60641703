#include "store/sqlite/sqlite_connection.h"

#include <utility>

namespace ts::store::sqlite {

Error SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string internal = "sqlite ";
  internal.append(what);
  internal += ": ";
  internal += sqlite3_errstr(rc);
  internal += " (" + std::to_string(rc) + ")";
  // The connection's message is more specific than errstr, but only if it belongs to this rc
  // (a failed bind, for instance, does not set it).
  if (db != nullptr && sqlite3_extended_errcode(db) == rc) {
    internal += ": ";
    internal += sqlite3_errmsg(db);
  }
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return Error::Unavailable(std::move(internal));
  }
  return Error::Internal(std::move(internal));
}

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path,
                                                                 int flags) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error error = SqliteError(db, rc, "open");
    sqlite3_close_v2(db);  // sqlite3_open_v2 allocates a handle even when it fails
    return error;
  }
  sqlite3_extended_result_codes(db, 1);
  // Defensive mode forbids writes to the schema and other footguns that could corrupt a
  // database holding secrets; nothing here needs them.
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  return std::unique_ptr<SqliteConnection>(new SqliteConnection(db));
}

SqliteConnection::~SqliteConnection() {
  by_sql_.clear();
  for (CachedStatement& cached : lru_) sqlite3_finalize(cached.stmt);
  lru_.clear();
  sqlite3_close_v2(db_);
}

Result<void> SqliteConnection::Exec(const char* sql, std::string_view what) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, what);
  return Ok();
}

Result<sqlite3_stmt*> SqliteConnection::Prepare(std::string_view sql) {
  if (auto it = by_sql_.find(sql); it != by_sql_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->stmt;
  }
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteError(db_, rc, "prepare");
  }
  if (stmt == nullptr || tail != sql.data() + sql.size()) {
    // Only one statement per cache entry: a trailing second statement would never run.
    sqlite3_finalize(stmt);
    return Error::Internal("sqlite prepare: expected exactly one statement");
  }
  // Evict the least recently used statement. A caller may still hold the statement it prepared
  // just before this one (List keeps the page and count statements at once); those are the most
  // recently used, so they are never the victim.
  if (lru_.size() >= kStatementCacheSize) {
    CachedStatement& victim = lru_.back();
    by_sql_.erase(victim.sql);
    sqlite3_finalize(victim.stmt);
    lru_.pop_back();
  }
  lru_.push_front(CachedStatement{std::string(sql), stmt});
  by_sql_.emplace(lru_.front().sql, lru_.begin());
  return stmt;
}

BoundStatement::~BoundStatement() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void BoundStatement::Remember(int rc) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void BoundStatement::BindText(int index, std::string_view text) {
  // A null pointer would bind SQL NULL, not an empty string.
  const char* data = text.empty() ? "" : text.data();
  Remember(sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_STATIC, SQLITE_UTF8));
}

void BoundStatement::BindOptionalText(int index, const std::optional<std::string>& text) {
  if (text) {
    BindText(index, *text);
  } else {
    Remember(sqlite3_bind_null(stmt_, index));
  }
}

void BoundStatement::BindInt64(int index, std::int64_t value) {
  Remember(sqlite3_bind_int64(stmt_, index, value));
}

void BoundStatement::BindBlob(int index, std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) {
    // sqlite3_bind_blob with a null pointer binds NULL; an empty blob is a zeroblob.
    Remember(sqlite3_bind_zeroblob(stmt_, index, 0));
    return;
  }
  Remember(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_STATIC));
}

int BoundStatement::Step() {
  if (bind_rc_ != SQLITE_OK) return bind_rc_;
  return sqlite3_step(stmt_);
}

std::int64_t BoundStatement::ColumnInt64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::optional<std::string> BoundStatement::ColumnOptionalText(int column) const {
  if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
  return ColumnText(column);
}

std::string BoundStatement::ColumnText(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr || size <= 0) return std::string();
  return std::string(text, static_cast<std::size_t>(size));
}

std::vector<std::uint8_t> BoundStatement::ColumnBlob(int column) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return {};
  return std::vector<std::uint8_t>(data, data + size);
}

Transaction::~Transaction() {
  // After a failed COMMIT SQLite may already have rolled back by itself; only roll back what is
  // still open.
  if (open_ && sqlite3_get_autocommit(conn_.handle()) == 0) {
    (void)conn_.Exec("ROLLBACK", "rollback");
  }
}

Result<void> Transaction::Begin(const char* begin_sql) {
  auto stmt = conn_.Prepare(begin_sql);
  if (!stmt.ok()) return std::move(stmt).error();
  BoundStatement begin(*stmt);
  const int rc = begin.Step();
  if (rc != SQLITE_DONE) return SqliteError(conn_.handle(), rc, "begin");
  open_ = true;
  return Ok();
}

Result<void> Transaction::Commit() {
  auto stmt = conn_.Prepare("COMMIT");
  if (!stmt.ok()) return std::move(stmt).error();
  BoundStatement commit(*stmt);
  const int rc = commit.Step();
  if (rc != SQLITE_DONE) return SqliteError(conn_.handle(), rc, "commit");
  open_ = false;
  return Ok();
}

}  // namespace ts::store::sqlite
