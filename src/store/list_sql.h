// Pieces of list SQL that the SQLite and PostgreSQL compilers of q, sort and paging share: the
// lookup of a field's column, the error for a field no column serves, and comparison
// operators. Pure functions, thread-safe.
#pragma once

#include <string_view>

#include "common/result.h"
#include "query/query.h"

namespace ts::store {

// The column spec whose `field` is `field` in `table.columns`, or nullptr. Each backend has its
// own ColumnSpec type (PostgreSQL's also knows the column's place in the SELECT list).
template <typename Table>
auto FindColumn(const Table& table, std::string_view field) -> decltype(&*table.columns.begin()) {
  for (const auto& spec : table.columns) {
    if (spec.field == field) return &spec;
  }
  return nullptr;
}

// A field the table has no column for. Field names come from the parser's schema, so this is
// a programming error upstream; it is still answered as bad input (400) rather than trusted.
Error UnknownListField(std::string_view field, std::string_view where);

// "=", "<", "<=", ">" or ">=".
const char* SqlOperator(query::CompareOp op);

}  // namespace ts::store
