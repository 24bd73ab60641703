// Compiles a ListQuery (the q AST, sort keys, paging) into SQLite SQL. The SQL text holds only
// fixed keywords, column names from a fixed whitelist and `?` placeholders; every value that
// came from a client travels in `params` and is bound, never spliced into the text.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"
#include "store/token_store.h"

namespace ts::store::sqlite {

using SqlParam = std::variant<std::string, std::int64_t>;

enum class ColumnType { kText, kInteger, kBoolean /* 0 or 1 */ };

// One queryable/sortable field of a resource and the column that stores it.
struct ColumnSpec {
  std::string_view field;   // query::FieldSpec::path
  std::string_view column;  // a fixed identifier: the only names that reach SQL from a query
  ColumnType type;
  bool nullable = false;  // NULL stores an absent optional field
};

// A resource's table as the list compiler sees it: which columns a page selects and which
// fields map to which columns (the whitelist).
struct TableSpec {
  std::string_view table;
  std::string_view select_columns;  // e.g. "id, name, version, created_at, modified_at"
  std::span<const ColumnSpec> columns;
};

const TableSpec& TokenTable();
const TableSpec& McpServerTable();
const TableSpec& AgentTable();

struct CompiledList {
  // SELECT <table.select_columns> ... ORDER BY ... LIMIT ? OFFSET ?
  // Parameters: `params`, then limit, then offset.
  std::string page_sql;
  // SELECT count(*) with the same WHERE. Parameters: `params`.
  std::string count_sql;
  std::vector<SqlParam> params;  // the tenant first, then the clauses' values in order
};

// The column that stores a queryable/sortable field (FieldSpec::path), or nullopt.
std::optional<std::string_view> ColumnForField(std::string_view path,
                                               const TableSpec& table = TokenTable());

// kInvalidArgument for an unknown field, a literal of the wrong type, an invalid regular
// expression, or a negative limit/offset.
Result<CompiledList> CompileListQuery(const ListQuery& query,
                                      const TableSpec& table = TokenTable());

}  // namespace ts::store::sqlite
