#include "store/postgres/pg_query.h"

#include <array>
#include <cstdint>
#include <utility>

#include "store/list_sql.h"
#include "store/sqlite/re2_search.h"

namespace ts::store::postgres {
namespace {

// kText: PostgreSQL text COLLATE "C" (tenant and id hold only ASCII from a fixed alphabet);
// kBytes: bytea (a name is any UTF-8 string, NUL included, which text cannot hold); both
// compare byte by byte, as the API promises.
constexpr ColumnSpec kTokenColumns[] = {
    {"id", "id", ColumnType::kText, 0},
    {"name", "name", ColumnType::kBytes, 1},
    {"metadata.version", "version", ColumnType::kInteger, 2},
    {"metadata.createdAt", "created_at", ColumnType::kInteger, 3},
    {"metadata.modifiedAt", "modified_at", ColumnType::kInteger, 4},
};

constexpr ColumnSpec kMcpServerColumns[] = {
    {"id", "id", ColumnType::kText, 0},
    {"name", "name", ColumnType::kBytes, 1},
    {"enabled", "enabled", ColumnType::kBoolean, 2},
    {"type", "type", ColumnType::kText, 3},
    {"transport", "transport", ColumnType::kText, 4},
    {"config.url", "url", ColumnType::kText, 5},
    {"config.authorizationHeaderName", "auth_header_name", ColumnType::kText, 6, true},
    {"config.authorizationHeaderToken.id", "auth_token_id", ColumnType::kText, 7, true},
    {"metadata.version", "version", ColumnType::kInteger, 8},
    {"metadata.createdAt", "created_at", ColumnType::kInteger, 9},
    {"metadata.modifiedAt", "modified_at", ColumnType::kInteger, 10},
};

// The document (column 10) is selected but not queryable: a list page decodes whole agents.
constexpr ColumnSpec kAgentColumns[] = {
    {"id", "id", ColumnType::kText, 0},
    {"enabled", "enabled", ColumnType::kBoolean, 1},
    {"type", "type", ColumnType::kText, 2, true},
    {"llmConfig.provider", "provider", ColumnType::kText, 3},
    {"llmConfig.model", "model", ColumnType::kBytes, 4},
    {"llmConfig.token.id", "llm_token_id", ColumnType::kText, 5, true},
    {"llmConfig.selfHostedParams.authorizationHeaderToken.id", "sh_token_id", ColumnType::kText, 6,
     true},
    {"metadata.version", "version", ColumnType::kInteger, 7},
    {"metadata.createdAt", "created_at", ColumnType::kInteger, 8},
    {"metadata.modifiedAt", "modified_at", ColumnType::kInteger, 9},
};

Error WrongType(const ColumnSpec& column) {
  return Error::InvalidField(
      "q", "invalid_value",
      "Value of the wrong type for field '" + std::string(column.field) + "'");
}

class Builder {
 public:
  explicit Builder(CompiledPgList& out) : out_(out) {}

  std::string Bind(PgParam param) {
    out_.params.push_back(std::move(param));
    // Appended rather than "$" + …: GCC 12 warns (-Wrestrict) about that form at -O2.
    std::string placeholder = "$";
    placeholder += std::to_string(out_.params.size());
    return placeholder;
  }

  // One comparison `column op literal`, type-checked like the SQLite backend does.
  Result<std::string> Comparison(const ColumnSpec& column, query::CompareOp op,
                                 const query::Literal& literal) {
    const std::string col(column.column);
    if (column.type == ColumnType::kBoolean) {
      const auto* flag = std::get_if<bool>(&literal);
      if (flag == nullptr) return WrongType(column);
      return col + " " + SqlOperator(op) + " " + Bind(PgParam::Int8(*flag ? 1 : 0));
    }
    if (column.type == ColumnType::kInteger) {
      const auto* number = std::get_if<std::int64_t>(&literal);
      if (number == nullptr) return WrongType(column);
      return col + " " + SqlOperator(op) + " " + Bind(PgParam::Int8(*number));
    }
    const auto* text = std::get_if<std::string>(&literal);
    if (text == nullptr) return WrongType(column);
    if (column.type == ColumnType::kBytes) {
      return col + " " + SqlOperator(op) + " " + Bind(PgParam::Bytea(*text));
    }
    if (IsPgText(*text)) return col + " " + SqlOperator(op) + " " + Bind(PgParam::Text(*text));
    // No stored id can equal a value text cannot hold; an ordering still compares bytes.
    if (op == query::CompareOp::kEq) return std::string("FALSE");
    return "convert_to(" + col + ", 'UTF8') " + SqlOperator(op) + " " + Bind(PgParam::Bytea(*text));
  }

 private:
  CompiledPgList& out_;
};

Result<void> AppendClause(const TableSpec& table, const query::Clause& clause, Builder& builder,
                          CompiledPgList& out, std::string& sql) {
  const ColumnSpec* column = FindColumn(table, clause.field);
  if (column == nullptr) return UnknownListField(clause.field, "q");
  using Kind = query::Clause::Kind;
  switch (clause.kind) {
    case Kind::kCompare:
    case Kind::kRange: {
      if (clause.comparisons.empty()) return Error::Invalid("Empty comparison in q");
      for (std::size_t i = 0; i < clause.comparisons.size(); ++i) {
        auto one =
            builder.Comparison(*column, clause.comparisons[i].op, clause.comparisons[i].value);
        if (!one.ok()) return std::move(one).error();
        if (i > 0) sql += " AND ";
        sql += *one;
      }
      return Ok();
    }
    case Kind::kAnyOf: {
      std::string any;
      for (const query::Comparison& comparison : clause.comparisons) {
        auto one = builder.Comparison(*column, query::CompareOp::kEq, comparison.value);
        if (!one.ok()) return std::move(one).error();
        if (!any.empty()) any += " OR ";
        any += *one;
      }
      sql += any.empty() ? "FALSE" : any;  // any of nothing
      return Ok();
    }
    case Kind::kRegex: {
      if (column->type == ColumnType::kInteger || column->type == ColumnType::kBoolean) {
        return Error::InvalidField("q", "invalid_operator",
                                   "Regular expressions apply only to text fields, not '" +
                                       std::string(column->field) + "'");
      }
      // The same options and the same error text as the SQLite backend's re2_search.
      if (auto valid = sqlite::ValidateRe2SearchPattern(clause.pattern, clause.field);
          !valid.ok()) {
        return valid;
      }
      auto re =
          std::make_unique<RE2>(re2::StringPiece(clause.pattern.data(), clause.pattern.size()),
                                sqlite::Re2SearchOptions());
      out.regexes.push_back(RegexFilter{column->list_column, std::move(re)});
      sql += "TRUE";
      return Ok();
    }
    // A stored field is absent exactly when its column is NULL; required fields never are.
    case Kind::kIsNull:
    case Kind::kMissing:
      sql += column->nullable ? std::string(column->column) + " IS NULL" : std::string("FALSE");
      return Ok();
    case Kind::kExists:
      // "TRUE" alone is dropped by the caller, which is right: a required field always exists.
      sql += column->nullable ? std::string(column->column) + " IS NOT NULL" : std::string("TRUE");
      return Ok();
  }
  return Error::Invalid("Unsupported clause in q");
}

}  // namespace

const TableSpec& TokenTable() {
  static constexpr TableSpec kTable{"tokens", "id, name, version, created_at, modified_at", 5,
                                    kTokenColumns};
  return kTable;
}

const TableSpec& McpServerTable() {
  static constexpr TableSpec kTable{
      "mcp_servers",
      "id, name, enabled, type, transport, url, auth_header_name, auth_token_id, version,"
      " created_at, modified_at",
      11, kMcpServerColumns};
  return kTable;
}

const TableSpec& AgentTable() {
  static constexpr TableSpec kTable{
      "agents",
      "id, enabled, type, provider, model, llm_token_id, sh_token_id, version, created_at,"
      " modified_at, doc",
      11, kAgentColumns};
  return kTable;
}

bool IsPgText(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<std::size_t>(extra) >= text.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values beyond Unicode are not UTF-8.
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += static_cast<std::size_t>(extra) + 1;
  }
  return true;
}

std::string CompiledPgList::PageSql(bool with_total) const {
  const std::size_t n = params.size();
  return "SELECT " + select_columns + (with_total ? ", count(*) OVER ()" : "") + from_where +
         order_by + " LIMIT $" + std::to_string(n + 1) + " OFFSET $" + std::to_string(n + 2);
}

std::string CompiledPgList::CountSql() const { return "SELECT count(*)" + from_where; }

std::string CompiledPgList::CandidatesSql() const {
  return "SELECT " + select_columns + from_where + order_by;
}

Result<CompiledPgList> CompilePgListQuery(const ListQuery& query, const TableSpec& table) {
  if (query.limit < 0) return Error::InvalidField("pageSize", "invalid", "Negative page size");
  if (query.offset < 0) return Error::InvalidField("pageNumber", "invalid", "Negative offset");

  CompiledPgList out;
  Builder builder(out);
  out.select_columns = std::string(table.select_columns);
  out.from_where = " FROM " + std::string(table.table) +
                   " WHERE tenant = " + builder.Bind(PgParam::Text(query.tenant));
  for (const query::Clause& clause : query.filter.clauses) {
    std::string sql;
    if (auto appended = AppendClause(table, clause, builder, out, sql); !appended.ok()) {
      return std::move(appended).error();
    }
    if (sql != "TRUE") out.from_where += " AND (" + sql + ")";
  }

  out.order_by = " ORDER BY ";
  bool has_id = false;
  for (const query::SortKey& key : query.sort) {
    const ColumnSpec* column = FindColumn(table, key.field);
    if (column == nullptr) return UnknownListField(key.field, "sort");
    has_id = has_id || column->column == "id";
    out.order_by.append(column->column);
    out.order_by += key.descending ? " DESC, " : " ASC, ";
  }
  // A total order, so pages never overlap or skip: id is unique within a tenant.
  if (!has_id) out.order_by += "id ASC, ";
  out.order_by.resize(out.order_by.size() - 2);
  return out;
}

}  // namespace ts::store::postgres
