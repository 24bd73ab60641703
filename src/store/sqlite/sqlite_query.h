// Compiles a ListQuery (the q AST, sort keys, paging) into SQLite SQL. The SQL text holds only
// fixed keywords, column names from a fixed whitelist and `?` placeholders; every value that
// came from a client travels in `params` and is bound, never spliced into the text.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"
#include "store/token_store.h"

namespace ts::store::sqlite {

using SqlParam = std::variant<std::string, std::int64_t>;

struct CompiledList {
  // SELECT id, name, version, created_at, modified_at ... ORDER BY ... LIMIT ? OFFSET ?
  // Parameters: `params`, then limit, then offset.
  std::string page_sql;
  // SELECT count(*) with the same WHERE. Parameters: `params`.
  std::string count_sql;
  std::vector<SqlParam> params;  // the tenant first, then the clauses' values in order
};

// The column that stores a queryable/sortable field (FieldSpec::path), or nullopt.
std::optional<std::string_view> ColumnForField(std::string_view path);

// kInvalidArgument for an unknown field, a literal of the wrong type, an invalid regular
// expression, or a negative limit/offset.
Result<CompiledList> CompileListQuery(const ListQuery& query);

}  // namespace ts::store::sqlite
