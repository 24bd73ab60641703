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
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/postgres/pg_connection.h"
#include "store/token_store.h"

namespace ts::store::postgres {

// Columns of every list SELECT, in this order.
inline constexpr int kListColumnId = 0;
inline constexpr int kListColumnName = 1;
inline constexpr int kListColumnVersion = 2;
inline constexpr int kListColumnCreated = 3;
inline constexpr int kListColumnModified = 4;
inline constexpr int kListColumnTotal = 5;  // only with PageSql(true)

struct RegexFilter {
  int column;  // kListColumnId or kListColumnName
  std::unique_ptr<RE2> re;
};

struct CompiledPgList {
  std::string from_where;            // " FROM tokens WHERE tenant = $1 AND (…)"
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
Result<CompiledPgList> CompilePgListQuery(const ListQuery& query);

// True if `text` can be a PostgreSQL text value: valid UTF-8 without NUL.
bool IsPgText(std::string_view text);

}  // namespace ts::store::postgres
