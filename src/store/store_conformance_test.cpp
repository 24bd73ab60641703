// The TokenStore conformance suite: the behaviour every storage backend must show, written
// against the TokenStore interface only. Each backend contributes a StoreBackend (a name and a
// factory for a harness that owns one fresh, empty database) to the instantiation at the end of
// this file: SQLite, and PostgreSQL (a fresh database per test on a throwaway server). Queries are
// built as q ASTs directly, so the suite does not depend on the q parser.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "domain/agent.h"
#include "store/mcp_server_store.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/token_store.h"
#include "support/pg_test_server.h"

namespace ts::store {
namespace {

constexpr ReferencePolicy kRefuse = ReferencePolicy::kRefuse;

using query::Clause;
using query::CompareOp;
using query::FieldType;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// ---------------------------------------------------------------------------------------------
// Backends

// Owns one fresh database for the duration of a test.
class StoreHarness {
 public:
  virtual ~StoreHarness() = default;
  // Opens a store on this harness's database; may be called again after the previous store
  // was destroyed (that is a reopen of the same data).
  virtual Result<std::unique_ptr<Store>> Open() = 0;
  // With no store open: makes the database look as if a newer binary had migrated it.
  virtual void MarkSchemaNewer() = 0;
};

struct StoreBackend {
  std::string name;
  std::function<std::unique_ptr<StoreHarness>()> make_harness;
};

// How CTest and GoogleTest show the parameter: its name, not its bytes.
void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

class SqliteHarness final : public StoreHarness {
 public:
  SqliteHarness() {
    char dir_template[] = "/tmp/ts-store-conformance-XXXXXX";
    const char* dir = ::mkdtemp(dir_template);
    if (dir == nullptr) ADD_FAILURE() << "mkdtemp failed";
    dir_ = dir == nullptr ? std::string() : std::string(dir);
    path_ = dir_ + "/tokens.db";
  }
  ~SqliteHarness() override {
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  Result<std::unique_ptr<Store>> Open() override {
    SqliteOptions options;
    options.path = path_;
    options.read_connections = 4;
    options.busy_timeout = std::chrono::seconds(30);
    return OpenSqliteStore(options);
  }

  void MarkSchemaNewer() override {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int rc =
        sqlite3_exec(db, "INSERT INTO schema_migrations (version, applied_at) VALUES (1000000, 0)",
                     nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

 private:
  std::string dir_;
  std::string path_;
};

// One fresh database on the test PostgreSQL server (tests/support/pg_test_server.h), dropped
// at the end of the test.
class PostgresHarness final : public StoreHarness {
 public:
  PostgresHarness() {
    if (database_.url().empty()) {
      ADD_FAILURE() << "no PostgreSQL test database: " << database_.error();
    }
  }

  Result<std::unique_ptr<Store>> Open() override {
    if (database_.url().empty()) return Error::Unavailable("no PostgreSQL test database");
    PostgresOptions options;
    options.url = database_.url();
    options.pool_size = 8;
    options.statement_timeout = std::chrono::seconds(30);
    return OpenPostgresStore(options);
  }

  void MarkSchemaNewer() override {
    std::string error;
    ASSERT_NE(database_.server(), nullptr);
    const auto inserted = database_.server()->Query(
        database_.name(), "INSERT INTO schema_migrations (version, applied_at) VALUES (1000000, 0)",
        &error);
    EXPECT_TRUE(inserted.has_value()) << error;
  }

 private:
  pgtest::ScopedTestDatabase database_;
};

// ---------------------------------------------------------------------------------------------
// Builders

domain::Token MakeToken(std::string id, std::string name, std::int64_t version = 1,
                        std::int64_t created = 1'000, std::int64_t modified = 1'000) {
  domain::Token token;
  token.id = std::move(id);
  token.name = std::move(name);
  token.metadata.version = version;
  token.metadata.created_at_ms = created;
  token.metadata.modified_at_ms = modified;
  return token;
}

DeleteRequest Versioned(std::int64_t version) {
  DeleteRequest request;
  request.expected_version = version;
  return request;
}

TokenRecord MakeRecord(domain::Token token, std::vector<std::uint8_t> sealed = {1, 2, 3}) {
  return TokenRecord{std::move(token), std::move(sealed), 0};
}

FieldType TypeOf(const std::string& field) {
  if (field == "id" || field == "name") return FieldType::kString;
  if (field == "metadata.version") return FieldType::kInteger;
  return FieldType::kTimestamp;
}

Clause Compare(std::string field, CompareOp op, query::Literal value) {
  Clause clause;
  clause.type = TypeOf(field);
  clause.field = std::move(field);
  clause.kind = Clause::Kind::kCompare;
  clause.comparisons.push_back(query::Comparison{op, std::move(value)});
  return clause;
}

Clause Range(std::string field, std::vector<query::Comparison> comparisons) {
  Clause clause;
  clause.type = TypeOf(field);
  clause.field = std::move(field);
  clause.kind = Clause::Kind::kRange;
  clause.comparisons = std::move(comparisons);
  return clause;
}

Clause AnyOf(std::string field, std::vector<query::Literal> values) {
  Clause clause;
  clause.type = TypeOf(field);
  clause.field = std::move(field);
  clause.kind = Clause::Kind::kAnyOf;
  for (auto& value : values) clause.comparisons.push_back({CompareOp::kEq, std::move(value)});
  return clause;
}

Clause Regex(std::string field, std::string pattern) {
  Clause clause;
  clause.type = TypeOf(field);
  clause.field = std::move(field);
  clause.kind = Clause::Kind::kRegex;
  clause.pattern = std::move(pattern);
  return clause;
}

Clause Presence(std::string field, Clause::Kind kind) {
  Clause clause;
  clause.type = TypeOf(field);
  clause.field = std::move(field);
  clause.kind = kind;
  return clause;
}

query::SortKey Sort(std::string field, bool descending = false) {
  query::SortKey key;
  key.type = TypeOf(field);
  key.field = std::move(field);
  key.descending = descending;
  return key;
}

ListQuery MakeList(std::string tenant, std::vector<Clause> clauses = {},
                   std::vector<query::SortKey> sort = {}, std::int64_t limit = 1000,
                   std::int64_t offset = 0, bool count_total = false) {
  ListQuery list;
  list.tenant = std::move(tenant);
  list.filter.clauses = std::move(clauses);
  if (sort.empty() || sort.back().field != "id") sort.push_back(Sort("id"));
  list.sort = std::move(sort);
  list.limit = limit;
  list.offset = offset;
  list.count_total = count_total;
  return list;
}

std::vector<std::string> Ids(const ListPage& page) {
  std::vector<std::string> ids;
  for (const auto& token : page.items) ids.push_back(token.id);
  return ids;
}

// ---------------------------------------------------------------------------------------------
// Fixture

class TokenStoreConformance : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    harness_ = GetParam().make_harness();
    auto opened = harness_->Open();
    ASSERT_TRUE(opened.ok()) << opened.error().internal;
    store_ = std::move(opened).value();
  }

  void TearDown() override {
    store_.reset();
    harness_.reset();
  }

  void Put(const std::string& tenant, domain::Token token,
           std::vector<std::uint8_t> sealed = {1, 2, 3}) {
    auto inserted = store_->Insert(tenant, MakeRecord(std::move(token), std::move(sealed)));
    ASSERT_TRUE(inserted.ok()) << inserted.error().internal << inserted.error().message;
  }

  std::optional<TokenRecord> MustGet(const std::string& tenant, const std::string& id) {
    auto got = store_->Get(tenant, id);
    EXPECT_TRUE(got.ok()) << got.error().internal;
    if (!got.ok()) return std::nullopt;
    return std::move(got).value();
  }

  ListPage MustList(const ListQuery& list) {
    auto page = store_->List(list);
    EXPECT_TRUE(page.ok()) << page.error().message << " / " << page.error().internal;
    if (!page.ok()) return {};
    return std::move(page).value();
  }

  std::vector<std::string> ListIds(std::vector<Clause> clauses,
                                   std::vector<query::SortKey> sort = {}) {
    return Ids(MustList(MakeList("acme", std::move(clauses), std::move(sort))));
  }

  std::unique_ptr<StoreHarness> harness_;
  std::unique_ptr<Store> store_;
};

// ---------------------------------------------------------------------------------------------
// Single-token operations

TEST_P(TokenStoreConformance, PingSucceeds) { EXPECT_TRUE(store_->Ping().ok()); }

TEST_P(TokenStoreConformance, InsertThenGetRoundTripsEveryFieldAndEveryByte) {
  std::vector<std::uint8_t> sealed;
  for (int i = 0; i < 256; ++i) sealed.push_back(static_cast<std::uint8_t>(i));
  sealed.push_back(0);  // trailing NUL must survive
  Put("acme",
      MakeToken("openai-key", "OpenAI prod \xC3\xA9", 1, 1'700'000'000'123, 1'700'000'000'456),
      sealed);

  auto record = MustGet("acme", "openai-key");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->token.id, "openai-key");
  EXPECT_EQ(record->token.name, "OpenAI prod \xC3\xA9");
  EXPECT_EQ(record->token.metadata.version, 1);
  EXPECT_EQ(record->token.metadata.created_at_ms, 1'700'000'000'123);
  EXPECT_EQ(record->token.metadata.modified_at_ms, 1'700'000'000'456);
  EXPECT_EQ(record->sealed_value, sealed);
}

TEST_P(TokenStoreConformance, LargeAndEmptySealedValuesRoundTrip) {
  std::vector<std::uint8_t> large(64 * 1024);
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<std::uint8_t>(i * 31);
  Put("acme", MakeToken("large", "large"), large);
  Put("acme", MakeToken("empty", "empty"), {});
  EXPECT_EQ(MustGet("acme", "large")->sealed_value, large);
  EXPECT_THAT(MustGet("acme", "empty")->sealed_value, IsEmpty());
}

TEST_P(TokenStoreConformance, GetOfAbsentTokenIsEmptyNotAnError) {
  EXPECT_FALSE(MustGet("acme", "nope").has_value());
}

TEST_P(TokenStoreConformance, DuplicateInsertIsConflictAndKeepsOriginal) {
  Put("acme", MakeToken("k", "first"), {9});
  auto again = store_->Insert("acme", MakeRecord(MakeToken("k", "second"), {8}));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  auto record = MustGet("acme", "k");
  EXPECT_EQ(record->token.name, "first");
  EXPECT_EQ(record->sealed_value, std::vector<std::uint8_t>{9});
}

TEST_P(TokenStoreConformance, ValuesThatLookLikeSqlAreJustData) {
  const std::string id = "'; DROP TABLE tokens; --";
  const std::string name = "x' OR '1'='1";
  Put("acme", MakeToken(id, name));
  Put("acme", MakeToken("other", "other"));
  EXPECT_EQ(MustGet("acme", id)->token.name, name);
  EXPECT_THAT(ListIds({Compare("name", CompareOp::kEq, name)}), ElementsAre(id));
  EXPECT_THAT(ListIds({Compare("name", CompareOp::kEq, std::string("x"))}), IsEmpty());
}

TEST_P(TokenStoreConformance, UpdateWithExpectedVersionBumpsVersionAndKeepsTheRest) {
  Put("acme", MakeToken("k", "old", 1, 1'000, 1'000), {7, 7});
  domain::Token updated = MakeToken("k", "new", 99, 5, 2'000);  // version/created ignored
  ASSERT_TRUE(store_->Update("acme", updated, 1).ok());

  auto record = MustGet("acme", "k");
  EXPECT_EQ(record->token.name, "new");
  EXPECT_EQ(record->token.metadata.version, 2);
  EXPECT_EQ(record->token.metadata.created_at_ms, 1'000);
  EXPECT_EQ(record->token.metadata.modified_at_ms, 2'000);
  EXPECT_EQ(record->sealed_value, (std::vector<std::uint8_t>{7, 7}));

  ASSERT_TRUE(store_->Update("acme", MakeToken("k", "newer", 1, 1, 3'000), 2).ok());
  EXPECT_EQ(MustGet("acme", "k")->token.metadata.version, 3);
}

TEST_P(TokenStoreConformance, UpdateWithWrongVersionIsConflictAndChangesNothing) {
  Put("acme", MakeToken("k", "old"));
  for (std::int64_t wrong : {0, 2, 7}) {
    auto result = store_->Update("acme", MakeToken("k", "new", 1, 1, 2'000), wrong);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::kConflict);
  }
  auto record = MustGet("acme", "k");
  EXPECT_EQ(record->token.name, "old");
  EXPECT_EQ(record->token.metadata.version, 1);
  EXPECT_EQ(record->token.metadata.modified_at_ms, 1'000);
}

TEST_P(TokenStoreConformance, UpdateOfAbsentTokenIsConflict) {
  auto result = store_->Update("acme", MakeToken("ghost", "x"), 1);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kConflict);
  EXPECT_FALSE(MustGet("acme", "ghost").has_value());
}

TEST_P(TokenStoreConformance, DeleteOutcomes) {
  auto absent = store_->Delete("acme", "k", {});
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(absent->outcome, DeleteOutcome::kAbsent);
  auto absent_versioned = store_->Delete("acme", "k", Versioned(1));
  ASSERT_TRUE(absent_versioned.ok());
  EXPECT_EQ(absent_versioned->outcome, DeleteOutcome::kAbsent);

  Put("acme", MakeToken("k", "n"));
  ASSERT_TRUE(store_->Update("acme", MakeToken("k", "n2"), 1).ok());  // now version 2
  auto mismatch = store_->Delete("acme", "k", Versioned(1));
  ASSERT_TRUE(mismatch.ok());
  EXPECT_EQ(mismatch->outcome, DeleteOutcome::kVersionMismatch);
  EXPECT_TRUE(MustGet("acme", "k").has_value());

  auto deleted = store_->Delete("acme", "k", Versioned(2));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->outcome, DeleteOutcome::kDeleted);
  EXPECT_FALSE(MustGet("acme", "k").has_value());

  Put("acme", MakeToken("k", "again"));
  auto unconditional = store_->Delete("acme", "k", {});
  ASSERT_TRUE(unconditional.ok());
  EXPECT_EQ(unconditional->outcome, DeleteOutcome::kDeleted);
  auto twice = store_->Delete("acme", "k", {});
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->outcome, DeleteOutcome::kAbsent);
}

TEST_P(TokenStoreConformance, TenantsAreIsolated) {
  Put("acme", MakeToken("shared", "acme's", 1), {1});
  Put("globex", MakeToken("shared", "globex's", 1), {2});  // same id: no conflict
  Put("globex", MakeToken("only-globex", "open sesame", 1), {3});

  EXPECT_EQ(MustGet("acme", "shared")->token.name, "acme's");
  EXPECT_EQ(MustGet("globex", "shared")->sealed_value, std::vector<std::uint8_t>{2});
  EXPECT_FALSE(MustGet("acme", "only-globex").has_value());

  // Writes in one tenant never touch the other.
  ASSERT_TRUE(store_->Update("acme", MakeToken("shared", "acme v2"), 1).ok());
  EXPECT_EQ(MustGet("globex", "shared")->token.metadata.version, 1);
  auto cross_update = store_->Update("acme", MakeToken("only-globex", "stolen"), 1);
  ASSERT_FALSE(cross_update.ok());
  EXPECT_EQ(cross_update.error().code, ErrorCode::kConflict);
  auto cross_delete = store_->Delete("acme", "only-globex", {});
  ASSERT_TRUE(cross_delete.ok());
  EXPECT_EQ(cross_delete->outcome, DeleteOutcome::kAbsent);
  EXPECT_EQ(MustGet("globex", "only-globex")->token.name, "open sesame");

  // Lists and counts, filtered or not, stay inside the tenant.
  auto acme = MustList(MakeList("acme", {}, {}, 1000, 0, true));
  EXPECT_THAT(Ids(acme), ElementsAre("shared"));
  EXPECT_EQ(acme.total, 1);
  auto acme_regex = MustList(MakeList("acme", {Regex("name", "sesame")}, {}, 1000, 0, true));
  EXPECT_THAT(Ids(acme_regex), IsEmpty());
  EXPECT_EQ(acme_regex.total, 0);
  auto globex =
      MustList(MakeList("globex", {Presence("id", Clause::Kind::kExists)}, {}, 1000, 0, true));
  EXPECT_THAT(Ids(globex), ElementsAre("only-globex", "shared"));
  EXPECT_EQ(globex.total, 2);
  auto nobody = MustList(MakeList("initech", {}, {}, 1000, 0, true));
  EXPECT_THAT(Ids(nobody), IsEmpty());
  EXPECT_EQ(nobody.total, 0);

  ASSERT_TRUE(store_->Delete("globex", "shared", {}).ok());
  EXPECT_TRUE(MustGet("acme", "shared").has_value());
}

// ---------------------------------------------------------------------------------------------
// List: filters

class TokenStoreFilters : public TokenStoreConformance {
 protected:
  void SetUp() override {
    TokenStoreConformance::SetUp();
    if (HasFatalFailure()) return;
    //            id   name                 version created modified
    Put("acme", MakeToken("a", "OpenAI production", 1, 1'000, 5'000));
    Put("acme", MakeToken("b", "openai-staging", 2, 2'000, 4'000));
    Put("acme", MakeToken("c", "Anthropic", 3, 3'000, 3'000));
    Put("acme", MakeToken("d", "a.b", 4, 4'000, 2'000));
    Put("acme", MakeToken("e", "axb", 5, 5'000, 1'000));
    Put("acme", MakeToken("f", "price (USD)", 1, 6'000, 6'000));
    Put("acme", MakeToken("g", "C++ key", 2, 7'000, 7'000));
    Put("acme", MakeToken("h", "back\\slash", 3, 8'000, 8'000));
    Put("acme", MakeToken("i",
                          "\xC3\x9Cn\xC3\xAF"
                          "code Name",
                          4, 9'000, 9'000));  // Ünïcode
    Put("other", MakeToken("z", "OpenAI production", 1, 1'000, 1'000));
  }
};

TEST_P(TokenStoreFilters, EmptyQueryListsTheWholeTenantById) {
  EXPECT_THAT(ListIds({}), ElementsAre("a", "b", "c", "d", "e", "f", "g", "h", "i"));
}

TEST_P(TokenStoreFilters, StringEqualityIsExactAndCaseSensitive) {
  EXPECT_THAT(ListIds({Compare("name", CompareOp::kEq, std::string("OpenAI production"))}),
              ElementsAre("a"));
  EXPECT_THAT(ListIds({Compare("name", CompareOp::kEq, std::string("openai production"))}),
              IsEmpty());
  EXPECT_THAT(ListIds({Compare("name", CompareOp::kEq, std::string("OpenAI"))}), IsEmpty());
  EXPECT_THAT(ListIds({Compare("id", CompareOp::kEq, std::string("c"))}), ElementsAre("c"));
  EXPECT_THAT(ListIds({Compare("id", CompareOp::kEq, std::string("C"))}), IsEmpty());
}

TEST_P(TokenStoreFilters, IntegerComparisons) {
  const auto version = [&](CompareOp op, std::int64_t v) {
    return ListIds({Compare("metadata.version", op, v)});
  };
  EXPECT_THAT(version(CompareOp::kEq, 2), ElementsAre("b", "g"));
  EXPECT_THAT(version(CompareOp::kGt, 3), ElementsAre("d", "e", "i"));
  EXPECT_THAT(version(CompareOp::kGe, 4), ElementsAre("d", "e", "i"));
  EXPECT_THAT(version(CompareOp::kLt, 2), ElementsAre("a", "f"));
  EXPECT_THAT(version(CompareOp::kLe, 1), ElementsAre("a", "f"));
  EXPECT_THAT(version(CompareOp::kGt, 5), IsEmpty());
}

TEST_P(TokenStoreFilters, TimestampComparisons) {
  EXPECT_THAT(ListIds({Compare("metadata.createdAt", CompareOp::kGe, std::int64_t{8'000})}),
              ElementsAre("h", "i"));
  EXPECT_THAT(ListIds({Compare("metadata.createdAt", CompareOp::kLt, std::int64_t{2'000})}),
              ElementsAre("a"));
  EXPECT_THAT(ListIds({Compare("metadata.modifiedAt", CompareOp::kLe, std::int64_t{2'000})}),
              ElementsAre("d", "e"));
  EXPECT_THAT(ListIds({Compare("metadata.modifiedAt", CompareOp::kEq, std::int64_t{3'000})}),
              ElementsAre("c"));
}

TEST_P(TokenStoreFilters, RangesAreAllOfTheirComparisons) {
  EXPECT_THAT(ListIds({Range("metadata.version", {{CompareOp::kGe, std::int64_t{2}},
                                                  {CompareOp::kLt, std::int64_t{4}}})}),
              ElementsAre("b", "c", "g", "h"));
  EXPECT_THAT(ListIds({Range("metadata.createdAt", {{CompareOp::kGe, std::int64_t{2'000}},
                                                    {CompareOp::kLt, std::int64_t{4'000}}})}),
              ElementsAre("b", "c"));
  EXPECT_THAT(ListIds({Range("metadata.modifiedAt", {{CompareOp::kGt, std::int64_t{5'000}},
                                                     {CompareOp::kLt, std::int64_t{5'000}}})}),
              IsEmpty());
  EXPECT_THAT(ListIds({Range("metadata.version", {{CompareOp::kGe, std::int64_t{5}}})}),
              ElementsAre("e"));
}

TEST_P(TokenStoreFilters, AnyOfMatchesAnyValue) {
  EXPECT_THAT(ListIds({AnyOf("id", {std::string("c"), std::string("a"), std::string("zz")})}),
              ElementsAre("a", "c"));
  EXPECT_THAT(ListIds({AnyOf("id", {std::string("i")})}), ElementsAre("i"));
  EXPECT_THAT(ListIds({AnyOf("name", {std::string("axb"), std::string("Anthropic")})}),
              ElementsAre("c", "e"));
  EXPECT_THAT(ListIds({AnyOf("metadata.version", {std::int64_t{3}, std::int64_t{5}})}),
              ElementsAre("c", "e", "h"));
  EXPECT_THAT(ListIds({AnyOf("id", {std::string("z")})}), IsEmpty());  // other tenant's
}

TEST_P(TokenStoreFilters, PresenceClauses) {
  // Token fields are always present and never null.
  EXPECT_THAT(ListIds({Presence("name", Clause::Kind::kIsNull)}), IsEmpty());
  EXPECT_THAT(ListIds({Presence("name", Clause::Kind::kMissing)}), IsEmpty());
  EXPECT_THAT(ListIds({Presence("metadata.version", Clause::Kind::kMissing)}), IsEmpty());
  EXPECT_THAT(ListIds({Presence("name", Clause::Kind::kExists)}),
              ElementsAre("a", "b", "c", "d", "e", "f", "g", "h", "i"));
  auto counted =
      MustList(MakeList("acme", {Presence("id", Clause::Kind::kIsNull)}, {}, 10, 0, true));
  EXPECT_EQ(counted.total, 0);
}

TEST_P(TokenStoreFilters, ClausesAreAnded) {
  EXPECT_THAT(ListIds({Regex("name", "openai"),
                       Compare("metadata.version", CompareOp::kGe, std::int64_t{2})}),
              ElementsAre("b"));
  EXPECT_THAT(ListIds({Regex("name", "openai"), Presence("name", Clause::Kind::kMissing)}),
              IsEmpty());
}

TEST_P(TokenStoreFilters, RegexIsCaseInsensitiveAndUnanchored) {
  EXPECT_THAT(ListIds({Regex("name", "open")}), ElementsAre("a", "b"));
  EXPECT_THAT(ListIds({Regex("name", "OPENAI")}), ElementsAre("a", "b"));
  EXPECT_THAT(ListIds({Regex("name", "^open")}), ElementsAre("a", "b"));
  EXPECT_THAT(ListIds({Regex("name", "PRODUCTION$")}), ElementsAre("a"));
  EXPECT_THAT(ListIds({Regex("name", "thro")}), ElementsAre("c"));
  EXPECT_THAT(ListIds({Regex("name", "")}),
              ElementsAre("a", "b", "c", "d", "e", "f", "g", "h", "i"));
  EXPECT_THAT(ListIds({Regex("id", "^[A-C]$")}), ElementsAre("a", "b", "c"));
}

TEST_P(TokenStoreFilters, RegexSpecialCharactersAndUnicode) {
  EXPECT_THAT(ListIds({Regex("name", "a.b")}), ElementsAre("d", "e"));
  EXPECT_THAT(ListIds({Regex("name", "a\\.b")}), ElementsAre("d"));
  EXPECT_THAT(ListIds({Regex("name", "\\(usd\\)")}), ElementsAre("f"));
  EXPECT_THAT(ListIds({Regex("name", "c\\+\\+")}), ElementsAre("g"));
  EXPECT_THAT(ListIds({Regex("name", "\\\\")}), ElementsAre("h"));
  EXPECT_THAT(ListIds({Regex("name", "\\Qprice (\\E")}), ElementsAre("f"));
  // Case folding beyond ASCII: ü matches Ü.
  EXPECT_THAT(ListIds({Regex("name",
                             "^\xC3\xBCn\xC3\xAF"
                             "code")}),
              ElementsAre("i"));
  EXPECT_THAT(ListIds({Regex("name", "^.n")}), ElementsAre("c", "i"));  // . is a code point
}

TEST_P(TokenStoreFilters, InvalidRegexIsInvalidArgument) {
  for (const char* pattern : {"(", "a)", "[z-a]", "x{2,1}", "\\"}) {
    auto page = store_->List(MakeList("acme", {Regex("name", pattern)}));
    ASSERT_FALSE(page.ok()) << pattern;
    EXPECT_EQ(page.error().code, ErrorCode::kInvalidArgument) << pattern;
  }
  // Also when the tenant has no rows for the pattern to run on.
  auto empty_tenant = store_->List(MakeList("nobody", {Regex("name", "(")}));
  ASSERT_FALSE(empty_tenant.ok());
  EXPECT_EQ(empty_tenant.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(TokenStoreConformance, RegexRunsInLinearTime) {
  Put("acme", MakeToken("evil", std::string(20'000, 'a') + "!"));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(ListIds({Regex("name", "(a+)+$")}), IsEmpty());
  EXPECT_THAT(ListIds({Regex("name", "(a|aa)*b")}), IsEmpty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_P(TokenStoreFilters, MalformedQueriesAreInvalidArgument) {
  const auto expect_invalid = [&](ListQuery list) {
    auto page = store_->List(list);
    ASSERT_FALSE(page.ok());
    EXPECT_EQ(page.error().code, ErrorCode::kInvalidArgument);
  };
  expect_invalid(MakeList("acme", {Compare("value", CompareOp::kEq, std::string("x"))}));
  expect_invalid(MakeList("acme", {Compare("tenant", CompareOp::kEq, std::string("other"))}));
  expect_invalid(MakeList("acme", {Compare("metadata.version", CompareOp::kEq, std::string("1"))}));
  expect_invalid(MakeList("acme", {Compare("name", CompareOp::kEq, std::int64_t{1})}));
  expect_invalid(MakeList("acme", {Compare("name", CompareOp::kEq, true)}));
  expect_invalid(MakeList("acme", {Regex("metadata.version", "1")}));
  expect_invalid(MakeList("acme", {}, {Sort("value")}));
  expect_invalid(MakeList("acme", {}, {}, -1));
  expect_invalid(MakeList("acme", {}, {}, 10, -1));
}

// ---------------------------------------------------------------------------------------------
// List: sorting, paging, totals

TEST_P(TokenStoreConformance, SortsByEveryFieldBothWaysWithIdTieBreak) {
  // Ties in every field, inserted out of order.
  std::vector<domain::Token> tokens = {
      MakeToken("t07", "beta", 2, 3'000, 9'000),  MakeToken("t02", "alpha", 1, 1'000, 9'000),
      MakeToken("t11", "beta", 3, 2'000, 1'000),  MakeToken("t01", "gamma", 2, 3'000, 4'000),
      MakeToken("t05", "alpha", 3, 1'000, 4'000), MakeToken("t09", "Beta", 1, 2'000, 9'000),
      MakeToken("t03", "gamma", 2, 3'000, 1'000), MakeToken("t10", "alpha", 1, 4'000, 4'000),
      MakeToken("t04", "beta", 3, 2'000, 2'000),  MakeToken("t08", "Beta", 2, 4'000, 2'000),
      MakeToken("t06", "gamma", 1, 1'000, 9'000), MakeToken("t12", "alpha", 2, 3'000, 1'000),
  };
  for (const auto& token : tokens) Put("acme", token);

  const auto key_of = [](const domain::Token& t, const std::string& field) {
    if (field == "metadata.version") return std::to_string(1'000'000 + t.metadata.version);
    if (field == "metadata.createdAt") return std::to_string(1'000'000 + t.metadata.created_at_ms);
    if (field == "metadata.modifiedAt") {
      return std::to_string(1'000'000 + t.metadata.modified_at_ms);
    }
    return field == "id" ? t.id : t.name;  // std::string compares as unsigned bytes
  };
  for (const std::string field :
       {"id", "name", "metadata.version", "metadata.createdAt", "metadata.modifiedAt"}) {
    for (const bool descending : {false, true}) {
      std::vector<domain::Token> expected = tokens;
      std::sort(expected.begin(), expected.end(), [&](const auto& x, const auto& y) {
        const std::string kx = key_of(x, field);
        const std::string ky = key_of(y, field);
        if (kx != ky) return descending ? kx > ky : kx < ky;
        return x.id < y.id;
      });
      std::vector<std::string> expected_ids;
      for (const auto& t : expected) expected_ids.push_back(t.id);
      EXPECT_THAT(ListIds({}, {Sort(field, descending)}), ElementsAreArray(expected_ids))
          << field << (descending ? " desc" : " asc");
    }
  }

  // Several keys: name asc, then version desc, then id.
  EXPECT_THAT(ListIds({}, {Sort("name"), Sort("metadata.version", true)}),
              ElementsAre("t08", "t09", "t05", "t12", "t02", "t10", "t04", "t11", "t07", "t01",
                          "t03", "t06"));
}

TEST_P(TokenStoreConformance, NamesSortByUtf8Bytes) {
  Put("acme", MakeToken("1", "\xC3\xA9"));  // é (0xC3 0xA9)
  Put("acme", MakeToken("2", "a"));
  Put("acme", MakeToken("3", "B"));
  Put("acme", MakeToken("4", "Z"));
  Put("acme", MakeToken("5", "b"));
  Put("acme", MakeToken("6", "\xF0\x9F\x94\x91"));  // 🔑 (4 bytes, sorts last)
  Put("acme", MakeToken("7", "a "));
  Put("acme", MakeToken("8", "_"));
  // B < Z < _ < a < "a " < b < é < 🔑
  EXPECT_THAT(ListIds({}, {Sort("name")}), ElementsAre("3", "4", "8", "2", "7", "5", "1", "6"));
  EXPECT_THAT(ListIds({}, {Sort("name", true)}),
              ElementsAre("6", "1", "5", "7", "2", "8", "4", "3"));
  // Ranges on strings compare bytes too.
  EXPECT_THAT(ListIds({Range("name", {{CompareOp::kGe, std::string("a")},
                                      {CompareOp::kLt, std::string("b")}})}),
              ElementsAre("2", "7"));
}

TEST_P(TokenStoreConformance, PagesNeitherOverlapNorSkip) {
  for (int i = 0; i < 23; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "p%02d", (i * 7) % 23);  // inserted out of order
    Put("acme", MakeToken(id, "name-" + std::to_string(i % 4), 1 + i % 3, 1'000 + i % 5));
  }
  for (const auto& sort :
       std::vector<std::vector<query::SortKey>>{{Sort("name")},
                                                {Sort("metadata.version", true)},
                                                {Sort("metadata.createdAt"), Sort("name", true)},
                                                {Sort("id", true)}}) {
    const std::vector<std::string> all = Ids(MustList(MakeList("acme", {}, sort)));
    ASSERT_EQ(all.size(), 23u);
    for (const std::int64_t page_size : {1, 5, 7, 23, 50}) {
      std::vector<std::string> walked;
      for (std::int64_t offset = 0;; offset += page_size) {
        auto page = MustList(MakeList("acme", {}, sort, page_size, offset, true));
        EXPECT_EQ(page.total, 23);
        EXPECT_LE(static_cast<std::int64_t>(page.items.size()), page_size);
        if (page.items.empty()) break;
        for (auto& id : Ids(page)) walked.push_back(id);
      }
      EXPECT_EQ(walked, all) << "page size " << page_size;
      EXPECT_EQ(std::set<std::string>(walked.begin(), walked.end()).size(), walked.size());
    }
  }
}

TEST_P(TokenStoreFilters, CountTotalCountsAllMatchesRegardlessOfPaging) {
  auto page = MustList(MakeList("acme", {Regex("name", "a")}, {}, 2, 0, true));
  // Every name with an 'a' in any case: a, b, c, d, e, h, i (not "price (USD)", "C++ key").
  EXPECT_THAT(Ids(page), ElementsAre("a", "b"));
  EXPECT_EQ(page.total, 7);

  auto beyond = MustList(MakeList("acme", {Regex("name", "a")}, {}, 2, 100, true));
  EXPECT_THAT(Ids(beyond), IsEmpty());
  EXPECT_EQ(beyond.total, 7);

  auto versions = MustList(MakeList(
      "acme", {Compare("metadata.version", CompareOp::kLe, std::int64_t{2})}, {}, 1, 1, true));
  EXPECT_THAT(Ids(versions), ElementsAre("b"));
  EXPECT_EQ(versions.total, 4);

  auto without = MustList(MakeList("acme", {}, {}, 2, 0, false));
  EXPECT_FALSE(without.total.has_value());

  auto zero = MustList(MakeList("acme", {}, {}, 0, 0, true));
  EXPECT_THAT(Ids(zero), IsEmpty());
  EXPECT_EQ(zero.total, 9);
}

// ---------------------------------------------------------------------------------------------
// Concurrency

TEST_P(TokenStoreConformance, RacingUpdatesOnOneVersionHaveExactlyOneWinner) {
  Put("acme", MakeToken("k", "start"));
  constexpr int kThreads = 20;
  std::latch start(kThreads);
  std::atomic<int> wins{0};
  std::atomic<int> conflicts{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto result =
          store_->Update("acme", MakeToken("k", "writer-" + std::to_string(i), 1, 1, 2'000), 1);
      if (result.ok()) {
        ++wins;
      } else if (result.error().code == ErrorCode::kConflict) {
        ++conflicts;
      } else {
        ++other;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(conflicts.load(), kThreads - 1);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(MustGet("acme", "k")->token.metadata.version, 2);
}

TEST_P(TokenStoreConformance, ConcurrentInsertsAllLandWhileReadersRead) {
  constexpr int kWriters = 8;
  constexpr int kPerWriter = 50;
  std::latch start(kWriters + 2);
  std::atomic<int> failures{0};
  std::atomic<bool> writing{true};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerWriter; ++i) {
        const std::string id = "w" + std::to_string(w) + "-" + std::to_string(i);
        if (!store_->Insert("acme", MakeRecord(MakeToken(id, id))).ok()) ++failures;
      }
    });
  }
  std::atomic<int> read_failures{0};
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      while (writing.load()) {
        auto page = store_->List(MakeList("acme", {Regex("name", "^w")}, {}, 10, 0, true));
        // A page and its total come from one snapshot: never more items than the total.
        if (!page.ok() || static_cast<std::int64_t>(page->items.size()) > page->total.value_or(0)) {
          ++read_failures;
        }
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  writing = false;
  for (std::size_t t = kWriters; t < threads.size(); ++t) threads[t].join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(read_failures.load(), 0);
  auto all = MustList(MakeList("acme", {}, {}, 1000, 0, true));
  EXPECT_EQ(all.total, kWriters * kPerWriter);
  EXPECT_EQ(all.items.size(), static_cast<std::size_t>(kWriters * kPerWriter));
}

// ---------------------------------------------------------------------------------------------
// Schema

TEST_P(TokenStoreConformance, ReopeningKeepsDataAndWorks) {
  Put("acme", MakeToken("kept", "kept", 1, 1'000, 1'000), {4, 2});
  ASSERT_TRUE(store_->Update("acme", MakeToken("kept", "kept v2", 1, 1, 2'000), 1).ok());
  store_.reset();

  auto reopened = harness_->Open();
  ASSERT_TRUE(reopened.ok()) << reopened.error().internal;
  store_ = std::move(reopened).value();
  auto record = MustGet("acme", "kept");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->token.name, "kept v2");
  EXPECT_EQ(record->token.metadata.version, 2);
  EXPECT_EQ(record->sealed_value, (std::vector<std::uint8_t>{4, 2}));
  Put("acme", MakeToken("new", "new"));
  EXPECT_THAT(ListIds({}), ElementsAre("kept", "new"));
}

TEST_P(TokenStoreConformance, DatabaseFromANewerBinaryIsRefused) {
  store_.reset();
  harness_->MarkSchemaNewer();
  auto opened = harness_->Open();
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kInternal);
  EXPECT_THAT(opened.error().internal, HasSubstr("newer"));
}

// ---------------------------------------------------------------------------------------------
// Key rotation support: settings, key ids, scanning and swapping sealed values

TEST_P(TokenStoreConformance, KeyIdIsStoredAndReturned) {
  TokenRecord record = MakeRecord(MakeToken("k", "k"), {5, 6});
  record.key_id = 4'000'000'000u;  // the full uint32 range must survive
  ASSERT_TRUE(store_->Insert("acme", record).ok());
  EXPECT_EQ(MustGet("acme", "k")->key_id, 4'000'000'000u);
}

TEST_P(TokenStoreConformance, SettingIsAbsentUntilPutAndPutIfAbsentHappensOnce) {
  auto absent = store_->GetSetting("key_check");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());

  const std::vector<std::uint8_t> first = {1, 0, 2};
  auto put = store_->PutSetting("key_check", first, std::nullopt);
  ASSERT_TRUE(put.ok()) << put.error().internal;
  EXPECT_TRUE(*put);
  auto again = store_->PutSetting("key_check", std::vector<std::uint8_t>{9}, std::nullopt);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);  // already there: nothing written
  EXPECT_EQ(store_->GetSetting("key_check")->value(), first);
  EXPECT_FALSE(store_->GetSetting("other")->has_value());
}

TEST_P(TokenStoreConformance, PutSettingWithExpectedIsACompareAndSwap) {
  const std::vector<std::uint8_t> v1 = {1}, v2 = {2}, v3 = {3};
  ASSERT_TRUE(*store_->PutSetting("s", v1, std::nullopt));
  auto stale = store_->PutSetting("s", v3, v2);
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(*stale);
  EXPECT_EQ(store_->GetSetting("s")->value(), v1);
  auto swapped = store_->PutSetting("s", v2, v1);
  ASSERT_TRUE(swapped.ok());
  EXPECT_TRUE(*swapped);
  EXPECT_EQ(store_->GetSetting("s")->value(), v2);
  // Swapping a setting that does not exist writes nothing.
  auto missing = store_->PutSetting("nope", v1, v1);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(*missing);
  EXPECT_FALSE(store_->GetSetting("nope")->has_value());
}

TEST_P(TokenStoreConformance, ListSealedValuesPagesAcrossTenantsInTenantIdOrder) {
  for (const auto& [tenant, id] : std::vector<std::pair<std::string, std::string>>{
           {"b", "2"}, {"a", "2"}, {"b", "1"}, {"a", "1"}, {"a", "10"}, {"c", "0"}}) {
    TokenRecord record = MakeRecord(MakeToken(id, id), {static_cast<std::uint8_t>(id[0])});
    record.key_id = 7;
    ASSERT_TRUE(store_->Insert(tenant, record).ok());
  }
  std::vector<std::string> seen;
  std::optional<SealedValueKey> after;
  for (int page = 0; page < 10; ++page) {
    auto rows = store_->ListSealedValues(after, 4, std::nullopt);
    ASSERT_TRUE(rows.ok()) << rows.error().internal;
    EXPECT_LE(rows->size(), 4u);
    if (rows->empty()) break;
    for (const SealedValueRow& row : *rows) {
      seen.push_back(row.tenant + "/" + row.id);
      EXPECT_EQ(row.key_id, 7u);
      EXPECT_EQ(row.sealed_value, std::vector<std::uint8_t>{static_cast<std::uint8_t>(row.id[0])});
    }
    after = SealedValueKey{rows->back().tenant, rows->back().id};
  }
  EXPECT_THAT(seen, ElementsAre("a/1", "a/10", "a/2", "b/1", "b/2", "c/0"));
}

TEST_P(TokenStoreConformance, ListSealedValuesCanSkipOneKeyId) {
  for (const auto& [id, key_id] :
       std::vector<std::pair<std::string, std::uint32_t>>{{"a", 1}, {"b", 2}, {"c", 1}, {"d", 0}}) {
    TokenRecord record = MakeRecord(MakeToken(id, id));
    record.key_id = key_id;
    ASSERT_TRUE(store_->Insert("acme", record).ok());
  }
  auto rows = store_->ListSealedValues(std::nullopt, 100, 1u);
  ASSERT_TRUE(rows.ok());
  std::vector<std::string> ids;
  for (const auto& row : *rows) ids.push_back(row.id);
  EXPECT_THAT(ids, ElementsAre("b", "d"));
  auto after_b = store_->ListSealedValues(SealedValueKey{"acme", "b"}, 100, 2u);
  ASSERT_TRUE(after_b.ok());
  ids.clear();
  for (const auto& row : *after_b) ids.push_back(row.id);
  EXPECT_THAT(ids, ElementsAre("c", "d"));
}

TEST_P(TokenStoreConformance, SwapSealedValuesReplacesOnlyRowsThatDidNotChange) {
  Put("acme", MakeToken("same", "same", 1), {1, 1});
  Put("acme", MakeToken("changed", "changed", 1), {2, 2});
  Put("globex", MakeToken("same", "same", 1), {1, 1});
  const std::vector<SealedValueSwap> swaps = {
      {"acme", "same", {1, 1}, {9, 9, 9}, 2},
      {"acme", "changed", {2, 0}, {9, 9, 9}, 2},  // stale expectation
      {"acme", "gone", {1, 1}, {9, 9, 9}, 2},     // no such row
  };
  auto applied = store_->SwapSealedValues(swaps);
  ASSERT_TRUE(applied.ok()) << applied.error().internal;
  EXPECT_THAT(*applied, ElementsAre(true, false, false));

  auto same = MustGet("acme", "same");
  EXPECT_EQ(same->sealed_value, (std::vector<std::uint8_t>{9, 9, 9}));
  EXPECT_EQ(same->key_id, 2u);
  EXPECT_EQ(same->token.metadata.version, 1);  // a re-wrap is not a new version
  EXPECT_EQ(same->token.name, "same");
  EXPECT_EQ(MustGet("acme", "changed")->sealed_value, (std::vector<std::uint8_t>{2, 2}));
  EXPECT_EQ(MustGet("globex", "same")->sealed_value, (std::vector<std::uint8_t>{1, 1}));
  EXPECT_FALSE(MustGet("acme", "gone").has_value());
  auto none = store_->SwapSealedValues({});
  ASSERT_TRUE(none.ok());
  EXPECT_THAT(*none, IsEmpty());
}

TEST_P(TokenStoreConformance, CountSealedValuesByKeyIdFollowsInsertsSwapsAndDeletes) {
  auto empty = store_->CountSealedValuesByKeyId();
  ASSERT_TRUE(empty.ok());
  EXPECT_THAT(*empty, IsEmpty());
  for (const auto& [id, key_id] :
       std::vector<std::pair<std::string, std::uint32_t>>{{"a", 1}, {"b", 1}, {"c", 2}}) {
    TokenRecord record = MakeRecord(MakeToken(id, id), {1});
    record.key_id = key_id;
    ASSERT_TRUE(store_->Insert(id == "c" ? "globex" : "acme", record).ok());
  }
  using Counts = std::map<std::uint32_t, std::int64_t>;
  EXPECT_EQ(*store_->CountSealedValuesByKeyId(), (Counts{{1, 2}, {2, 1}}));
  const std::vector<SealedValueSwap> swaps = {{"acme", "a", {1}, {2}, 2}};
  ASSERT_TRUE(store_->SwapSealedValues(swaps).ok());
  ASSERT_TRUE(store_->Delete("acme", "b", {}).ok());
  EXPECT_EQ(*store_->CountSealedValuesByKeyId(), (Counts{{2, 2}}));
}

// ---------------------------------------------------------------------------------------------
// MCP servers and references to tokens

domain::McpServer MakeServer(std::string id, std::optional<std::string> token_id,
                             std::string name = "server") {
  domain::McpServer server;
  server.id = std::move(id);
  server.name = std::move(name);
  server.enabled = true;
  server.transport = "streamable_http";
  server.config.url = "https://mcp.example.com/x";
  server.config.authorization_header_name = "Authorization";
  server.config.authorization_header_token_id = std::move(token_id);
  server.metadata = {1, 1'000, 1'000};
  return server;
}

class McpServerConformance : public TokenStoreConformance {
 protected:
  void PutServer(const std::string& tenant, const domain::McpServer& server) {
    auto inserted = store_->InsertMcpServer(tenant, server);
    ASSERT_TRUE(inserted.ok()) << inserted.error().message << " / " << inserted.error().internal;
  }

  std::optional<domain::McpServer> MustGetServer(const std::string& tenant, const std::string& id) {
    auto got = store_->GetMcpServer(tenant, id);
    EXPECT_TRUE(got.ok()) << got.error().internal;
    if (!got.ok()) return std::nullopt;
    return std::move(got).value();
  }

  // The server with this id, as a list returns it (every field, like a get).
  domain::McpServer MustListOne(const std::string& tenant, const std::string& id) {
    Clause by_id;
    by_id.field = "id";
    by_id.type = FieldType::kString;
    by_id.kind = Clause::Kind::kCompare;
    by_id.comparisons.push_back({CompareOp::kEq, id});
    auto page = store_->ListMcpServers(MakeList(tenant, {by_id}));
    EXPECT_TRUE(page.ok());
    if (!page.ok() || page->items.size() != 1) {
      ADD_FAILURE() << "no single server " << id;
      return {};
    }
    return page->items.front();
  }

  static DeleteRequest Force(std::int64_t now_ms) {
    DeleteRequest request;
    request.references = ReferencePolicy::kRemove;
    request.now_ms = now_ms;
    return request;
  }
};

void ExpectSameServer(const domain::McpServer& got, const domain::McpServer& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.enabled, want.enabled);
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.transport, want.transport);
  EXPECT_EQ(got.config, want.config);
  EXPECT_EQ(got.metadata.version, want.metadata.version);
  EXPECT_EQ(got.metadata.created_at_ms, want.metadata.created_at_ms);
  EXPECT_EQ(got.metadata.modified_at_ms, want.metadata.modified_at_ms);
}

TEST_P(McpServerConformance, InsertThenGetRoundTripsEveryField) {
  Put("acme", MakeToken("tok", "n"));
  domain::McpServer full = MakeServer("full", "tok", std::string("N\xC3\xA4me \0 with NUL", 17));
  full.transport = "sse";
  full.config.url = "https://user@mcp.example.com:8443/a?b=c#d";
  full.config.authorization_header_name = "X-Api-Key";
  full.metadata = {1, 1'234, 5'678};
  PutServer("acme", full);
  domain::McpServer minimal = MakeServer("minimal", std::nullopt);
  minimal.enabled = false;
  minimal.config.authorization_header_name.reset();
  PutServer("acme", minimal);

  auto got_full = MustGetServer("acme", "full");
  ASSERT_TRUE(got_full.has_value());
  ExpectSameServer(*got_full, full);
  auto got_minimal = MustGetServer("acme", "minimal");
  ASSERT_TRUE(got_minimal.has_value());
  ExpectSameServer(*got_minimal, minimal);
  EXPECT_FALSE(got_minimal->config.authorization_header_name.has_value());
  EXPECT_FALSE(got_minimal->config.authorization_header_token_id.has_value());
  EXPECT_FALSE(MustGetServer("acme", "absent").has_value());
}

TEST_P(McpServerConformance, DuplicateInsertIsConflictAndKeepsOriginal) {
  PutServer("acme", MakeServer("s", std::nullopt, "first"));
  auto again = store_->InsertMcpServer("acme", MakeServer("s", std::nullopt, "second"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_EQ(MustGetServer("acme", "s")->name, "first");
}

TEST_P(McpServerConformance, ReferenceToAMissingTokenIsRefusedNamingTheField) {
  Put("globex", MakeToken("tok", "another tenant's token"));
  for (const char* token_id : {"tok", "nope"}) {
    auto inserted = store_->InsertMcpServer("acme", MakeServer("s", std::string(token_id)));
    ASSERT_FALSE(inserted.ok()) << token_id;
    EXPECT_EQ(inserted.error().code, ErrorCode::kInvalidArgument);
    ASSERT_EQ(inserted.error().details.size(), 1u);
    EXPECT_EQ(inserted.error().details[0].field, "config.authorizationHeaderToken.id");
  }
  EXPECT_FALSE(MustGetServer("acme", "s").has_value());

  PutServer("acme", MakeServer("s", std::nullopt));
  domain::McpServer update = MakeServer("s", std::string("nope"), "renamed");
  auto updated = store_->UpdateMcpServer("acme", update, 1, kRefuse);
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.error().code, ErrorCode::kInvalidArgument);
  ASSERT_EQ(updated.error().details.size(), 1u);
  EXPECT_EQ(updated.error().details[0].field, "config.authorizationHeaderToken.id");
  auto kept = MustGetServer("acme", "s");
  EXPECT_EQ(kept->name, "server");
  EXPECT_EQ(kept->metadata.version, 1);
}

TEST_P(McpServerConformance, UpdateReplacesEveryFieldAndBumpsVersionOnlyOnTheRightVersion) {
  Put("acme", MakeToken("t1", "n"));
  Put("acme", MakeToken("t2", "n"));
  PutServer("acme", MakeServer("s", std::string("t1")));
  domain::McpServer next = MakeServer("s", std::string("t2"), "renamed");
  next.enabled = false;
  next.transport = "sse";
  next.config.url = "http://other.example/";
  next.config.authorization_header_name.reset();
  next.metadata.modified_at_ms = 9'000;
  ASSERT_TRUE(store_->UpdateMcpServer("acme", next, 1, kRefuse).ok());
  next.metadata.version = 2;
  ExpectSameServer(*MustGetServer("acme", "s"), next);

  auto stale = store_->UpdateMcpServer("acme", MakeServer("s", std::nullopt, "stale"), 1, kRefuse);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  auto absent = store_->UpdateMcpServer("acme", MakeServer("ghost", std::nullopt), 1, kRefuse);
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().code, ErrorCode::kConflict);
  auto other_tenant = store_->UpdateMcpServer("globex", MakeServer("s", std::nullopt), 2, kRefuse);
  ASSERT_FALSE(other_tenant.ok());
  EXPECT_EQ(other_tenant.error().code, ErrorCode::kConflict);
  EXPECT_EQ(MustGetServer("acme", "s")->name, "renamed");
}

TEST_P(McpServerConformance, DeleteOutcomes) {
  auto absent = store_->DeleteMcpServer("acme", "s", {});
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(absent->outcome, DeleteOutcome::kAbsent);
  PutServer("acme", MakeServer("s", std::nullopt));
  auto cross = store_->DeleteMcpServer("globex", "s", {});
  ASSERT_TRUE(cross.ok());
  EXPECT_EQ(cross->outcome, DeleteOutcome::kAbsent);
  auto mismatch = store_->DeleteMcpServer("acme", "s", Versioned(2));
  ASSERT_TRUE(mismatch.ok());
  EXPECT_EQ(mismatch->outcome, DeleteOutcome::kVersionMismatch);
  EXPECT_TRUE(MustGetServer("acme", "s").has_value());
  auto deleted = store_->DeleteMcpServer("acme", "s", Versioned(1));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->outcome, DeleteOutcome::kDeleted);
  EXPECT_FALSE(MustGetServer("acme", "s").has_value());
}

TEST_P(McpServerConformance, ReferencedTokenIsNotDeletedAndEveryReferrerIsListed) {
  Put("acme", MakeToken("tok", "n"));
  Put("acme", MakeToken("other", "n"));
  PutServer("acme", MakeServer("b", std::string("tok")));
  PutServer("acme", MakeServer("a", std::string("tok")));
  PutServer("acme", MakeServer("c", std::string("other")));
  PutServer("acme", MakeServer("d", std::nullopt));

  auto refused = store_->Delete("acme", "tok", {});
  ASSERT_TRUE(refused.ok()) << refused.error().internal;
  EXPECT_EQ(refused->outcome, DeleteOutcome::kReferenced);
  const std::string field = "config.authorizationHeaderToken.id";
  EXPECT_THAT(refused->referrers,
              ElementsAre(Referrer{"mcpServer", "a", field}, Referrer{"mcpServer", "b", field}));
  EXPECT_TRUE(MustGet("acme", "tok").has_value());
  EXPECT_EQ(MustGetServer("acme", "a")->metadata.version, 1);

  // A version mismatch is reported as such, before references are looked at.
  auto mismatch = store_->Delete("acme", "tok", Versioned(7));
  ASSERT_TRUE(mismatch.ok());
  EXPECT_EQ(mismatch->outcome, DeleteOutcome::kVersionMismatch);

  // Unreferenced tokens delete as before.
  ASSERT_TRUE(store_->UpdateMcpServer("acme", MakeServer("c", std::nullopt), 1, kRefuse).ok());
  auto deleted = store_->Delete("acme", "other", {});
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->outcome, DeleteOutcome::kDeleted);
  EXPECT_THAT(deleted->referrers, IsEmpty());
}

TEST_P(McpServerConformance, ForcedDeleteRemovesEveryReferenceWithVersionAndModifiedAt) {
  Put("acme", MakeToken("tok", "n"));
  Put("globex", MakeToken("tok", "same id, other tenant"));
  PutServer("acme", MakeServer("a", std::string("tok")));
  PutServer("acme", MakeServer("b", std::string("tok")));
  PutServer("acme", MakeServer("untouched", std::nullopt));
  PutServer("globex", MakeServer("a", std::string("tok")));
  ASSERT_TRUE(
      store_->UpdateMcpServer("acme", MakeServer("b", std::string("tok"), "b2"), 1, kRefuse).ok());

  // A stale version refuses the whole delete: the references stay.
  auto stale = store_->Delete("acme", "tok", [] {
    DeleteRequest r = Force(50'000);
    r.expected_version = 3;
    return r;
  }());
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->outcome, DeleteOutcome::kVersionMismatch);
  EXPECT_EQ(MustGetServer("acme", "a")->config.authorization_header_token_id, "tok");

  auto forced = store_->Delete("acme", "tok", Force(50'000));
  ASSERT_TRUE(forced.ok()) << forced.error().internal;
  EXPECT_EQ(forced->outcome, DeleteOutcome::kDeleted);
  const std::string field = "config.authorizationHeaderToken.id";
  EXPECT_THAT(forced->referrers,
              ElementsAre(Referrer{"mcpServer", "a", field}, Referrer{"mcpServer", "b", field}));
  EXPECT_FALSE(MustGet("acme", "tok").has_value());

  auto a = MustGetServer("acme", "a");
  EXPECT_FALSE(a->config.authorization_header_token_id.has_value());
  EXPECT_EQ(a->metadata.version, 2);
  EXPECT_EQ(a->metadata.modified_at_ms, 50'000);
  EXPECT_EQ(a->metadata.created_at_ms, 1'000);
  EXPECT_EQ(a->config.authorization_header_name, "Authorization");  // only the reference goes
  auto b = MustGetServer("acme", "b");
  EXPECT_FALSE(b->config.authorization_header_token_id.has_value());
  EXPECT_EQ(b->name, "b2");
  EXPECT_EQ(b->metadata.version, 3);
  auto untouched = MustGetServer("acme", "untouched");
  EXPECT_EQ(untouched->metadata.version, 1);
  EXPECT_EQ(untouched->metadata.modified_at_ms, 1'000);

  // The other tenant's token of the same id and its referrer are not affected.
  EXPECT_TRUE(MustGet("globex", "tok").has_value());
  auto theirs = MustGetServer("globex", "a");
  EXPECT_EQ(theirs->config.authorization_header_token_id, "tok");
  EXPECT_EQ(theirs->metadata.version, 1);

  // Forcing the delete of an unreferenced or absent token is an ordinary delete.
  auto again = store_->Delete("acme", "tok", Force(60'000));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, DeleteOutcome::kAbsent);
}

Clause McpClause(std::string field, FieldType type, Clause::Kind kind,
                 std::vector<query::Literal> values = {}, std::string pattern = {}) {
  Clause clause;
  clause.field = std::move(field);
  clause.type = type;
  clause.kind = kind;
  for (auto& value : values) clause.comparisons.push_back({CompareOp::kEq, std::move(value)});
  clause.pattern = std::move(pattern);
  return clause;
}

std::vector<std::string> ServerIds(const Page<domain::McpServer>& page) {
  std::vector<std::string> ids;
  for (const auto& server : page.items) ids.push_back(server.id);
  return ids;
}

TEST_P(McpServerConformance, ListFiltersBooleansNestedFieldsAndAbsentReferences) {
  Put("acme", MakeToken("tok", "n"));
  domain::McpServer a = MakeServer("a", std::string("tok"), "Alpha");
  a.config.url = "https://orders.example.com/mcp";
  domain::McpServer b = MakeServer("b", std::nullopt, "beta");
  b.enabled = false;
  b.transport = "sse";
  b.config.authorization_header_name.reset();
  domain::McpServer c = MakeServer("c", std::string("tok"), "Gamma");
  c.enabled = false;
  PutServer("acme", c);
  PutServer("acme", a);
  PutServer("acme", b);
  PutServer("globex", MakeServer("a", std::nullopt, "other tenant"));

  auto list = [&](std::vector<Clause> clauses, std::vector<query::SortKey> sort = {}) {
    ListQuery query = MakeList("acme", std::move(clauses), std::move(sort));
    auto page = store_->ListMcpServers(query);
    EXPECT_TRUE(page.ok()) << page.error().message << " / " << page.error().internal;
    return page.ok() ? ServerIds(*page) : std::vector<std::string>{"<error>"};
  };
  using K = Clause::Kind;
  EXPECT_THAT(list({}), ElementsAre("a", "b", "c"));
  EXPECT_THAT(list({McpClause("enabled", FieldType::kBoolean, K::kCompare, {true})}),
              ElementsAre("a"));
  EXPECT_THAT(list({McpClause("enabled", FieldType::kBoolean, K::kCompare, {false})}),
              ElementsAre("b", "c"));
  EXPECT_THAT(list({McpClause("config.url", FieldType::kString, K::kRegex, {}, "ORDERS")}),
              ElementsAre("a"));
  EXPECT_THAT(list({McpClause("transport", FieldType::kString, K::kCompare, {std::string("sse")})}),
              ElementsAre("b"));
  EXPECT_THAT(list({McpClause("config.authorizationHeaderToken.id", FieldType::kString, K::kCompare,
                              {std::string("tok")})}),
              ElementsAre("a", "c"));
  EXPECT_THAT(
      list({McpClause("config.authorizationHeaderToken.id", FieldType::kString, K::kMissing)}),
      ElementsAre("b"));
  EXPECT_THAT(list({McpClause("config.authorizationHeaderName", FieldType::kString, K::kExists)}),
              ElementsAre("a", "c"));
  EXPECT_THAT(list({McpClause("config.authorizationHeaderName", FieldType::kString, K::kRegex, {},
                              "auth")}),
              ElementsAre("a", "c"));
  EXPECT_THAT(list({McpClause("name", FieldType::kString, K::kRegex, {}, "^[ab]")}),
              ElementsAre("a", "b"));

  query::SortKey enabled_desc;
  enabled_desc.field = "enabled";
  enabled_desc.type = FieldType::kBoolean;
  enabled_desc.descending = true;
  query::SortKey by_name;
  by_name.field = "name";
  EXPECT_THAT(list({}, {enabled_desc}), ElementsAre("a", "b", "c"));
  EXPECT_THAT(list({}, {by_name}), ElementsAre("a", "c", "b"));  // bytewise: uppercase first

  ListQuery paged = MakeList("acme", {}, {}, /*limit=*/1, /*offset=*/1, /*count_total=*/true);
  auto page = store_->ListMcpServers(paged);
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(ServerIds(*page), ElementsAre("b"));
  EXPECT_EQ(page->total, 3);
  ExpectSameServer(MustListOne("acme", "a"), a);
}

// The race of issue 5: a forced token delete against referrer writers on other connections.
// Afterwards no server references a missing token, every successful update is visible (its name
// is the server's final name), and the versions add up: 1 + successful updates + 1 if the delete
// removed the server's reference.
TEST_P(McpServerConformance, ForcedDeleteRacingReferrerWritesNeverDanglesNorLosesUpdates) {
  constexpr int kRounds = 8;
  constexpr int kServers = 4;
  constexpr int kUpdatesPerServer = 6;
  for (int round = 0; round < kRounds; ++round) {
    const std::string tenant = "race" + std::to_string(round);
    Put(tenant, MakeToken("tok", "n"));
    for (int s = 0; s < kServers; ++s) {
      // Even servers start with the reference and keep it; odd ones start without and add it.
      PutServer(tenant, MakeServer("s" + std::to_string(s),
                                   s % 2 == 0 ? std::optional<std::string>("tok") : std::nullopt));
    }
    std::latch start(kServers + 1);
    std::optional<Result<DeleteResult>> deleted;
    std::vector<std::string> last_written(kServers);
    std::vector<int> successes(kServers, 0);
    std::atomic<int> unexpected{0};
    std::vector<std::thread> threads;
    threads.emplace_back([&] {
      start.arrive_and_wait();
      if (round % 2 == 1) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      deleted.emplace(store_->Delete(tenant, "tok", Force(77'000)));
    });
    for (int s = 0; s < kServers; ++s) {
      threads.emplace_back([&, s] {
        const std::string id = "s" + std::to_string(s);
        start.arrive_and_wait();
        for (int n = 0; n < kUpdatesPerServer; ++n) {
          auto current = store_->GetMcpServer(tenant, id);
          if (!current.ok() || !current->has_value()) {
            ++unexpected;
            return;
          }
          domain::McpServer next = **current;
          next.name = id + "-update-" + std::to_string(n);
          next.config.authorization_header_token_id = "tok";
          next.metadata.modified_at_ms = 2'000 + n;
          auto written =
              store_->UpdateMcpServer(tenant, next, (*current)->metadata.version, kRefuse);
          if (written.ok()) {
            last_written[s] = next.name;
            ++successes[s];
          } else if (written.error().code == ErrorCode::kConflict) {
            // The delete removed the reference in between: a visible, retryable failure.
          } else if (written.error().code == ErrorCode::kInvalidArgument) {
            // Adding the reference after the token was deleted: refused, naming the field.
            if (written.error().details.empty() ||
                written.error().details[0].field != "config.authorizationHeaderToken.id") {
              ++unexpected;
            }
          } else {
            ADD_FAILURE() << written.error().message << " / " << written.error().internal;
            ++unexpected;
          }
        }
      });
    }
    for (auto& thread : threads) thread.join();
    ASSERT_EQ(unexpected.load(), 0);
    ASSERT_TRUE(deleted.has_value());
    ASSERT_TRUE(deleted->ok()) << deleted->error().message << " / " << deleted->error().internal;
    EXPECT_EQ((*deleted)->outcome, DeleteOutcome::kDeleted);
    EXPECT_FALSE(MustGet(tenant, "tok").has_value());
    for (int s = 0; s < kServers; ++s) {
      const std::string id = "s" + std::to_string(s);
      auto server = MustGetServer(tenant, id);
      ASSERT_TRUE(server.has_value());
      EXPECT_FALSE(server->config.authorization_header_token_id.has_value())
          << id << " references the deleted token";
      EXPECT_EQ(server->name, last_written[s].empty() ? "server" : last_written[s])
          << id << ": a successful update was lost";
      const bool cleared = std::any_of((*deleted)->referrers.begin(), (*deleted)->referrers.end(),
                                       [&](const Referrer& r) { return r.id == id; });
      EXPECT_EQ(server->metadata.version, 1 + successes[s] + (cleared ? 1 : 0)) << id;
      if (cleared) {
        EXPECT_EQ(server->metadata.modified_at_ms, 77'000) << id;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Agents, referencing tokens and MCP servers

const std::string kLlmTokenField = "llmConfig.token.id";
const std::string kShTokenField = "llmConfig.selfHostedParams.authorizationHeaderToken.id";
const std::string kServerTokenField = "config.authorizationHeaderToken.id";

domain::AgentMcpServer Custom(std::string server_id) {
  return domain::AgentMcpServer{"custom", std::move(server_id), std::nullopt, std::nullopt};
}

domain::AgentMcpServer Predefined(std::string domain_name,
                                  std::optional<std::vector<std::string>> tools = std::nullopt) {
  return domain::AgentMcpServer{"predefined", std::nullopt, std::move(domain_name),
                                std::move(tools)};
}

// An agent of an API-key provider using `token_id` (of the Emporix provider without one), using
// the custom MCP servers `servers`.
domain::Agent MakeAgent(std::string id, std::optional<std::string> token_id = std::nullopt,
                        std::vector<std::string> servers = {}) {
  domain::Agent agent;
  agent.id = std::move(id);
  agent.name = {{"en", "Agent"}};
  agent.enabled = true;
  agent.user_prompt = "Help the customer.";
  agent.llm_config.provider = token_id ? "openai" : "emporix_openai";
  agent.llm_config.model = "gpt-4o";
  agent.llm_config.token_id = std::move(token_id);
  for (std::string& server : servers) agent.mcp_servers.push_back(Custom(std::move(server)));
  agent.metadata = {1, 1'000, 1'000};
  return agent;
}

// A self-hosted agent whose authorization header uses `token_id`.
domain::Agent MakeSelfHostedAgent(std::string id, std::optional<std::string> token_id) {
  domain::Agent agent = MakeAgent(std::move(id));
  agent.llm_config.provider = "self_hosted_ollama";
  agent.llm_config.model = "llama3";
  agent.llm_config.self_hosted_params =
      domain::SelfHostedParams{"https://llm.example.com/v1", "X-Auth", std::move(token_id)};
  return agent;
}

void ExpectSameAgent(const domain::Agent& got, const domain::Agent& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.description, want.description);
  EXPECT_EQ(got.enabled, want.enabled);
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.tags, want.tags);
  EXPECT_EQ(got.user_prompt, want.user_prompt);
  EXPECT_EQ(got.llm_config, want.llm_config);
  EXPECT_EQ(got.mcp_servers, want.mcp_servers);
  EXPECT_EQ(got.metadata.version, want.metadata.version);
  EXPECT_EQ(got.metadata.created_at_ms, want.metadata.created_at_ms);
  EXPECT_EQ(got.metadata.modified_at_ms, want.metadata.modified_at_ms);
}

std::vector<std::string> AgentIds(const Page<domain::Agent>& page) {
  std::vector<std::string> ids;
  for (const auto& agent : page.items) ids.push_back(agent.id);
  return ids;
}

class AgentConformance : public McpServerConformance {
 protected:
  void PutAgent(const std::string& tenant, const domain::Agent& agent) {
    auto inserted = store_->InsertAgent(tenant, agent);
    ASSERT_TRUE(inserted.ok()) << inserted.error().message << " / " << inserted.error().internal;
  }

  std::optional<domain::Agent> MustGetAgent(const std::string& tenant, const std::string& id) {
    auto got = store_->GetAgent(tenant, id);
    EXPECT_TRUE(got.ok()) << got.error().message << " / " << got.error().internal;
    if (!got.ok()) return std::nullopt;
    return std::move(got).value();
  }

  // The agent with this id, as a list returns it (every field, like a get).
  domain::Agent MustListOneAgent(const std::string& tenant, const std::string& id) {
    auto page = store_->ListAgents(
        MakeList(tenant, {McpClause("id", FieldType::kString, Clause::Kind::kCompare, {id})}));
    EXPECT_TRUE(page.ok()) << page.error().message << " / " << page.error().internal;
    if (!page.ok() || page->items.size() != 1) {
      ADD_FAILURE() << "no single agent " << id;
      return {};
    }
    return page->items.front();
  }

  // The field of the one detail of a refused write, or a description of what came instead.
  static std::string RefusedField(const Result<void>& written) {
    if (written.ok()) return "<accepted>";
    if (written.error().code != ErrorCode::kInvalidArgument) {
      return "<not invalid argument: " + written.error().message + ">";
    }
    if (written.error().details.size() != 1) return "<details: not one>";
    return written.error().details[0].field;
  }
};

TEST_P(AgentConformance, InsertThenGetRoundTripsEveryField) {
  Put("acme", MakeToken("t1", "n"));
  Put("acme", MakeToken("t2", "n"));
  PutServer("acme", MakeServer("s1", std::nullopt));
  PutServer("acme", MakeServer("s2", std::nullopt));

  domain::Agent full = MakeSelfHostedAgent("full", std::string("t2"));
  full.name = {{"en", "Complaint agent"},
               {"de", "Beschwerde-Agent \xC3\xA4\xC3\xB6\xC3\xBC"},
               {"zh-Hant-TW", "\xE4\xB8\xAD\xE6\x96\x87"}};
  full.description = domain::LocalizedText{{"en", ""}, {"de", "Bearbeitet \"Beschwerden\"\n"}};
  full.enabled = false;
  full.type = "complaint";
  full.tags = std::vector<std::string>{"support", "b b", "\xC3\xBCml\xC3\xA4ut", "x\\y"};
  full.user_prompt = "Line one\nLine \"two\" \\ \t tab, {\"json\": [1]} \xF0\x9F\x98\x80";
  full.llm_config.provider = "self_hosted_vllm";
  full.llm_config.model = "meta/llama-3.1 \xC3\xA4";
  full.llm_config.temperature_tenths = 7;
  full.llm_config.max_tokens = 4096;
  full.llm_config.base_provider = "OPENAI";
  full.mcp_servers = {Custom("s1"), Predefined("order", std::vector<std::string>{"a", "b-c"}),
                      Predefined("customer"), Custom("s2"),
                      Predefined("product", std::vector<std::string>{})};
  full.metadata = {1, 1'234, 5'678};
  PutAgent("acme", full);

  domain::Agent api_key = MakeAgent("api-key", std::string("t1"), {"s2"});
  api_key.llm_config.provider = "anthropic";
  api_key.llm_config.temperature_tenths = 1;
  PutAgent("acme", api_key);

  domain::Agent minimal = MakeAgent("minimal");
  minimal.enabled = false;
  PutAgent("acme", minimal);

  for (const domain::Agent* want : {&full, &api_key, &minimal}) {
    auto got = MustGetAgent("acme", want->id);
    ASSERT_TRUE(got.has_value()) << want->id;
    ExpectSameAgent(*got, *want);
    ExpectSameAgent(MustListOneAgent("acme", want->id), *want);
  }
  auto got_minimal = MustGetAgent("acme", "minimal");
  EXPECT_FALSE(got_minimal->description.has_value());
  EXPECT_FALSE(got_minimal->type.has_value());
  EXPECT_FALSE(got_minimal->tags.has_value());
  EXPECT_FALSE(got_minimal->llm_config.token_id.has_value());
  EXPECT_FALSE(got_minimal->llm_config.self_hosted_params.has_value());
  EXPECT_FALSE(got_minimal->llm_config.temperature_tenths.has_value());
  EXPECT_FALSE(got_minimal->llm_config.max_tokens.has_value());
  EXPECT_THAT(got_minimal->mcp_servers, IsEmpty());

  // A self-hosted agent without a token keeps its other params.
  domain::Agent no_token = MakeSelfHostedAgent("no-token", std::nullopt);
  no_token.llm_config.self_hosted_params->authorization_header_name.reset();
  PutAgent("acme", no_token);
  ExpectSameAgent(*MustGetAgent("acme", "no-token"), no_token);

  EXPECT_FALSE(MustGetAgent("acme", "absent").has_value());
  EXPECT_FALSE(MustGetAgent("globex", "full").has_value());
}

TEST_P(AgentConformance, DuplicateInsertIsConflictAndKeepsOriginal) {
  domain::Agent first = MakeAgent("a");
  first.name = {{"en", "first"}};
  PutAgent("acme", first);
  domain::Agent second = MakeAgent("a");
  second.name = {{"en", "second"}};
  auto again = store_->InsertAgent("acme", second);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_EQ(MustGetAgent("acme", "a")->name, first.name);
  PutAgent("globex", second);  // the same id in another tenant is another agent
  EXPECT_EQ(MustGetAgent("globex", "a")->name, second.name);
}

TEST_P(AgentConformance, MissingReferencesAreRefusedNamingTheFirstMissingField) {
  Put("acme", MakeToken("t1", "n"));
  Put("globex", MakeToken("theirs", "another tenant's token"));
  PutServer("acme", MakeServer("s1", std::nullopt));
  PutServer("globex", MakeServer("their-server", std::nullopt));

  EXPECT_EQ(RefusedField(store_->InsertAgent("acme", MakeAgent("a", std::string("nope")))),
            kLlmTokenField);
  EXPECT_EQ(RefusedField(store_->InsertAgent("acme", MakeAgent("a", std::string("theirs")))),
            kLlmTokenField);
  EXPECT_EQ(
      RefusedField(store_->InsertAgent("acme", MakeSelfHostedAgent("a", std::string("nope")))),
      kShTokenField);
  EXPECT_EQ(
      RefusedField(store_->InsertAgent("acme", MakeAgent("a", std::string("t1"), {"s1", "ghost"}))),
      "mcpServers[1].mcpServer.id");
  EXPECT_EQ(RefusedField(
                store_->InsertAgent("acme", MakeAgent("a", std::string("t1"), {"their-server"}))),
            "mcpServers[0].mcpServer.id");
  // Several missing: the first in ReferencesOf order (tokens, then the list in order).
  EXPECT_EQ(
      RefusedField(store_->InsertAgent("acme", MakeAgent("a", std::string("nope"), {"ghost"}))),
      kLlmTokenField);
  domain::Agent predefined_first = MakeAgent("a", std::string("t1"), {"ghost", "s1"});
  predefined_first.mcp_servers.insert(predefined_first.mcp_servers.begin(), Predefined("order"));
  EXPECT_EQ(RefusedField(store_->InsertAgent("acme", predefined_first)),
            "mcpServers[1].mcpServer.id");
  EXPECT_FALSE(MustGetAgent("acme", "a").has_value());

  PutAgent("acme", MakeAgent("a", std::string("t1"), {"s1"}));
  domain::Agent update = MakeAgent("a", std::string("t1"), {"s1", "ghost"});
  update.name = {{"en", "renamed"}};
  EXPECT_EQ(RefusedField(store_->UpdateAgent("acme", update, 1)), "mcpServers[1].mcpServer.id");
  update = MakeSelfHostedAgent("a", std::string("theirs"));
  EXPECT_EQ(RefusedField(store_->UpdateAgent("acme", update, 1)), kShTokenField);
  auto kept = MustGetAgent("acme", "a");
  EXPECT_EQ(kept->name.at("en"), "Agent");
  EXPECT_EQ(kept->metadata.version, 1);
  EXPECT_THAT(kept->mcp_servers, ElementsAre(Custom("s1")));
}

TEST_P(AgentConformance, UpdateReplacesEveryFieldAndBumpsVersionOnlyOnTheRightVersion) {
  Put("acme", MakeToken("t1", "n"));
  Put("acme", MakeToken("t2", "n"));
  PutServer("acme", MakeServer("s1", std::nullopt));
  PutServer("acme", MakeServer("s2", std::nullopt));
  domain::Agent first = MakeAgent("a", std::string("t1"), {"s1", "s2"});
  first.tags = std::vector<std::string>{"old"};
  first.type = "generic";
  PutAgent("acme", first);

  domain::Agent next = MakeSelfHostedAgent("a", std::string("t2"));
  next.name = {{"de", "Umbenannt"}};
  next.description = domain::LocalizedText{{"en", "now described"}};
  next.enabled = false;
  next.user_prompt = "Something else.";
  next.llm_config.max_tokens = 10;
  next.mcp_servers = {Custom("s2"), Predefined("frontend", std::vector<std::string>{"t"})};
  next.metadata = {1, 1'000, 9'000};
  ASSERT_TRUE(store_->UpdateAgent("acme", next, 1).ok());
  next.metadata.version = 2;
  ExpectSameAgent(*MustGetAgent("acme", "a"), next);

  // The stored uses follow the list: s1 is free now, s2 still in use.
  auto s1 = store_->DeleteMcpServer("acme", "s1", {});
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->outcome, DeleteOutcome::kDeleted);
  auto s2 = store_->DeleteMcpServer("acme", "s2", {});
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(s2->outcome, DeleteOutcome::kReferenced);

  auto stale = store_->UpdateAgent("acme", MakeAgent("a"), 1);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  auto absent = store_->UpdateAgent("acme", MakeAgent("ghost"), 1);
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().code, ErrorCode::kConflict);
  auto other_tenant = store_->UpdateAgent("globex", MakeAgent("a"), 2);
  ASSERT_FALSE(other_tenant.ok());
  EXPECT_EQ(other_tenant.error().code, ErrorCode::kConflict);
  ExpectSameAgent(*MustGetAgent("acme", "a"), next);

  // Back to an agent without references: every reference goes.
  domain::Agent plain = MakeAgent("a");
  plain.metadata = {2, 1'000, 10'000};
  ASSERT_TRUE(store_->UpdateAgent("acme", plain, 2).ok());
  plain.metadata.version = 3;
  ExpectSameAgent(*MustGetAgent("acme", "a"), plain);
  auto t2 = store_->Delete("acme", "t2", {});
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(t2->outcome, DeleteOutcome::kDeleted);
  auto s2_free = store_->DeleteMcpServer("acme", "s2", {});
  ASSERT_TRUE(s2_free.ok());
  EXPECT_EQ(s2_free->outcome, DeleteOutcome::kDeleted);
}

TEST_P(AgentConformance, DeleteOutcomes) {
  PutServer("acme", MakeServer("s", std::nullopt));
  auto absent = store_->DeleteAgent("acme", "a", {});
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(absent->outcome, DeleteOutcome::kAbsent);
  PutAgent("acme", MakeAgent("a", std::nullopt, {"s"}));
  auto cross = store_->DeleteAgent("globex", "a", {});
  ASSERT_TRUE(cross.ok());
  EXPECT_EQ(cross->outcome, DeleteOutcome::kAbsent);
  auto mismatch = store_->DeleteAgent("acme", "a", Versioned(2));
  ASSERT_TRUE(mismatch.ok());
  EXPECT_EQ(mismatch->outcome, DeleteOutcome::kVersionMismatch);
  EXPECT_TRUE(MustGetAgent("acme", "a").has_value());
  auto deleted = store_->DeleteAgent("acme", "a", Versioned(1));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->outcome, DeleteOutcome::kDeleted);
  EXPECT_THAT(deleted->referrers, IsEmpty());
  EXPECT_FALSE(MustGetAgent("acme", "a").has_value());
  // Its use of the server went with it.
  auto server = store_->DeleteMcpServer("acme", "s", {});
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(server->outcome, DeleteOutcome::kDeleted);
  // The id is free again.
  PutAgent("acme", MakeAgent("a"));
}

TEST_P(AgentConformance, ReferencedTokenIsNotDeletedAndEveryAgentReferrerIsListed) {
  Put("acme", MakeToken("tok", "n"));
  Put("acme", MakeToken("other", "n"));
  PutAgent("acme", MakeAgent("b", std::string("tok")));
  PutAgent("acme", MakeSelfHostedAgent("a", std::string("tok")));
  // Not a valid agent for the API (a token and self-hosted params), but the store keeps both
  // references, and both are reported.
  domain::Agent both = MakeAgent("both", std::string("tok"));
  both.llm_config.self_hosted_params =
      domain::SelfHostedParams{"https://llm.example.com/", std::nullopt, std::string("tok")};
  PutAgent("acme", both);
  PutAgent("acme", MakeAgent("c", std::string("other")));
  PutAgent("acme", MakeAgent("d"));
  PutServer("acme", MakeServer("m", std::string("tok")));

  auto refused = store_->Delete("acme", "tok", {});
  ASSERT_TRUE(refused.ok()) << refused.error().internal;
  EXPECT_EQ(refused->outcome, DeleteOutcome::kReferenced);
  EXPECT_THAT(refused->referrers, ElementsAre(Referrer{"agent", "a", kShTokenField},
                                              Referrer{"agent", "b", kLlmTokenField},
                                              Referrer{"agent", "both", kShTokenField},
                                              Referrer{"agent", "both", kLlmTokenField},
                                              Referrer{"mcpServer", "m", kServerTokenField}));
  EXPECT_TRUE(MustGet("acme", "tok").has_value());
  EXPECT_EQ(MustGetAgent("acme", "a")->metadata.version, 1);
  EXPECT_EQ(MustGetAgent("acme", "both")->llm_config.token_id, "tok");

  // Only agents left: still refused.
  ASSERT_TRUE(store_->UpdateMcpServer("acme", MakeServer("m", std::nullopt), 1, kRefuse).ok());
  auto agents_only = store_->Delete("acme", "tok", {});
  ASSERT_TRUE(agents_only.ok());
  EXPECT_EQ(agents_only->outcome, DeleteOutcome::kReferenced);
  EXPECT_EQ(agents_only->referrers.size(), 4u);

  auto mismatch = store_->Delete("acme", "tok", Versioned(7));
  ASSERT_TRUE(mismatch.ok());
  EXPECT_EQ(mismatch->outcome, DeleteOutcome::kVersionMismatch);

  ASSERT_TRUE(store_->UpdateAgent("acme", MakeAgent("c"), 1).ok());
  auto deleted = store_->Delete("acme", "other", {});
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->outcome, DeleteOutcome::kDeleted);
  EXPECT_THAT(deleted->referrers, IsEmpty());
}

TEST_P(AgentConformance, ForcedTokenDeleteClearsAgentReferencesWithVersionAndModifiedAt) {
  Put("acme", MakeToken("tok", "n"));
  Put("acme", MakeToken("keep", "n"));
  Put("globex", MakeToken("tok", "same id, other tenant"));
  PutServer("acme", MakeServer("m", std::string("tok")));
  PutServer("acme", MakeServer("s", std::nullopt));
  const domain::Agent a = MakeAgent("a", std::string("tok"), {"s"});
  PutAgent("acme", a);
  const domain::Agent b = MakeSelfHostedAgent("b", std::string("tok"));
  PutAgent("acme", b);
  domain::Agent both = MakeAgent("both", std::string("tok"));
  both.llm_config.self_hosted_params =
      domain::SelfHostedParams{"https://llm.example.com/", std::nullopt, std::string("tok")};
  PutAgent("acme", both);
  PutAgent("acme", MakeSelfHostedAgent("other-token", std::string("keep")));
  PutAgent("acme", MakeAgent("untouched"));
  PutAgent("globex", MakeAgent("a", std::string("tok")));

  auto stale = store_->Delete("acme", "tok", [] {
    DeleteRequest r = Force(50'000);
    r.expected_version = 3;
    return r;
  }());
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->outcome, DeleteOutcome::kVersionMismatch);
  EXPECT_EQ(MustGetAgent("acme", "a")->llm_config.token_id, "tok");

  auto forced = store_->Delete("acme", "tok", Force(50'000));
  ASSERT_TRUE(forced.ok()) << forced.error().message << " / " << forced.error().internal;
  EXPECT_EQ(forced->outcome, DeleteOutcome::kDeleted);
  EXPECT_THAT(forced->referrers, ElementsAre(Referrer{"agent", "a", kLlmTokenField},
                                             Referrer{"agent", "b", kShTokenField},
                                             Referrer{"agent", "both", kShTokenField},
                                             Referrer{"agent", "both", kLlmTokenField},
                                             Referrer{"mcpServer", "m", kServerTokenField}));
  EXPECT_FALSE(MustGet("acme", "tok").has_value());

  // Only the reference goes; version + 1 (once, even for two references) and modifiedAt now.
  domain::Agent want_a = a;
  want_a.llm_config.token_id.reset();
  want_a.metadata = {2, 1'000, 50'000};
  ExpectSameAgent(*MustGetAgent("acme", "a"), want_a);
  domain::Agent want_b = b;
  want_b.llm_config.self_hosted_params->authorization_header_token_id.reset();
  want_b.metadata = {2, 1'000, 50'000};
  ExpectSameAgent(*MustGetAgent("acme", "b"), want_b);
  auto got_both = MustGetAgent("acme", "both");
  EXPECT_FALSE(got_both->llm_config.token_id.has_value());
  ASSERT_TRUE(got_both->llm_config.self_hosted_params.has_value());
  EXPECT_FALSE(got_both->llm_config.self_hosted_params->authorization_header_token_id.has_value());
  EXPECT_EQ(got_both->metadata.version, 2);
  EXPECT_EQ(MustGetServer("acme", "m")->metadata.version, 2);
  for (const char* id : {"other-token", "untouched"}) {
    auto agent = MustGetAgent("acme", id);
    EXPECT_EQ(agent->metadata.version, 1) << id;
    EXPECT_EQ(agent->metadata.modified_at_ms, 1'000) << id;
  }
  EXPECT_EQ(MustGetAgent("acme", "other-token")
                ->llm_config.self_hosted_params->authorization_header_token_id,
            "keep");

  // The other tenant's token of the same id and its referrer are not affected.
  EXPECT_TRUE(MustGet("globex", "tok").has_value());
  auto theirs = MustGetAgent("globex", "a");
  EXPECT_EQ(theirs->llm_config.token_id, "tok");
  EXPECT_EQ(theirs->metadata.version, 1);

  // The cleared agents write on from their new version.
  want_a.llm_config.token_id = "keep";
  ASSERT_TRUE(store_->UpdateAgent("acme", want_a, 2).ok());
  EXPECT_EQ(MustGetAgent("acme", "a")->metadata.version, 3);
}

TEST_P(AgentConformance, ReferencedMcpServerIsNotDeletedAndAgentsAreListedWithTheIndex) {
  PutServer("acme", MakeServer("s1", std::nullopt));
  PutServer("acme", MakeServer("s2", std::nullopt));
  domain::Agent x = MakeAgent("x", std::nullopt, {"s2", "s1"});
  x.mcp_servers.insert(x.mcp_servers.begin(), Predefined("order"));
  PutAgent("acme", x);
  PutAgent("acme", MakeAgent("w", std::nullopt, {"s1"}));
  PutAgent("acme", MakeAgent("y", std::nullopt, {"s2"}));

  auto mismatch = store_->DeleteMcpServer("acme", "s1", Versioned(4));
  ASSERT_TRUE(mismatch.ok());
  EXPECT_EQ(mismatch->outcome, DeleteOutcome::kVersionMismatch);

  auto refused = store_->DeleteMcpServer("acme", "s1", {});
  ASSERT_TRUE(refused.ok()) << refused.error().message << " / " << refused.error().internal;
  EXPECT_EQ(refused->outcome, DeleteOutcome::kReferenced);
  EXPECT_THAT(refused->referrers,
              ElementsAre(Referrer{"agent", "w", "mcpServers[0].mcpServer.id"},
                          Referrer{"agent", "x", "mcpServers[2].mcpServer.id"}));
  EXPECT_TRUE(MustGetServer("acme", "s1").has_value());
  ExpectSameAgent(*MustGetAgent("acme", "x"), x);
  EXPECT_EQ(MustGetAgent("acme", "w")->metadata.version, 1);

  // Another tenant's agents never refer to this tenant's servers.
  auto cross = store_->DeleteMcpServer("globex", "s1", {});
  ASSERT_TRUE(cross.ok());
  EXPECT_EQ(cross->outcome, DeleteOutcome::kAbsent);
}

TEST_P(AgentConformance, ForcedMcpServerDeleteRemovesTheEntryAndKeepsTheRestInOrder) {
  PutServer("acme", MakeServer("s1", std::nullopt));
  PutServer("acme", MakeServer("s2", std::nullopt));
  PutServer("globex", MakeServer("s1", std::nullopt));
  domain::Agent x = MakeAgent("x", std::nullopt, {"s2", "s1"});
  x.mcp_servers.insert(x.mcp_servers.begin(), Predefined("order", std::vector<std::string>{"t"}));
  x.mcp_servers.push_back(Predefined("product"));
  PutAgent("acme", x);
  const domain::Agent w = MakeAgent("w", std::nullopt, {"s1"});
  PutAgent("acme", w);
  PutAgent("acme", MakeAgent("y", std::nullopt, {"s2"}));
  PutAgent("globex", MakeAgent("x", std::nullopt, {"s1"}));

  auto forced = store_->DeleteMcpServer("acme", "s1", Force(50'000));
  ASSERT_TRUE(forced.ok()) << forced.error().message << " / " << forced.error().internal;
  EXPECT_EQ(forced->outcome, DeleteOutcome::kDeleted);
  EXPECT_THAT(forced->referrers, ElementsAre(Referrer{"agent", "w", "mcpServers[0].mcpServer.id"},
                                             Referrer{"agent", "x", "mcpServers[2].mcpServer.id"}));
  EXPECT_FALSE(MustGetServer("acme", "s1").has_value());

  domain::Agent want_x = x;
  want_x.mcp_servers = {Predefined("order", std::vector<std::string>{"t"}), Custom("s2"),
                        Predefined("product")};
  want_x.metadata = {2, 1'000, 50'000};
  ExpectSameAgent(*MustGetAgent("acme", "x"), want_x);
  domain::Agent want_w = w;
  want_w.mcp_servers.clear();
  want_w.metadata = {2, 1'000, 50'000};
  ExpectSameAgent(*MustGetAgent("acme", "w"), want_w);
  auto y = MustGetAgent("acme", "y");
  EXPECT_EQ(y->metadata.version, 1);
  EXPECT_EQ(y->metadata.modified_at_ms, 1'000);
  EXPECT_TRUE(MustGetServer("globex", "s1").has_value());
  auto theirs = MustGetAgent("globex", "x");
  EXPECT_THAT(theirs->mcp_servers, ElementsAre(Custom("s1")));
  EXPECT_EQ(theirs->metadata.version, 1);

  // The remaining use is found at its new index; a new server of the old id is unused.
  auto s2 = store_->DeleteMcpServer("acme", "s2", {});
  ASSERT_TRUE(s2.ok());
  EXPECT_THAT(s2->referrers, ElementsAre(Referrer{"agent", "x", "mcpServers[1].mcpServer.id"},
                                         Referrer{"agent", "y", "mcpServers[0].mcpServer.id"}));
  PutServer("acme", MakeServer("s1", std::nullopt));
  auto again = store_->DeleteMcpServer("acme", "s1", {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, DeleteOutcome::kDeleted);

  // The cleared agents write on from their new version.
  ASSERT_TRUE(store_->UpdateAgent("acme", want_x, 2).ok());

  // Forcing the delete of an unused server is an ordinary delete.
  PutServer("acme", MakeServer("unused", std::nullopt));
  auto unused = store_->DeleteMcpServer("acme", "unused", Force(60'000));
  ASSERT_TRUE(unused.ok());
  EXPECT_EQ(unused->outcome, DeleteOutcome::kDeleted);
  EXPECT_THAT(unused->referrers, IsEmpty());
}

// The vendor's `force` on an MCP server's PUT/PATCH: disabling a server that enabled agents
// use is refused (nothing written) and names them; forced, they are disabled with it.
TEST_P(AgentConformance, DisablingAServerEnabledAgentsUseIsRefusedUnlessForced) {
  PutServer("acme", MakeServer("s1", std::nullopt));
  PutServer("acme", MakeServer("s2", std::nullopt));
  PutServer("globex", MakeServer("s1", std::nullopt));
  PutAgent("acme", MakeAgent("b", std::nullopt, {"s2", "s1"}));
  PutAgent("acme", MakeAgent("a", std::nullopt, {"s1"}));
  domain::Agent off = MakeAgent("off", std::nullopt, {"s1"});
  off.enabled = false;
  PutAgent("acme", off);
  PutAgent("acme", MakeAgent("other", std::nullopt, {"s2"}));
  PutAgent("globex", MakeAgent("a", std::nullopt, {"s1"}));

  domain::McpServer disabled = MakeServer("s1", std::nullopt, "renamed");
  disabled.enabled = false;
  disabled.metadata.modified_at_ms = 70'000;
  auto refused = store_->UpdateMcpServer("acme", disabled, 1, ReferencePolicy::kRefuse);
  ASSERT_TRUE(refused.ok()) << refused.error().message << " / " << refused.error().internal;
  EXPECT_TRUE(refused->refused);
  EXPECT_THAT(refused->enabled_users,
              ElementsAre(Referrer{"agent", "a", "mcpServers[0].mcpServer.id"},
                          Referrer{"agent", "b", "mcpServers[1].mcpServer.id"}));
  auto unchanged = MustGetServer("acme", "s1");
  EXPECT_TRUE(unchanged->enabled);
  EXPECT_EQ(unchanged->name, "server");
  EXPECT_EQ(unchanged->metadata.version, 1);
  EXPECT_TRUE(MustGetAgent("acme", "a")->enabled);

  // A stale version is a conflict before the agents are looked at.
  auto stale = store_->UpdateMcpServer("acme", disabled, 7, ReferencePolicy::kRemove);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(MustGetAgent("acme", "b")->enabled);

  auto forced = store_->UpdateMcpServer("acme", disabled, 1, ReferencePolicy::kRemove);
  ASSERT_TRUE(forced.ok()) << forced.error().message << " / " << forced.error().internal;
  EXPECT_FALSE(forced->refused);
  EXPECT_THAT(forced->enabled_users,
              ElementsAre(Referrer{"agent", "a", "mcpServers[0].mcpServer.id"},
                          Referrer{"agent", "b", "mcpServers[1].mcpServer.id"}));
  auto server = MustGetServer("acme", "s1");
  EXPECT_FALSE(server->enabled);
  EXPECT_EQ(server->name, "renamed");
  EXPECT_EQ(server->metadata.version, 2);
  for (const char* id : {"a", "b"}) {
    auto agent = MustGetAgent("acme", id);
    EXPECT_FALSE(agent->enabled) << id;
    EXPECT_EQ(agent->metadata.version, 2) << id;
    EXPECT_EQ(agent->metadata.modified_at_ms, 70'000) << id;
    EXPECT_EQ(agent->mcp_servers.size(), std::string_view(id) == "a" ? 1u : 2u) << id;
    EXPECT_EQ(MustListOneAgent("acme", id).enabled, false) << id;
  }
  EXPECT_EQ(MustGetAgent("acme", "off")->metadata.version, 1);
  EXPECT_TRUE(MustGetAgent("acme", "other")->enabled);
  EXPECT_TRUE(MustGetAgent("globex", "a")->enabled);
  EXPECT_TRUE(MustGetServer("globex", "s1")->enabled);

  // Writing a server that is already disabled, or one no enabled agent uses, looks at nothing.
  disabled.name = "again";
  auto again = store_->UpdateMcpServer("acme", disabled, 2, ReferencePolicy::kRefuse);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->refused);
  EXPECT_THAT(again->enabled_users, IsEmpty());
  ASSERT_TRUE(store_->UpdateAgent("acme", MakeAgent("other", std::nullopt, {}), 1).ok());
  domain::McpServer s2 = MakeServer("s2", std::nullopt);
  s2.enabled = false;
  auto unused = store_->UpdateMcpServer("acme", s2, 1, ReferencePolicy::kRefuse);
  ASSERT_TRUE(unused.ok());
  EXPECT_FALSE(unused->refused);
  EXPECT_THAT(unused->enabled_users, IsEmpty());
}

TEST_P(AgentConformance, ListFiltersSortsAndPagesOverTheColumns) {
  Put("acme", MakeToken("tok", "n"));
  PutServer("acme", MakeServer("s", std::nullopt));
  domain::Agent a = MakeAgent("a", std::string("tok"), {"s"});
  a.description = domain::LocalizedText{{"en", "described"}};
  domain::Agent b = MakeAgent("b");
  b.enabled = false;
  b.type = "complaint";
  domain::Agent c = MakeSelfHostedAgent("c", std::string("tok"));
  domain::Agent d = MakeAgent("d", std::string("tok"));
  d.enabled = false;
  d.llm_config.provider = "anthropic";
  d.llm_config.model = "claude";
  for (const domain::Agent* agent : {&c, &a, &d, &b}) PutAgent("acme", *agent);
  PutAgent("globex", MakeAgent("a"));

  auto list = [&](std::vector<Clause> clauses, std::vector<query::SortKey> sort = {}) {
    auto page = store_->ListAgents(MakeList("acme", std::move(clauses), std::move(sort)));
    EXPECT_TRUE(page.ok()) << page.error().message << " / " << page.error().internal;
    return page.ok() ? AgentIds(*page) : std::vector<std::string>{"<error>"};
  };
  using K = Clause::Kind;
  const FieldType kText = FieldType::kString;
  EXPECT_THAT(list({}), ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(list({McpClause("enabled", FieldType::kBoolean, K::kCompare, {true})}),
              ElementsAre("a", "c"));
  EXPECT_THAT(list({McpClause("enabled", FieldType::kBoolean, K::kCompare, {false})}),
              ElementsAre("b", "d"));
  EXPECT_THAT(list({McpClause("llmConfig.provider", kText, K::kCompare, {std::string("openai")})}),
              ElementsAre("a"));
  EXPECT_THAT(list({McpClause("llmConfig.provider", kText, K::kAnyOf,
                              {std::string("openai"), std::string("anthropic")})}),
              ElementsAre("a", "d"));
  EXPECT_THAT(list({McpClause("llmConfig.provider", kText, K::kRegex, {}, "^SELF")}),
              ElementsAre("c"));
  EXPECT_THAT(list({McpClause("llmConfig.model", kText, K::kCompare, {std::string("claude")})}),
              ElementsAre("d"));
  EXPECT_THAT(list({McpClause("llmConfig.token.id", kText, K::kCompare, {std::string("tok")})}),
              ElementsAre("a", "d"));
  EXPECT_THAT(list({McpClause("llmConfig.token.id", kText, K::kMissing)}), ElementsAre("b", "c"));
  EXPECT_THAT(list({McpClause("llmConfig.selfHostedParams.authorizationHeaderToken.id", kText,
                              K::kExists)}),
              ElementsAre("c"));
  EXPECT_THAT(list({McpClause("type", kText, K::kCompare, {std::string("complaint")})}),
              ElementsAre("b"));
  EXPECT_THAT(list({McpClause("type", kText, K::kMissing)}), ElementsAre("a", "c", "d"));
  EXPECT_THAT(list({McpClause("enabled", FieldType::kBoolean, K::kCompare, {false}),
                    McpClause("llmConfig.token.id", kText, K::kExists)}),
              ElementsAre("d"));

  query::SortKey by_provider;
  by_provider.field = "llmConfig.provider";
  query::SortKey enabled_desc;
  enabled_desc.field = "enabled";
  enabled_desc.type = FieldType::kBoolean;
  enabled_desc.descending = true;
  query::SortKey modified_desc;
  modified_desc.field = "metadata.modifiedAt";
  modified_desc.type = FieldType::kTimestamp;
  modified_desc.descending = true;
  EXPECT_THAT(list({}, {by_provider}), ElementsAre("d", "b", "a", "c"));
  EXPECT_THAT(list({}, {enabled_desc}), ElementsAre("a", "c", "b", "d"));
  ASSERT_TRUE(store_
                  ->UpdateAgent(
                      "acme",
                      [&] {
                        domain::Agent next = b;
                        next.metadata.modified_at_ms = 5'000;
                        return next;
                      }(),
                      1)
                  .ok());
  EXPECT_THAT(list({}, {modified_desc}), ElementsAre("b", "a", "c", "d"));

  auto page = store_->ListAgents(MakeList("acme", {}, {}, /*limit=*/2, /*offset=*/1,
                                          /*count_total=*/true));
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(AgentIds(*page), ElementsAre("b", "c"));
  EXPECT_EQ(page->total, 4);
  auto beyond = store_->ListAgents(MakeList("acme", {}, {}, 2, 10, true));
  ASSERT_TRUE(beyond.ok());
  EXPECT_THAT(AgentIds(*beyond), IsEmpty());
  EXPECT_EQ(beyond->total, 4);
  auto regex_page = store_->ListAgents(MakeList(
      "acme", {McpClause("llmConfig.provider", kText, K::kRegex, {}, "open")}, {}, 1, 1, true));
  ASSERT_TRUE(regex_page.ok());
  EXPECT_THAT(AgentIds(*regex_page), ElementsAre("b"));
  EXPECT_EQ(regex_page->total, 2);

  // A list returns whole agents.
  ExpectSameAgent(MustListOneAgent("acme", "a"), a);
  ExpectSameAgent(MustListOneAgent("acme", "c"), c);

  // Fields the agent schema does not have columns for are refused, not guessed.
  auto unknown = store_->ListAgents(
      MakeList("acme", {McpClause("name", kText, K::kCompare, {std::string("x")})}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidArgument);
}

// The race of issue 5 for agents: a forced MCP server delete against agent updates on other
// connections that keep (or add) the server. Afterwards no agent uses the missing server, every
// successful update is visible, and the versions add up: 1 + successful updates + 1 if the
// delete removed the agent's entry.
TEST_P(AgentConformance, ForcedMcpServerDeleteRacingAgentWritesNeverDanglesNorLosesUpdates) {
  constexpr int kRounds = 8;
  constexpr int kAgents = 4;
  constexpr int kUpdatesPerAgent = 6;
  for (int round = 0; round < kRounds; ++round) {
    const std::string tenant = "race" + std::to_string(round);
    PutServer(tenant, MakeServer("keep", std::nullopt));
    PutServer(tenant, MakeServer("srv", std::nullopt));
    for (int n = 0; n < kAgents; ++n) {
      // Even agents start with the server and keep it; odd ones start without and add it.
      PutAgent(tenant, n % 2 == 0
                           ? MakeAgent("a" + std::to_string(n), std::nullopt, {"keep", "srv"})
                           : MakeAgent("a" + std::to_string(n), std::nullopt, {"keep"}));
    }
    std::latch start(kAgents + 1);
    std::optional<Result<DeleteResult>> deleted;
    std::vector<std::string> last_written(kAgents);
    std::vector<int> successes(kAgents, 0);
    std::atomic<int> unexpected{0};
    std::vector<std::thread> threads;
    threads.emplace_back([&] {
      start.arrive_and_wait();
      if (round % 2 == 1) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      deleted.emplace(store_->DeleteMcpServer(tenant, "srv", Force(77'000)));
    });
    for (int n = 0; n < kAgents; ++n) {
      threads.emplace_back([&, n] {
        const std::string id = "a" + std::to_string(n);
        start.arrive_and_wait();
        for (int u = 0; u < kUpdatesPerAgent; ++u) {
          auto current = store_->GetAgent(tenant, id);
          if (!current.ok() || !current->has_value()) {
            ++unexpected;
            return;
          }
          domain::Agent next = **current;
          next.name = {{"en", id + "-update-" + std::to_string(u)}};
          const bool uses =
              std::any_of(next.mcp_servers.begin(), next.mcp_servers.end(),
                          [](const domain::AgentMcpServer& s) { return s.mcp_server_id == "srv"; });
          if (!uses) next.mcp_servers.push_back(Custom("srv"));
          next.metadata.modified_at_ms = 2'000 + u;
          auto written = store_->UpdateAgent(tenant, next, (*current)->metadata.version);
          if (written.ok()) {
            last_written[static_cast<std::size_t>(n)] = next.name.at("en");
            ++successes[static_cast<std::size_t>(n)];
          } else if (written.error().code == ErrorCode::kConflict) {
            // The delete removed the entry in between: a visible, retryable failure.
          } else if (written.error().code == ErrorCode::kInvalidArgument) {
            // Adding the server after it was deleted: refused, naming the entry.
            if (written.error().details.empty() ||
                written.error().details[0].field != "mcpServers[1].mcpServer.id") {
              ++unexpected;
            }
          } else {
            ADD_FAILURE() << written.error().message << " / " << written.error().internal;
            ++unexpected;
          }
        }
      });
    }
    for (auto& thread : threads) thread.join();
    ASSERT_EQ(unexpected.load(), 0);
    ASSERT_TRUE(deleted.has_value());
    ASSERT_TRUE(deleted->ok()) << deleted->error().message << " / " << deleted->error().internal;
    EXPECT_EQ((*deleted)->outcome, DeleteOutcome::kDeleted);
    EXPECT_FALSE(MustGetServer(tenant, "srv").has_value());
    for (int n = 0; n < kAgents; ++n) {
      const std::string id = "a" + std::to_string(n);
      auto agent = MustGetAgent(tenant, id);
      ASSERT_TRUE(agent.has_value());
      EXPECT_THAT(agent->mcp_servers, ElementsAre(Custom("keep")))
          << id << " uses the deleted server";
      const std::string& last = last_written[static_cast<std::size_t>(n)];
      EXPECT_EQ(agent->name.at("en"), last.empty() ? "Agent" : last)
          << id << ": a successful update was lost";
      const bool cleared = std::any_of((*deleted)->referrers.begin(), (*deleted)->referrers.end(),
                                       [&](const Referrer& r) { return r.id == id; });
      EXPECT_EQ(agent->metadata.version,
                1 + successes[static_cast<std::size_t>(n)] + (cleared ? 1 : 0))
          << id;
      if (cleared) {
        EXPECT_EQ(agent->metadata.modified_at_ms, 77'000) << id;
      }
    }
    // No use of the deleted server is left behind: a new server of that id is free to delete.
    PutServer(tenant, MakeServer("srv", std::nullopt));
    auto again = store_->DeleteMcpServer(tenant, "srv", {});
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->outcome, DeleteOutcome::kDeleted) << tenant;
  }
}

// The same race for the token columns: a forced token delete against agent writes that keep
// (or add) the token as llmConfig.token.
TEST_P(AgentConformance, ForcedTokenDeleteRacingAgentWritesNeverDanglesNorLosesUpdates) {
  constexpr int kRounds = 6;
  constexpr int kAgents = 4;
  constexpr int kUpdatesPerAgent = 6;
  for (int round = 0; round < kRounds; ++round) {
    const std::string tenant = "race" + std::to_string(round);
    Put(tenant, MakeToken("tok", "n"));
    for (int n = 0; n < kAgents; ++n) {
      const std::string id = "a" + std::to_string(n);
      PutAgent(tenant, n % 2 == 0 ? MakeAgent(id, std::string("tok")) : MakeAgent(id));
    }
    std::latch start(kAgents + 1);
    std::optional<Result<DeleteResult>> deleted;
    std::vector<std::string> last_written(kAgents);
    std::vector<int> successes(kAgents, 0);
    std::atomic<int> unexpected{0};
    std::vector<std::thread> threads;
    threads.emplace_back([&] {
      start.arrive_and_wait();
      if (round % 2 == 1) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      deleted.emplace(store_->Delete(tenant, "tok", Force(77'000)));
    });
    for (int n = 0; n < kAgents; ++n) {
      threads.emplace_back([&, n] {
        const std::string id = "a" + std::to_string(n);
        const auto slot = static_cast<std::size_t>(n);
        start.arrive_and_wait();
        for (int u = 0; u < kUpdatesPerAgent; ++u) {
          auto current = store_->GetAgent(tenant, id);
          if (!current.ok() || !current->has_value()) {
            ++unexpected;
            return;
          }
          domain::Agent next = **current;
          next.name = {{"en", id + "-update-" + std::to_string(u)}};
          next.llm_config.provider = "openai";
          next.llm_config.token_id = "tok";
          next.metadata.modified_at_ms = 2'000 + u;
          auto written = store_->UpdateAgent(tenant, next, (*current)->metadata.version);
          if (written.ok()) {
            last_written[slot] = next.name.at("en");
            ++successes[slot];
          } else if (written.error().code == ErrorCode::kConflict) {
            // The delete removed the reference in between.
          } else if (written.error().code == ErrorCode::kInvalidArgument) {
            if (written.error().details.empty() ||
                written.error().details[0].field != kLlmTokenField) {
              ++unexpected;
            }
          } else {
            ADD_FAILURE() << written.error().message << " / " << written.error().internal;
            ++unexpected;
          }
        }
      });
    }
    for (auto& thread : threads) thread.join();
    ASSERT_EQ(unexpected.load(), 0);
    ASSERT_TRUE(deleted.has_value());
    ASSERT_TRUE(deleted->ok()) << deleted->error().message << " / " << deleted->error().internal;
    EXPECT_EQ((*deleted)->outcome, DeleteOutcome::kDeleted);
    EXPECT_FALSE(MustGet(tenant, "tok").has_value());
    for (int n = 0; n < kAgents; ++n) {
      const std::string id = "a" + std::to_string(n);
      const auto slot = static_cast<std::size_t>(n);
      auto agent = MustGetAgent(tenant, id);
      ASSERT_TRUE(agent.has_value());
      EXPECT_FALSE(agent->llm_config.token_id.has_value()) << id << " references the deleted token";
      EXPECT_EQ(agent->name.at("en"), last_written[slot].empty() ? "Agent" : last_written[slot])
          << id << ": a successful update was lost";
      const bool cleared = std::any_of((*deleted)->referrers.begin(), (*deleted)->referrers.end(),
                                       [&](const Referrer& r) { return r.id == id; });
      EXPECT_EQ(agent->metadata.version, 1 + successes[slot] + (cleared ? 1 : 0)) << id;
      if (cleared) {
        EXPECT_EQ(agent->metadata.modified_at_ms, 77'000) << id;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Backends under test

const StoreBackend kBackends[] = {
    {"Sqlite", [] { return std::unique_ptr<StoreHarness>(std::make_unique<SqliteHarness>()); }},
    {"Postgres", [] { return std::unique_ptr<StoreHarness>(std::make_unique<PostgresHarness>()); }},
};

std::string BackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Backends, TokenStoreConformance, ::testing::ValuesIn(kBackends),
                         BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, TokenStoreFilters, ::testing::ValuesIn(kBackends), BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, McpServerConformance, ::testing::ValuesIn(kBackends),
                         BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, AgentConformance, ::testing::ValuesIn(kBackends), BackendName);

}  // namespace
}  // namespace ts::store
