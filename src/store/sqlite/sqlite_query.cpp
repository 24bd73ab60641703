#include "store/sqlite/sqlite_query.h"

#include <array>
#include <utility>

#include "store/list_sql.h"
#include "store/sqlite/re2_search.h"

namespace ts::store::sqlite {
namespace {

constexpr ColumnSpec kTokenColumns[] = {
    {"id", "id", ColumnType::kText},
    {"name", "name", ColumnType::kText},
    {"metadata.version", "version", ColumnType::kInteger},
    {"metadata.createdAt", "created_at", ColumnType::kInteger},
    {"metadata.modifiedAt", "modified_at", ColumnType::kInteger},
};

constexpr ColumnSpec kMcpServerColumns[] = {
    {"id", "id", ColumnType::kText},
    {"name", "name", ColumnType::kText},
    {"enabled", "enabled", ColumnType::kBoolean},
    {"type", "type", ColumnType::kText},
    {"transport", "transport", ColumnType::kText},
    {"config.url", "url", ColumnType::kText},
    {"config.authorizationHeaderName", "auth_header_name", ColumnType::kText, true},
    {"config.authorizationHeaderToken.id", "auth_token_id", ColumnType::kText, true},
    {"metadata.version", "version", ColumnType::kInteger},
    {"metadata.createdAt", "created_at", ColumnType::kInteger},
    {"metadata.modifiedAt", "modified_at", ColumnType::kInteger},
};

constexpr ColumnSpec kAgentColumns[] = {
    {"id", "id", ColumnType::kText},
    {"enabled", "enabled", ColumnType::kBoolean},
    {"type", "type", ColumnType::kText, true},
    {"llmConfig.provider", "provider", ColumnType::kText},
    {"llmConfig.model", "model", ColumnType::kText},
    {"llmConfig.token.id", "llm_token_id", ColumnType::kText, true},
    {"llmConfig.selfHostedParams.authorizationHeaderToken.id", "sh_token_id", ColumnType::kText,
     true},
    {"metadata.version", "version", ColumnType::kInteger},
    {"metadata.createdAt", "created_at", ColumnType::kInteger},
    {"metadata.modifiedAt", "modified_at", ColumnType::kInteger},
};

// Converts a literal to the column's storage type; a mismatch is refused rather than left to
// SQLite's cross-type comparison rules (where every integer sorts before every text).
Result<SqlParam> ToParam(const ColumnSpec& column, const query::Literal& literal) {
  switch (column.type) {
    case ColumnType::kText:
      if (const auto* text = std::get_if<std::string>(&literal)) return SqlParam(*text);
      break;
    case ColumnType::kInteger:
      if (const auto* number = std::get_if<std::int64_t>(&literal)) return SqlParam(*number);
      break;
    case ColumnType::kBoolean:
      if (const auto* flag = std::get_if<bool>(&literal)) return SqlParam(std::int64_t{*flag});
      break;
  }
  return Error::InvalidField(
      "q", "invalid_value",
      "Value of the wrong type for field '" + std::string(column.field) + "'");
}

// Appends "(col op ? AND ...)" for the comparisons of a kCompare or kRange clause.
Result<void> AppendComparisons(const ColumnSpec& column,
                               const std::vector<query::Comparison>& comparisons, std::string& sql,
                               std::vector<SqlParam>& params) {
  if (comparisons.empty()) return Error::Invalid("Empty comparison in q");
  for (std::size_t i = 0; i < comparisons.size(); ++i) {
    auto param = ToParam(column, comparisons[i].value);
    if (!param.ok()) return std::move(param).error();
    if (i > 0) sql += " AND ";
    sql.append(column.column);
    sql += ' ';
    sql += SqlOperator(comparisons[i].op);
    sql += " ?";
    params.push_back(std::move(param).value());
  }
  return Ok();
}

Result<void> AppendClause(const TableSpec& table, const query::Clause& clause, std::string& sql,
                          std::vector<SqlParam>& params) {
  const ColumnSpec* column = FindColumn(table, clause.field);
  if (column == nullptr) return UnknownListField(clause.field, "q");
  using Kind = query::Clause::Kind;
  switch (clause.kind) {
    case Kind::kCompare:
    case Kind::kRange:
      return AppendComparisons(*column, clause.comparisons, sql, params);
    case Kind::kAnyOf: {
      if (clause.comparisons.empty()) {
        sql += '0';  // any of nothing
        return Ok();
      }
      sql.append(column->column);
      sql += " IN (";
      for (std::size_t i = 0; i < clause.comparisons.size(); ++i) {
        auto param = ToParam(*column, clause.comparisons[i].value);
        if (!param.ok()) return std::move(param).error();
        sql += i == 0 ? "?" : ", ?";
        params.push_back(std::move(param).value());
      }
      sql += ')';
      return Ok();
    }
    case Kind::kRegex: {
      if (column->type != ColumnType::kText) {
        return Error::InvalidField("q", "invalid_operator",
                                   "Regular expressions apply only to text fields, not '" +
                                       std::string(column->field) + "'");
      }
      if (auto valid = ValidateRe2SearchPattern(clause.pattern, clause.field); !valid.ok()) {
        return valid;
      }
      sql += "re2_search(?, ";
      sql.append(column->column);
      sql += ')';
      params.emplace_back(clause.pattern);
      return Ok();
    }
    // A stored field is absent exactly when its column is NULL; required fields never are.
    case Kind::kIsNull:
    case Kind::kMissing:
      if (!column->nullable) {
        sql += '0';
        return Ok();
      }
      sql.append(column->column);
      sql += " IS NULL";
      return Ok();
    case Kind::kExists:
      if (!column->nullable) {
        sql += '1';
        return Ok();
      }
      sql.append(column->column);
      sql += " IS NOT NULL";
      return Ok();
  }
  return Error::Invalid("Unsupported clause in q");
}

}  // namespace

const TableSpec& TokenTable() {
  static constexpr TableSpec kTable{"tokens", "id, name, version, created_at, modified_at",
                                    kTokenColumns};
  return kTable;
}

const TableSpec& McpServerTable() {
  static constexpr TableSpec kTable{
      "mcp_servers",
      "id, name, enabled, type, transport, url, auth_header_name, auth_token_id, version,"
      " created_at, modified_at",
      kMcpServerColumns};
  return kTable;
}

const TableSpec& AgentTable() {
  static constexpr TableSpec kTable{
      "agents",
      "id, enabled, type, provider, model, llm_token_id, sh_token_id, doc, version, created_at,"
      " modified_at",
      kAgentColumns};
  return kTable;
}

std::optional<std::string_view> ColumnForField(std::string_view path, const TableSpec& table) {
  const ColumnSpec* spec = FindColumn(table, path);
  if (spec == nullptr) return std::nullopt;
  return spec->column;
}

Result<CompiledList> CompileListQuery(const ListQuery& query, const TableSpec& table) {
  if (query.limit < 0) return Error::InvalidField("pageSize", "invalid", "Negative page size");
  if (query.offset < 0) return Error::InvalidField("pageNumber", "invalid", "Negative offset");

  CompiledList out;
  std::string where = " FROM " + std::string(table.table) + " WHERE tenant = ?";
  out.params.emplace_back(query.tenant);
  for (const query::Clause& clause : query.filter.clauses) {
    where += " AND (";
    if (auto appended = AppendClause(table, clause, where, out.params); !appended.ok()) {
      return std::move(appended).error();
    }
    where += ')';
  }

  std::string order = " ORDER BY ";
  bool has_id = false;
  for (const query::SortKey& key : query.sort) {
    const ColumnSpec* column = FindColumn(table, key.field);
    if (column == nullptr) return UnknownListField(key.field, "sort");
    has_id = has_id || column->column == "id";
    order.append(column->column);
    order += key.descending ? " DESC, " : " ASC, ";
  }
  // The contract promises a total order so pages never overlap or skip; id is unique per
  // tenant, so ending with it guarantees that even if a caller forgot.
  if (!has_id) order += "id ASC, ";
  order.resize(order.size() - 2);

  out.page_sql =
      "SELECT " + std::string(table.select_columns) + where + order + " LIMIT ? OFFSET ?";
  out.count_sql = "SELECT count(*)" + where;
  return out;
}

}  // namespace ts::store::sqlite
