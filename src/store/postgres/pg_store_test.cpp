// PostgreSQL-specific tests: options and URL redaction, concurrent migrations, the schema's
// tenant-led indexes, values PostgreSQL text cannot hold, regex scans longer than one cursor
// batch, timeouts, and recovery after the server restarts. Behaviour every backend shares is in
// store/store_conformance_test.cpp.
#include "store/postgres/pg_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "domain/agent.h"
#include "store/postgres/pg_migrations.h"
#include "store/postgres/pg_query.h"
#include "support/pg_test_server.h"

namespace ts::store {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;

PostgresOptions OptionsFor(const std::string& url) {
  PostgresOptions options;
  options.url = url;
  options.pool_size = 4;
  options.statement_timeout = std::chrono::seconds(30);
  return options;
}

domain::Token MakeToken(std::string id, std::string name, std::int64_t version = 1) {
  domain::Token token;
  token.id = std::move(id);
  token.name = std::move(name);
  token.metadata.version = version;
  token.metadata.created_at_ms = 1'000;
  token.metadata.modified_at_ms = 1'000;
  return token;
}

query::Clause Clause(std::string field, query::Clause::Kind kind, query::Literal value = {},
                     std::string pattern = {}) {
  query::Clause clause;
  clause.type =
      field == "metadata.version" ? query::FieldType::kInteger : query::FieldType::kString;
  clause.field = std::move(field);
  clause.kind = kind;
  if (kind == query::Clause::Kind::kRegex) {
    clause.pattern = std::move(pattern);
  } else {
    clause.comparisons.push_back(query::Comparison{query::CompareOp::kEq, std::move(value)});
  }
  return clause;
}

ListQuery MakeList(std::string tenant, std::vector<query::Clause> clauses, std::int64_t limit,
                   std::int64_t offset, bool count_total) {
  ListQuery list;
  list.tenant = std::move(tenant);
  list.filter.clauses = std::move(clauses);
  query::SortKey id;
  id.field = "id";
  id.type = query::FieldType::kString;
  list.sort = {id};
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

TEST(PostgresUrl, RedactionHidesEveryPasswordAndKeepsTheRest) {
  EXPECT_EQ(RedactDatabaseUrl("postgresql://app:s3cret@db.example:5432/tokens"),
            "postgresql://app:***@db.example:5432/tokens");
  EXPECT_EQ(RedactDatabaseUrl("postgres://app@db/tokens?sslmode=require"),
            "postgres://app@db/tokens?sslmode=require");
  EXPECT_EQ(
      RedactDatabaseUrl("postgresql://app:p@ss/w:rd@h1:1,h2:2/db?password=x&sslmode=verify-full"),
      "postgresql://app:***@h1:1,h2:2/db?password=***&sslmode=verify-full");
  EXPECT_EQ(RedactDatabaseUrl("postgresql:///tokens?host=/run/pg&sslpassword=k"),
            "postgresql:///tokens?host=/run/pg&sslpassword=***");
  EXPECT_EQ(RedactDatabaseUrl("host=db password=s3cret"), "***");
  EXPECT_TRUE(IsPostgresUrl("postgres://h/db"));
  EXPECT_FALSE(IsPostgresUrl("mysql://h/db"));
}

TEST(PostgresOpen, BadOptionsAreInvalidArgument) {
  PostgresOptions options = OptionsFor("sqlite:///tmp/x.db");
  auto opened = OpenPostgresStore(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
  options = OptionsFor("postgresql://u@127.0.0.1:1/db");
  options.pool_size = 0;
  opened = OpenPostgresStore(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
}

TEST(PostgresOpen, UnreachableDatabaseIsUnavailableAndNeverShowsThePassword) {
  // Port 1 on loopback: nothing listens there, so the connect is refused at once.
  auto opened = OpenPostgresStore(OptionsFor("postgresql://app:hunter2-pw@127.0.0.1:1/db"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(opened.error().message, HasSubstr("app:***@127.0.0.1:1/db"));
  EXPECT_THAT(opened.error().message + opened.error().internal, Not(HasSubstr("hunter2")));
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(database_.url().empty()) << database_.error();
    auto opened = OpenPostgresStore(OptionsFor(database_.url()));
    ASSERT_TRUE(opened.ok()) << opened.error().internal;
    store_ = std::move(opened).value();
  }

  std::vector<std::string> Query(const std::string& sql) {
    std::string error;
    auto rows = database_.server()->Query(database_.name(), sql, &error);
    EXPECT_TRUE(rows.has_value()) << error;
    return rows.value_or(std::vector<std::string>{});
  }

  ts::pgtest::ScopedTestDatabase database_;
  std::unique_ptr<Store> store_;
};

TEST_F(PostgresStoreTest, ReplicasOpeningTogetherMigrateOnce) {
  store_.reset();
  // A second, fresh database, opened by six "replicas" at the same moment.
  ts::pgtest::ScopedTestDatabase fresh;
  ASSERT_FALSE(fresh.url().empty()) << fresh.error();
  constexpr int kReplicas = 6;
  std::latch start(kReplicas);
  std::vector<std::unique_ptr<TokenStore>> stores(kReplicas);
  std::vector<std::string> errors(kReplicas);
  std::vector<std::thread> threads;
  for (int i = 0; i < kReplicas; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto opened = OpenPostgresStore(OptionsFor(fresh.url()));
      if (opened.ok()) {
        stores[static_cast<std::size_t>(i)] = std::move(opened).value();
      } else {
        errors[static_cast<std::size_t>(i)] = opened.error().internal + opened.error().message;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_THAT(errors, Each(""));
  std::string error;
  auto versions = fresh.server()->Query(
      fresh.name(), "SELECT version::text FROM schema_migrations ORDER BY version", &error);
  ASSERT_TRUE(versions.has_value()) << error;
  std::vector<std::string> expected;
  for (const auto& migration : postgres::PgMigrations()) {
    expected.push_back(std::to_string(migration.version));
  }
  EXPECT_EQ(*versions, expected);
  for (auto& store : stores) {
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(store->Ping().ok());
  }
}

TEST_F(PostgresStoreTest, TenantLeadsThePrimaryKeyAndEveryIndex) {
  const auto first_columns = Query(
      "SELECT i.relname || ':' || a.attname FROM pg_index x"
      " JOIN pg_class i ON i.oid = x.indexrelid"
      " JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]"
      " WHERE x.indrelid = 'tokens'::regclass ORDER BY 1");
  EXPECT_THAT(first_columns, ElementsAre("tokens_by_created:tenant", "tokens_by_key_id:tenant",
                                         "tokens_by_modified:tenant", "tokens_by_name:tenant",
                                         "tokens_by_version:tenant", "tokens_pkey:tenant"));
  // Byte order for the text keys, whatever the database's default collation.
  EXPECT_THAT(Query("SELECT attname || ':' || coalesce(collname, '-') FROM pg_attribute a"
                    " LEFT JOIN pg_collation c ON c.oid = a.attcollation"
                    " WHERE attrelid = 'tokens'::regclass AND attname IN ('tenant', 'id')"
                    " ORDER BY 1"),
              ElementsAre("id:C", "tenant:C"));
}

TEST_F(PostgresStoreTest, AgentTablesLeadWithTenantAndKeepKeysInByteOrder) {
  const auto first_columns = Query(
      "SELECT i.relname || ':' || a.attname FROM pg_index x"
      " JOIN pg_class i ON i.oid = x.indexrelid"
      " JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]"
      " WHERE x.indrelid IN ('agents'::regclass, 'agent_mcp_servers'::regclass)"
      " ORDER BY (i.relname || ':' || a.attname) COLLATE \"C\"");
  EXPECT_THAT(
      first_columns,
      ElementsAre("agent_mcp_servers_by_server:tenant", "agent_mcp_servers_pkey:tenant",
                  "agents_by_created:tenant", "agents_by_enabled:tenant",
                  "agents_by_llm_token:tenant", "agents_by_model:tenant",
                  "agents_by_modified:tenant", "agents_by_provider:tenant",
                  "agents_by_sh_token:tenant", "agents_by_version:tenant", "agents_pkey:tenant"));
  EXPECT_THAT(
      Query("SELECT attrelid::regclass::text || '.' || attname || ':' || coalesce(collname, '-')"
            " FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation"
            " WHERE attrelid IN ('agents'::regclass, 'agent_mcp_servers'::regclass)"
            " AND attname IN ('tenant', 'id', 'agent_id', 'mcp_server_id', 'provider',"
            " 'llm_token_id', 'sh_token_id')"
            " ORDER BY (attrelid::regclass::text || '.' || attname) COLLATE \"C\""),
      ElementsAre("agent_mcp_servers.agent_id:C", "agent_mcp_servers.mcp_server_id:C",
                  "agent_mcp_servers.tenant:C", "agents.id:C", "agents.llm_token_id:C",
                  "agents.provider:C", "agents.sh_token_id:C", "agents.tenant:C"));
}

TEST_F(PostgresStoreTest, AgentModelsMayHoldAnyBytesAndACorruptDocumentIsInternal) {
  domain::Agent agent;
  agent.id = "a";
  agent.name = {{"en", std::string("n\0m", 3)}};
  agent.user_prompt = "p";
  agent.llm_config.provider = "emporix_openai";
  agent.llm_config.model = std::string("m\0x", 3);
  agent.metadata = {1, 1'000, 1'000};
  auto inserted = store_->InsertAgent("acme", agent);
  ASSERT_TRUE(inserted.ok()) << inserted.error().internal;
  auto got = store_->GetAgent("acme", "a");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->llm_config.model, agent.llm_config.model);
  EXPECT_EQ((*got)->name, agent.name);
  using Kind = query::Clause::Kind;
  auto by_model = store_->ListAgents(MakeList(
      "acme", {Clause("llmConfig.model", Kind::kCompare, agent.llm_config.model)}, 10, 0, true));
  ASSERT_TRUE(by_model.ok()) << by_model.error().internal;
  ASSERT_EQ(by_model->items.size(), 1u);
  EXPECT_EQ(by_model->items[0].id, "a");

  // A document this code did not write is a corrupt row: 500, never a half-filled agent.
  Query("UPDATE agents SET doc = '{\"v\": 2}' WHERE id = 'a'");
  auto corrupt = store_->GetAgent("acme", "a");
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.error().code, ErrorCode::kInternal);
  auto listed = store_->ListAgents(MakeList("acme", {}, 10, 0, false));
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error().code, ErrorCode::kInternal);
}

TEST_F(PostgresStoreTest, NamesMayHoldAnyBytesAndOddLiteralsMatchNothing) {
  const std::string nul_name("a\0b", 3);
  ASSERT_TRUE(store_->Insert("acme", TokenRecord{MakeToken("nul", nul_name), {1}, 0}).ok());
  ASSERT_TRUE(store_->Insert("acme", TokenRecord{MakeToken("plain", "plain"), {2}, 0}).ok());
  auto got = store_->Get("acme", "nul");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->token.name, nul_name);

  using Kind = query::Clause::Kind;
  auto by_name =
      store_->List(MakeList("acme", {Clause("name", Kind::kCompare, nul_name)}, 10, 0, true));
  ASSERT_TRUE(by_name.ok()) << by_name.error().internal;
  EXPECT_THAT(Ids(*by_name), ElementsAre("nul"));
  // Literals PostgreSQL text cannot hold (NUL, invalid UTF-8) cannot equal any id: no error.
  for (const std::string& odd : {std::string("nu\0l", 4), std::string("\xff\xfe")}) {
    auto page = store_->List(MakeList("acme", {Clause("id", Kind::kCompare, odd)}, 10, 0, true));
    ASSERT_TRUE(page.ok()) << page.error().internal;
    EXPECT_TRUE(page->items.empty());
    EXPECT_EQ(page->total, 0);
  }
  auto regex =
      store_->List(MakeList("acme", {Clause("name", Kind::kRegex, {}, "a\\x00b")}, 10, 0, true));
  ASSERT_TRUE(regex.ok()) << regex.error().internal;
  EXPECT_THAT(Ids(*regex), ElementsAre("nul"));
}

TEST_F(PostgresStoreTest, RegexScansSpanSeveralCursorBatchesInOrder) {
  // 1,234 rows (more than two FETCH batches); every third name contains "hit".
  Query(
      "INSERT INTO tokens (tenant, id, name, sealed_value, version, created_at, modified_at)"
      " SELECT 'bulk', 'id' || lpad(g::text, 5, '0'),"
      " convert_to(CASE WHEN g % 3 = 0 THEN 'a HIT ' ELSE 'miss ' END || g, 'UTF8'),"
      " '\\x01', 1, 1000, 1000 FROM generate_series(1, 1234) g");
  using Kind = query::Clause::Kind;
  auto page =
      store_->List(MakeList("bulk", {Clause("name", Kind::kRegex, {}, "hit")}, 5, 400, true));
  ASSERT_TRUE(page.ok()) << page.error().internal;
  EXPECT_EQ(page->total, 411);  // 1234 / 3
  // The 401st match is row 1203.
  EXPECT_THAT(Ids(*page), ElementsAre("id01203", "id01206", "id01209", "id01212", "id01215"));
  auto no_total =
      store_->List(MakeList("bulk", {Clause("name", Kind::kRegex, {}, "^a hit 3$")}, 5, 0, false));
  ASSERT_TRUE(no_total.ok());
  EXPECT_THAT(Ids(*no_total), ElementsAre("id00003"));
  EXPECT_FALSE(no_total->total.has_value());
}

TEST_F(PostgresStoreTest, AStatementBlockedByALockIsUnavailableNotAHang) {
  ASSERT_TRUE(store_->Insert("acme", TokenRecord{MakeToken("locked", "n"), {1}, 0}).ok());
  store_.reset();
  PostgresOptions options = OptionsFor(database_.url());
  options.statement_timeout = std::chrono::milliseconds(300);
  auto opened = OpenPostgresStore(options);
  ASSERT_TRUE(opened.ok()) << opened.error().internal;
  store_ = std::move(opened).value();

  // Another session holds the row lock.
  PGconn* holder = PQconnectdb(database_.url().c_str());
  ASSERT_EQ(PQstatus(holder), CONNECTION_OK) << PQerrorMessage(holder);
  PQclear(PQexec(holder, "BEGIN"));
  PGresult* locked = PQexec(holder, "SELECT 1 FROM tokens WHERE tenant = 'acme' FOR UPDATE");
  ASSERT_EQ(PQresultStatus(locked), PGRES_TUPLES_OK) << PQerrorMessage(holder);
  PQclear(locked);

  const auto start = Clock::now();
  auto updated = store_->Update("acme", MakeToken("locked", "n2"), 1);
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.error().code, ErrorCode::kUnavailable) << updated.error().internal;
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(20));  // generous: the limit is 300 ms

  PQclear(PQexec(holder, "ROLLBACK"));
  PQfinish(holder);
  // The connection that timed out is still good (or replaced): the next write works.
  EXPECT_TRUE(store_->Update("acme", MakeToken("locked", "n2"), 1).ok());
}

TEST(PostgresRestart, UnavailableWhileDownThenRecoversWithoutReopening) {
  std::string error;
  auto server = ts::pgtest::PgTestServer::Start(ts::pgtest::PgTestServerOptions{}, &error);
  ASSERT_NE(server, nullptr) << error;
  const std::string database = server->CreateDatabase(&error);
  ASSERT_FALSE(database.empty()) << error;
  auto opened = OpenPostgresStore(OptionsFor(server->AppUrl(database)));
  ASSERT_TRUE(opened.ok()) << opened.error().internal;
  std::unique_ptr<TokenStore> store = std::move(opened).value();
  ASSERT_TRUE(store->Insert("acme", TokenRecord{MakeToken("kept", "kept"), {7}, 0}).ok());
  // Several pooled connections, so that more than one of them goes stale.
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) readers.emplace_back([&] { (void)store->Get("acme", "kept"); });
  for (auto& reader : readers) reader.join();

  ASSERT_TRUE(server->Stop(&error)) << error;
  const auto start = Clock::now();
  auto got = store->Get("acme", "kept");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(store->Ping().ok());
  auto inserted = store->Insert("acme", TokenRecord{MakeToken("new", "new"), {8}, 0});
  ASSERT_FALSE(inserted.ok());
  EXPECT_EQ(inserted.error().code, ErrorCode::kUnavailable);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(20));

  ASSERT_TRUE(server->StartAgain(&error)) << error;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (!store->Ping().ok() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(store->Ping().ok());
  // Every pooled connection died with the server; none of that shows now.
  for (int i = 0; i < 8; ++i) {
    auto again = store->Get("acme", "kept");
    ASSERT_TRUE(again.ok()) << again.error().internal;
    ASSERT_TRUE(again->has_value());
    EXPECT_EQ((*again)->sealed_value, std::vector<std::uint8_t>{7});
  }
  EXPECT_TRUE(store->Insert("acme", TokenRecord{MakeToken("new", "new"), {8}, 0}).ok());
}

}  // namespace
}  // namespace ts::store
