// SQLite-specific tests: options, file and journal setup, migrations bookkeeping, error
// mapping, the compiled SQL and its query plans, and the re2_search function. Behaviour every
// backend shares is in store/store_conformance_test.cpp.
#include "store/sqlite/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/re2_search.h"
#include "store/sqlite/sqlite_migrations.h"
#include "store/sqlite/sqlite_query.h"

namespace ts::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class TempDir {
 public:
  TempDir() {
    char dir_template[] = "/tmp/ts-sqlite-store-XXXXXX";
    const char* dir = ::mkdtemp(dir_template);
    if (dir == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = dir == nullptr ? std::string() : std::string(dir);
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A plain connection to inspect or tamper with a database behind the store's back.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  sqlite3* get() const { return db_; }

  int Exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }

  // All rows of `sql`, each row's columns joined by '|'.
  std::vector<std::string> Rows(const std::string& sql) {
    std::vector<std::string> rows;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        if (i > 0) row += '|';
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        row += text == nullptr ? "NULL" : text;
      }
      rows.push_back(row);
    }
    sqlite3_finalize(stmt);
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
};

SqliteOptions OptionsFor(const std::string& path) {
  SqliteOptions options;
  options.path = path;
  options.read_connections = 2;
  return options;
}

std::unique_ptr<Store> MustOpen(const SqliteOptions& options) {
  auto opened = OpenSqliteStore(options);
  EXPECT_TRUE(opened.ok()) << opened.error().message << " / " << opened.error().internal;
  if (!opened.ok()) return nullptr;
  return std::move(opened).value();
}

TokenRecord Record(const std::string& id) {
  TokenRecord record;
  record.token.id = id;
  record.token.name = id;
  record.sealed_value = {1};
  return record;
}

TEST(SqliteStoreOptions, SynchronousMustBeFullOrNormal) {
  TempDir dir;
  for (const char* bad : {"OFF", "EXTRA", "", "0", "FULL; DROP TABLE x"}) {
    SqliteOptions options = OptionsFor(dir.File("bad.db"));
    options.synchronous = bad;
    auto opened = OpenSqliteStore(options);
    ASSERT_FALSE(opened.ok()) << bad;
    EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  for (const char* good : {"FULL", "NORMAL", "normal", "Full"}) {
    SqliteOptions options = OptionsFor(dir.File("good.db"));
    options.synchronous = good;
    EXPECT_NE(MustOpen(options), nullptr) << good;
  }
}

TEST(SqliteStoreOptions, OtherBadOptionsAreInvalidArgument) {
  TempDir dir;
  std::vector<SqliteOptions> bad(5, OptionsFor(dir.File("t.db")));
  bad[0].path = "";
  bad[1].path = ":memory:";
  bad[2].read_connections = 0;
  bad[3].read_connections = 65;
  bad[4].busy_timeout = std::chrono::milliseconds(-1);
  for (const auto& options : bad) {
    auto opened = OpenSqliteStore(options);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(SqliteStoreOpen, MissingDirectoryOrNonDatabaseFileFailsCleanly) {
  TempDir dir;
  auto missing = OpenSqliteStore(OptionsFor(dir.File("no/such/dir/t.db")));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kInternal);

  const std::string garbage = dir.File("garbage.db");
  std::ofstream(garbage) << std::string(8192, 'x');
  auto not_db = OpenSqliteStore(OptionsFor(garbage));
  ASSERT_FALSE(not_db.ok());
  EXPECT_EQ(not_db.error().code, ErrorCode::kInternal);
  EXPECT_THAT(not_db.error().message, Not(HasSubstr("sqlite")));
}

TEST(SqliteStoreOpen, CreatesPrivateFilesInWalMode) {
  TempDir dir;
  const std::string path = dir.File("t.db");
  auto store = MustOpen(OptionsFor(path));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Insert("acme", Record("k")).ok());

  for (const std::string& file : {path, path + "-wal", path + "-shm"}) {
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
  RawDb raw(path);
  EXPECT_THAT(raw.Rows("PRAGMA journal_mode"), ::testing::ElementsAre("wal"));
}

TEST(SqliteStoreOpen, SchemaHasTenantLedIndexesAndBinaryCollation) {
  TempDir dir;
  const std::string path = dir.File("t.db");
  ASSERT_NE(MustOpen(OptionsFor(path)), nullptr);
  RawDb raw(path);
  EXPECT_THAT(raw.Rows("SELECT name FROM pragma_index_list('tokens') WHERE origin = 'c' "
                       "ORDER BY name"),
              ::testing::ElementsAre("tokens_by_created", "tokens_by_key_id", "tokens_by_modified",
                                     "tokens_by_name", "tokens_by_version"));
  // The one index that spans tenants: key rotation bookkeeping counts per key id.
  EXPECT_THAT(raw.Rows("SELECT name FROM pragma_index_xinfo('tokens_by_key_id') WHERE key = 1"),
              ::testing::ElementsAre("key_id"));
  for (const auto& [index, column] :
       std::vector<std::pair<std::string, std::string>>{{"tokens_by_name", "name"},
                                                        {"tokens_by_version", "version"},
                                                        {"tokens_by_created", "created_at"},
                                                        {"tokens_by_modified", "modified_at"}}) {
    EXPECT_THAT(raw.Rows("SELECT name, coll FROM pragma_index_xinfo('" + index +
                         "') WHERE key = 1 ORDER BY seqno"),
                ::testing::ElementsAre("tenant|BINARY", column + "|BINARY", "id|BINARY"))
        << index;
  }
}

TEST(SqliteStoreMigrations, AppliedOnceAndRecorded) {
  TempDir dir;
  const std::string path = dir.File("t.db");
  ASSERT_NE(MustOpen(OptionsFor(path)), nullptr);
  ASSERT_NE(MustOpen(OptionsFor(path)), nullptr);  // reopen: nothing to do
  RawDb raw(path);
  std::vector<std::string> expected;
  for (const auto& migration : sqlite::Migrations()) {
    expected.push_back(std::to_string(migration.version));
  }
  EXPECT_EQ(raw.Rows("SELECT version FROM schema_migrations ORDER BY version"), expected);
  EXPECT_EQ(std::to_string(sqlite::LatestSchemaVersion()), expected.back());
}

// A database written by a binary from before migration 2 gets key ids from its sealed bytes.
TEST(SqliteStoreMigrations, KeyIdsAreBackfilledFromSealedHeaders) {
  TempDir dir;
  const std::string path = dir.File("t.db");
  std::ofstream(path).close();  // an empty file is an empty database
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
                       " applied_at INTEGER NOT NULL) STRICT"),
              SQLITE_OK);
    ASSERT_EQ(raw.Exec(sqlite::Migrations()[0].sql), SQLITE_OK);
    ASSERT_EQ(raw.Exec("INSERT INTO schema_migrations VALUES (1, 0)"), SQLITE_OK);
    // "tsv1", key id 0x0102A3F4 big-endian, then the rest of a 120-byte minimum.
    ASSERT_EQ(raw.Exec("INSERT INTO tokens VALUES ('acme', 'sealed', 'n',"
                       " CAST(X'74737631' || X'0102A3F4' || zeroblob(112) AS BLOB), 1, 0, 0)"),
              SQLITE_OK);
    ASSERT_EQ(raw.Exec("INSERT INTO tokens VALUES ('acme', 'short', 'n',"
                       " CAST(X'74737631' || X'00000005' AS BLOB), 1, 0, 0)"),
              SQLITE_OK);
    ASSERT_EQ(raw.Exec("INSERT INTO tokens VALUES ('acme', 'other', 'n',"
                       " CAST(X'00000000' || X'00000005' || zeroblob(112) AS BLOB), 1, 0, 0)"),
              SQLITE_OK);
  }
  auto store = MustOpen(OptionsFor(path));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Get("acme", "sealed")->value().key_id, 0x0102A3F4u);
  EXPECT_EQ(store->Get("acme", "short")->value().key_id, 0u);  // too short to be tsv1
  EXPECT_EQ(store->Get("acme", "other")->value().key_id, 0u);  // not tsv1
}

TEST(SqliteStoreMigrations, NewerSchemaIsRefusedWithoutTouchingTheData) {
  TempDir dir;
  const std::string path = dir.File("t.db");
  {
    auto store = MustOpen(OptionsFor(path));
    ASSERT_TRUE(store->Insert("acme", Record("k")).ok());
  }
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("INSERT INTO schema_migrations VALUES (" +
                       std::to_string(sqlite::LatestSchemaVersion() + 1) + ", 0)"),
              SQLITE_OK);
  }
  auto opened = OpenSqliteStore(OptionsFor(path));
  ASSERT_FALSE(opened.ok());
  EXPECT_THAT(opened.error().internal, HasSubstr("newer than this binary"));
  RawDb raw(path);
  EXPECT_THAT(raw.Rows("SELECT id FROM tokens"), ::testing::ElementsAre("k"));
}

TEST(SqliteStoreMigrations, TwoStoresOpeningOneFileAtOnceBothSucceed) {
  TempDir dir;
  const std::string path = dir.File("t.db");
  Result<std::unique_ptr<Store>> first = Error{};
  Result<std::unique_ptr<Store>> second = Error{};
  std::thread a([&] { first = OpenSqliteStore(OptionsFor(path)); });
  std::thread b([&] { second = OpenSqliteStore(OptionsFor(path)); });
  a.join();
  b.join();
  ASSERT_TRUE(first.ok()) << first.error().internal;
  ASSERT_TRUE(second.ok()) << second.error().internal;

  // Two stores on one file behave like two replicas on one database: the lock is the database's.
  ASSERT_TRUE((*first)->Insert("acme", Record("k")).ok());
  auto got = (*second)->Get("acme", "k");
  ASSERT_TRUE(got.ok() && got->has_value());
  domain::Token update = got->value().token;
  update.name = "from first";
  ASSERT_TRUE((*first)->Update("acme", update, 1).ok());
  update.name = "from second";
  auto lost = (*second)->Update("acme", update, 1);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code, ErrorCode::kConflict);
}

TEST(SqliteStoreErrors, WriteLockHeldElsewhereIsUnavailableAfterTimeout) {
  TempDir dir;
  const std::string path = dir.File("t.db");
  SqliteOptions options = OptionsFor(path);
  options.busy_timeout = std::chrono::milliseconds(100);
  auto store = MustOpen(options);
  RawDb other(path);
  ASSERT_EQ(other.Exec("BEGIN IMMEDIATE"), SQLITE_OK);

  auto blocked = store->Insert("acme", Record("k"));
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().code, ErrorCode::kUnavailable);
  // Reads are not blocked by a writer in WAL mode.
  EXPECT_TRUE(store->Get("acme", "k").ok());

  ASSERT_EQ(other.Exec("COMMIT"), SQLITE_OK);
  EXPECT_TRUE(store->Insert("acme", Record("k")).ok());
}

TEST(SqliteStoreGroupCommit, WritesQueuedTogetherEachGetTheirOwnOutcome) {
  // An outside transaction holds the write lock, so the writes below queue up behind their
  // leader and (most likely) commit as one batch when it ends. Whether or not they do, every
  // write must get exactly the outcome it would get alone: a failing write fails alone.
  TempDir dir;
  const std::string path = dir.File("t.db");
  SqliteOptions options = OptionsFor(path);
  options.busy_timeout = std::chrono::milliseconds(20000);
  auto store = MustOpen(options);
  ASSERT_TRUE(store->Insert("acme", Record("taken")).ok());
  const metrics::WriteBatchUsage before = store->WriteBatchUsage().value();
  RawDb other(path);
  ASSERT_EQ(other.Exec("BEGIN IMMEDIATE"), SQLITE_OK);

  constexpr int kThreads = 12;
  std::vector<Result<void>> inserts(kThreads, Ok());
  std::vector<Result<void>> updates(kThreads, Ok());
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      // Odd threads collide with an existing id; even ones create their own.
      inserts[i] = store->Insert("acme", Record(i % 2 ? "taken" : "new-" + std::to_string(i)));
      // Only one stale-version update can win per version; "taken" is at version 1.
      domain::Token renamed;
      renamed.id = "taken";
      renamed.name = "renamed by " + std::to_string(i);
      updates[i] = store->Update("acme", renamed, 1);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // only lets the queue fill
  ASSERT_EQ(other.Exec("COMMIT"), SQLITE_OK);
  for (auto& t : threads) t.join();

  int updated = 0;
  for (int i = 0; i < kThreads; ++i) {
    if (i % 2) {
      ASSERT_FALSE(inserts[i].ok());
      EXPECT_EQ(inserts[i].error().code, ErrorCode::kConflict);
    } else {
      EXPECT_TRUE(inserts[i].ok()) << inserts[i].error().internal;
      EXPECT_TRUE(store->Get("acme", "new-" + std::to_string(i))->has_value());
    }
    if (updates[i].ok()) {
      ++updated;
    } else {
      EXPECT_EQ(updates[i].error().code, ErrorCode::kConflict);
    }
  }
  EXPECT_EQ(updated, 1);
  EXPECT_EQ((*store->Get("acme", "taken"))->token.metadata.version, 2);
  // The metrics count the committed writes (6 creates, 1 update; refused ones are not) and at
  // most one commit each; nothing is left queued.
  const metrics::WriteBatchUsage after = store->WriteBatchUsage().value();
  EXPECT_EQ(after.writes - before.writes, 7u);
  EXPECT_GE(after.commits - before.commits, 1u);
  EXPECT_LE(after.commits - before.commits, 7u);
  EXPECT_EQ(after.queued, 0);
}

TEST(SqliteStoreGroupCommit, AWriteAloneIsOneCommit) {
  TempDir dir;
  auto store = MustOpen(OptionsFor(dir.File("t.db")));
  const metrics::WriteBatchUsage before = store->WriteBatchUsage().value();
  for (const char* id : {"a", "b", "c"}) ASSERT_TRUE(store->Insert("acme", Record(id)).ok());
  EXPECT_FALSE(store->Insert("acme", Record("a")).ok());  // refused: nothing committed
  const metrics::WriteBatchUsage after = store->WriteBatchUsage().value();
  EXPECT_EQ(after.commits - before.commits, 3u);
  EXPECT_EQ(after.writes - before.writes, 3u);
}

TEST(SqliteStoreErrors, InternalErrorsKeepSqliteTextOutOfThePublicMessage) {
  TempDir dir;
  const std::string path = dir.File("t.db");
  auto store = MustOpen(OptionsFor(path));
  ASSERT_TRUE(store->Insert("acme", Record("k")).ok());
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("DROP TABLE tokens"), SQLITE_OK);
  }
  auto got = store->Get("acme", "k");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kInternal);
  EXPECT_EQ(got.error().message, "Internal server error");
  EXPECT_THAT(got.error().internal, HasSubstr("tokens"));
  auto listed = store->List(ListQuery{"acme", {}, {}, 10, 0, true});
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error().code, ErrorCode::kInternal);
  EXPECT_THAT(listed.error().message, Not(HasSubstr("SELECT")));
  auto inserted = store->Insert("acme", Record("j"));
  ASSERT_FALSE(inserted.ok());
  EXPECT_EQ(inserted.error().code, ErrorCode::kInternal);
}

ListQuery NameSorted(std::vector<query::Clause> clauses, const std::string& field,
                     bool descending = false) {
  ListQuery list;
  list.tenant = "acme";
  list.filter.clauses = std::move(clauses);
  query::SortKey key;
  key.field = field;
  key.descending = descending;
  list.sort = {key};
  if (field != "id") list.sort.push_back(query::SortKey{"id", query::FieldType::kString, false});
  return list;
}

TEST(SqliteQueryCompiler, ClientValuesOnlyEverTravelAsParameters) {
  query::Clause name;
  name.field = "name";
  name.comparisons = {{query::CompareOp::kEq, std::string("x') OR 1=1 --")}};
  query::Clause regex;
  regex.field = "id";
  regex.kind = query::Clause::Kind::kRegex;
  regex.pattern = "'; DROP TABLE tokens";
  auto compiled = sqlite::CompileListQuery(NameSorted({name, regex}, "name", true));
  ASSERT_TRUE(compiled.ok());
  EXPECT_EQ(compiled->page_sql,
            "SELECT id, name, version, created_at, modified_at FROM tokens WHERE tenant = ?"
            " AND (name = ?) AND (re2_search(?, id)) ORDER BY name DESC, id ASC LIMIT ? OFFSET ?");
  EXPECT_EQ(compiled->count_sql,
            "SELECT count(*) FROM tokens WHERE tenant = ? AND (name = ?) AND (re2_search(?, id))");
  ASSERT_EQ(compiled->params.size(), 3u);
  EXPECT_EQ(std::get<std::string>(compiled->params[0]), "acme");
  EXPECT_EQ(std::get<std::string>(compiled->params[1]), "x') OR 1=1 --");
  EXPECT_EQ(std::get<std::string>(compiled->params[2]), "'; DROP TABLE tokens");
}

TEST(SqliteQueryCompiler, SortWithoutIdGetsIdTieBreak) {
  ListQuery list;
  list.tenant = "acme";
  list.sort = {query::SortKey{"metadata.version", query::FieldType::kInteger, true}};
  auto compiled = sqlite::CompileListQuery(list);
  ASSERT_TRUE(compiled.ok());
  EXPECT_THAT(compiled->page_sql, HasSubstr("ORDER BY version DESC, id ASC LIMIT"));
  list.sort.clear();
  compiled = sqlite::CompileListQuery(list);
  ASSERT_TRUE(compiled.ok());
  EXPECT_THAT(compiled->page_sql, HasSubstr("ORDER BY id ASC LIMIT"));
}

// A page is served from an index walk within the tenant, not by sorting the whole tenant.
// Descending sorts walk the same index backwards; only ties are sorted (by id ascending), in a
// sorter that LIMIT bounds to limit + offset rows.
TEST(SqliteQueryPlan, SortsWalkATenantLedIndex) {
  TempDir dir;
  const std::string path = dir.File("t.db");
  ASSERT_NE(MustOpen(OptionsFor(path)), nullptr);
  RawDb raw(path);
  ASSERT_EQ(sqlite::RegisterRe2Search(raw.get()), SQLITE_OK);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"id", "PRIMARY KEY"},
      {"name", "tokens_by_name"},
      {"metadata.version", "tokens_by_version"},
      {"metadata.createdAt", "tokens_by_created"},
      {"metadata.modifiedAt", "tokens_by_modified"}};
  query::Clause regex;
  regex.field = "name";
  regex.kind = query::Clause::Kind::kRegex;
  regex.pattern = "a";
  for (const auto& [field, index] : cases) {
    for (const bool descending : {false, true}) {
      for (const auto& clauses : std::vector<std::vector<query::Clause>>{{}, {regex}}) {
        auto compiled = sqlite::CompileListQuery(NameSorted(clauses, field, descending));
        ASSERT_TRUE(compiled.ok());
        std::string plan;
        for (const auto& row : raw.Rows("EXPLAIN QUERY PLAN " + compiled->page_sql)) {
          plan += row + "\n";
        }
        SCOPED_TRACE(field + (descending ? " desc" : " asc") + "\n" + plan);
        EXPECT_THAT(plan, HasSubstr(index));
        EXPECT_THAT(plan, HasSubstr("(tenant=?)"));
        EXPECT_THAT(plan, Not(HasSubstr("TEMP B-TREE FOR ORDER BY")));
        if (!descending || field == "id") {
          EXPECT_THAT(plan, Not(HasSubstr("TEMP B-TREE")));
        }
      }
    }
  }
}

TEST(Re2SearchFunction, SearchesCaseInsensitivelyAndReportsBadPatterns) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  ASSERT_EQ(sqlite::RegisterRe2Search(db), SQLITE_OK);
  const auto eval = [&](const char* sql, std::string* error) -> std::string {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK);
    const int rc = sqlite3_step(stmt);
    std::string out;
    if (rc == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      out = text == nullptr ? "NULL" : text;
    } else if (error != nullptr) {
      *error = sqlite3_errmsg(db);
    }
    sqlite3_finalize(stmt);
    return out;
  };
  EXPECT_EQ(eval("SELECT re2_search('ab', 'xABy')", nullptr), "1");
  EXPECT_EQ(eval("SELECT re2_search('^ab', 'xABy')", nullptr), "0");
  EXPECT_EQ(eval("SELECT re2_search(NULL, 'x')", nullptr), "NULL");
  EXPECT_EQ(eval("SELECT re2_search('x', NULL)", nullptr), "NULL");
  // One pattern over many rows (the compiled pattern is reused via auxdata).
  EXPECT_EQ(eval("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)"
                 " SELECT count(*) FROM n WHERE re2_search('7$', i)",
                 nullptr),
            "100");
  std::string error;
  EXPECT_EQ(eval("SELECT re2_search('(', 'x')", &error), "");
  EXPECT_THAT(error, ::testing::StartsWith(std::string(sqlite::kRe2SearchErrorPrefix)));
  sqlite3_close(db);
}

}  // namespace
}  // namespace ts::store
