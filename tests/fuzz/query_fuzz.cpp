// Fuzzes the list parameters against the token schema: the input is parsed as `q`
// (ts::query::ParseQuery), and also as `sort`, `fields`, `pageSize` and `pageNumber`. A query
// the parser accepts must be well-formed for the store: CompileListQuery (SQLite) must take it.
#include <re2/re2.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "domain/token.h"
#include "fuzz_support.h"
#include "query/query.h"
#include "store/sqlite/sqlite_query.h"

namespace {

using ts::fuzz::CheckPublicError;
using ts::query::Clause;
using ts::query::FieldType;

std::size_t CountCodePoints(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::size_t CountPlaceholders(std::string_view sql) {
  return static_cast<std::size_t>(std::count(sql.begin(), sql.end(), '?'));
}

void CheckQueryError(const ts::Error& error) {
  CheckPublicError(error);
  FUZZ_CHECK(error.code == ts::ErrorCode::kInvalidArgument, "q errors are 400s");
  FUZZ_CHECK(error.details.size() == 1 && error.details[0].field == "q", "one detail for q");
  const std::string& type = error.details[0].type;
  FUZZ_CHECK(type == "syntax" || type == "unknownField" || type == "invalidRegex" ||
                 type == "type" || type == "tooLong",
             "unexpected detail type " + type);
  FUZZ_CHECK(error.message.rfind("Invalid q at position ", 0) == 0, error.message);
}

void CheckClause(const Clause& clause) {
  const ts::query::FieldSpec* spec = ts::domain::TokenSchema().Find(clause.field);
  FUZZ_CHECK(spec != nullptr, "accepted clause on unknown field " + clause.field);
  FUZZ_CHECK(spec->type == clause.type, "clause type differs from the schema");
  switch (clause.kind) {
    case Clause::Kind::kCompare:
      FUZZ_CHECK(clause.comparisons.size() == 1, "a comparison clause has one comparison");
      break;
    case Clause::Kind::kRange:
      FUZZ_CHECK(!clause.comparisons.empty(), "a range has comparisons");
      FUZZ_CHECK(clause.type != FieldType::kString, "ranges only on ordered fields");
      break;
    case Clause::Kind::kAnyOf:
      FUZZ_CHECK(!clause.comparisons.empty(), "a list has values");
      for (const auto& c : clause.comparisons) {
        FUZZ_CHECK(c.op == ts::query::CompareOp::kEq, "a list holds only equalities");
      }
      break;
    case Clause::Kind::kRegex: {
      FUZZ_CHECK(clause.type == FieldType::kString, "regex only on strings");
      FUZZ_CHECK(!clause.pattern.empty(), "empty pattern accepted");
      RE2::Options options;
      options.set_case_sensitive(false);
      options.set_encoding(RE2::Options::EncodingUTF8);
      options.set_max_mem(ts::query::kRegexMaxMem);
      options.set_log_errors(false);
      RE2 compiled(clause.pattern, options);
      FUZZ_CHECK(compiled.ok(), "accepted pattern does not compile");
      break;
    }
    case Clause::Kind::kIsNull:
    case Clause::Kind::kMissing:
    case Clause::Kind::kExists:
      FUZZ_CHECK(clause.comparisons.empty(), "presence tests carry no values");
      break;
  }
  for (const auto& c : clause.comparisons) {
    const bool is_text = std::holds_alternative<std::string>(c.value);
    const bool is_number = std::holds_alternative<std::int64_t>(c.value);
    switch (clause.type) {
      case FieldType::kString:
        FUZZ_CHECK(is_text && c.op == ts::query::CompareOp::kEq, "string literal, equality only");
        break;
      case FieldType::kInteger:
      case FieldType::kTimestamp:
        FUZZ_CHECK(is_number, "numeric literal for an ordered field");
        break;
      case FieldType::kBoolean:
        FUZZ_CHECK(std::holds_alternative<bool>(c.value), "boolean literal");
        break;
    }
  }
}

void FuzzQuery(std::string_view q) {
  const auto& schema = ts::domain::TokenSchema();
  auto parsed = ts::query::ParseQuery(q, schema);
  const std::size_t chars = CountCodePoints(q);
  if (!parsed) {
    CheckQueryError(parsed.error());
    FUZZ_CHECK(
        (parsed.error().details[0].type == "tooLong") == (chars > ts::query::kMaxQueryLength),
        "tooLong exactly when q exceeds 4096 characters");
    return;
  }
  FUZZ_CHECK(chars <= ts::query::kMaxQueryLength, "accepted a q longer than 4096 characters");
  FUZZ_CHECK(ts::fuzz::IsValidUtf8(q), "accepted a q that is not UTF-8");
  for (const Clause& clause : parsed->clauses) CheckClause(clause);

  // What the parser accepts, the store must be able to run: same fields, types and patterns.
  ts::store::ListQuery list;
  list.tenant = "acme";
  list.filter = std::move(parsed).value();
  auto sort = ts::query::ParseSort("", schema);
  FUZZ_CHECK(sort.ok(), "empty sort is valid");
  list.sort = std::move(sort).value();
  auto compiled = ts::store::sqlite::CompileListQuery(list);
  FUZZ_CHECK(compiled.ok(), "an accepted q does not compile to SQL: " +
                                (compiled.ok() ? std::string() : compiled.error().message));
  FUZZ_CHECK(CountPlaceholders(compiled->count_sql) == compiled->params.size(),
             "placeholders and parameters disagree");
  FUZZ_CHECK(CountPlaceholders(compiled->page_sql) == compiled->params.size() + 2,
             "page SQL placeholders and parameters disagree");
}

void FuzzSort(std::string_view text) {
  auto sort = ts::query::ParseSort(text, ts::domain::TokenSchema());
  if (!sort) {
    CheckPublicError(sort.error());
    FUZZ_CHECK(sort.error().details.size() == 1 && sort.error().details[0].field == "sort",
               "sort errors name sort");
    return;
  }
  FUZZ_CHECK(!sort->empty(), "a sort is never empty");
  bool has_id = false;
  for (std::size_t i = 0; i < sort->size(); ++i) {
    const auto& key = (*sort)[i];
    FUZZ_CHECK(ts::domain::TokenSchema().Find(key.field) != nullptr, "unknown sort field");
    has_id = has_id || key.field == "id";
    for (std::size_t j = 0; j < i; ++j) FUZZ_CHECK((*sort)[j].field != key.field, "duplicate key");
  }
  FUZZ_CHECK(has_id, "the order is total (ends with id)");
}

void FuzzFields(std::string_view text) {
  const auto& schema = ts::domain::TokenSchema();
  auto fields = ts::query::ParseFields(text, schema);
  if (!fields) {
    CheckPublicError(fields.error());
    FUZZ_CHECK(fields.error().details.size() == 1 && fields.error().details[0].field == "fields",
               "fields errors name fields");
    return;
  }
  for (const std::string& name : fields->names) {
    FUZZ_CHECK(std::find(schema.projectable.begin(), schema.projectable.end(), name) !=
                   schema.projectable.end(),
               "projected an unknown field");
  }
  FUZZ_CHECK(fields->names.empty() || !fields->Includes("value"), "value is never projected");
}

void FuzzPaging(std::string_view size, std::string_view number) {
  auto paging = ts::query::ParsePaging(size, number);
  if (!paging) {
    CheckPublicError(paging.error());
    return;
  }
  FUZZ_CHECK(paging->page_size >= 1 && paging->page_size <= ts::query::kMaxPageSize, "size range");
  FUZZ_CHECK(paging->page_number >= 1 && paging->page_number <= ts::query::kMaxPageNumber,
             "number range");
  FUZZ_CHECK(paging->Offset() >= 0, "offset overflow");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = ts::fuzz::AsText(data, size);
  FuzzQuery(input);
  FuzzSort(input);
  FuzzFields(input);
  // `pageSize&pageNumber`: both present, split at the first '&' (or both the whole input).
  const std::size_t amp = input.find('&');
  if (amp == std::string_view::npos) {
    FuzzPaging(input, input);
  } else {
    FuzzPaging(input.substr(0, amp), input.substr(amp + 1));
  }
  return 0;
}
