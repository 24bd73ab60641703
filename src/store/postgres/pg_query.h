// Compiles a ListQuery (the q AST, sort keys, paging) into PostgreSQL SQL. The SQL text holds
// only fixed keywords, column names from a fixed whitelist and $n placeholders; every value
// from a client is a bound parameter.
//
// Regular expressions are not SQL here: PostgreSQL's regex engine is not RE2 (different
// syntax, no linear-time guarantee), and the contract promises the same semantics on every
// backend. Regex clauses become RE2 matchers that PostgresTokenStore applies in the service
// process to the rows the other clauses select, in the requested order.
// Pure functions, thread-safe; a CompiledPgList is used by one thread.
#pragma once

#include <re2/re2.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/postgres/pg_connection.h"
#include "store/token_store.h"

namespace ts::store::postgres {

enum class ColumnType { kText, kBytes, kInteger, kBoolean /* bigint 0 or 1 */ };

// One queryable/sortable field of a resource and the column that stores it.
struct ColumnSpec {
  std::string_view field;   // query::FieldSpec::path
  std::string_view column;  // a fixed identifier: the only names that reach SQL from a query
  ColumnType type;
  int list_column;        // its position in TableSpec::select_columns
  bool nullable = false;  // NULL stores an absent optional field
};

// A resource's table as the list compiler sees it.
struct TableSpec {
  std::string_view table;
  std::string_view select_columns;  // what a page selects, e.g. "id, name, …"
  int select_count;                 // how many; with a total, the total is column select_count
  std::span<const ColumnSpec> columns;
};

// Tokens select id, name, version, created_at, modified_at (columns 0..4).
const TableSpec& TokenTable();
// MCP servers select id, name, enabled, type, transport, url, auth_header_name,
// auth_token_id, version, created_at, modified_at (columns 0..10).
const TableSpec& McpServerTable();
// Agents select id, enabled, type, provider, model, llm_token_id, sh_token_id, version,
// created_at, modified_at, doc (columns 0..10; doc is store/agent_doc.h's document).
const TableSpec& AgentTable();

struct RegexFilter {
  int column;  // a list column; a NULL there never matches
  std::unique_ptr<RE2> re;
};

struct CompiledPgList {
  std::string select_columns;        // from the TableSpec
  std::string from_where;            // " FROM <table> WHERE tenant = $1 AND (…)"
  std::string order_by;              // " ORDER BY …, id ASC"
  std::vector<PgParam> params;       // the tenant first, then the clauses' values in order
  std::vector<RegexFilter> regexes;  // all must match; empty: everything is SQL

  // The page: params, then limit and offset. With `with_total`, a last column holds the
  // number of all matching rows (a window count, computed before LIMIT).
  std::string PageSql(bool with_total) const;
  std::string CountSql() const;       // params only
  std::string CandidatesSql() const;  // every row the SQL clauses select, in order; params only
};

// kInvalidArgument for an unknown field, a literal of the wrong type, an invalid regular
// expression, or a negative limit/offset.
Result<CompiledPgList> CompilePgListQuery(const ListQuery& query,
                                          const TableSpec& table = TokenTable());

// True if `text` can be a PostgreSQL text value: valid UTF-8 without NUL.
bool IsPgText(std::string_view text);

}  // namespace ts::store::postgres
