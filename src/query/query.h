// The Emporix `q` language and the list parameters (sort, fields, paging): value types for
// the parsed forms, and pure parse functions that validate against a ResourceSchema.
// The parser knows nothing about SQL or HTTP; the store compiles a Query into its own language.
// Error positions are 1-based indexes of Unicode characters (code points) in the input.
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"

namespace ts::query {

// The type of a queryable/sortable field decides which operators and literals it accepts.
enum class FieldType {
  kString,     // equality, regex, any-of; sorts bytewise (no <, > in q)
  kInteger,    // numbers: =, <, <=, >, >=, ranges
  kTimestamp,  // ISO-8601 in double quotes; compared by value (milliseconds since the epoch)
  kBoolean,    // true / false
};

struct FieldSpec {
  std::string path;  // as written in q/sort/fields, e.g. "metadata.version"
  FieldType type;
  bool sortable = true;
};

// What a resource offers to q, sort and fields.
struct ResourceSchema {
  std::vector<FieldSpec> fields;         // queryable and (if sortable) sortable
  std::vector<std::string> projectable;  // allowed in `fields=`, e.g. "id", "metadata", ...
  std::vector<std::string> forbidden_projection;  // named specially in errors, e.g. "value"
  const FieldSpec* Find(std::string_view path) const;
};

// A literal after type checking. Timestamps are milliseconds since the Unix epoch (UTC).
using Literal = std::variant<std::string, std::int64_t, bool>;

enum class CompareOp { kEq, kLt, kLe, kGt, kGe };

struct Comparison {
  CompareOp op = CompareOp::kEq;
  Literal value;
};

struct Clause {
  enum class Kind {
    kCompare,  // one comparison (`name:x`, `metadata.version:>2`)
    kRange,    // several comparisons, all must hold (`(>=a AND <b)`)
    kAnyOf,    // equality with any of the values (`id:(a,b)`)
    kRegex,    // RE2 search, case-insensitive, unanchored (see `pattern`)
    kIsNull,   // null or absent
    kMissing,  // absent
    kExists,   // present
  };
  std::string field;  // FieldSpec::path
  FieldType type = FieldType::kString;
  Kind kind = Kind::kCompare;
  std::vector<Comparison> comparisons;  // kCompare (1), kRange (>=1), kAnyOf (>=1, all kEq)
  // kRegex: the RE2 pattern as written, minus its quotes (with \" and \\ unescaped) or its
  // outer parentheses; already compiled once to check it. It is NOT rewritten for case: whoever
  // evaluates it must compile it with RE2 options case_sensitive=false, UTF-8 encoding,
  // max_mem=kRegexMaxMem, and search unanchored (RE2::PartialMatch).
  std::string pattern;
};

// The memory bound for compiling one q regular expression (RE2::Options::set_max_mem).
inline constexpr std::int64_t kRegexMaxMem = 1 << 20;

// Clauses are ANDed. An empty query matches everything.
struct Query {
  std::vector<Clause> clauses;
};

// Longest accepted `q`, in Unicode characters.
inline constexpr std::size_t kMaxQueryLength = 4096;

// Parses `q`. Errors are kInvalidArgument with a message naming what is wrong and the
// 1-based character position, quoting at most 100 characters of the input; the single
// detail is {field: "q", type: "syntax" | "unknownField" | "invalidRegex" | "type" |
// "tooLong", message}. An empty or all-white-space `q` yields an empty Query.
Result<Query> ParseQuery(std::string_view q, const ResourceSchema& schema);

struct SortKey {
  std::string field;
  FieldType type = FieldType::kString;
  bool descending = false;
};

// Parses `sort=name,metadata.createdAt:desc`. The result always ends with `id` ascending
// (unless `id` was named explicitly), so the ordering is total. Empty → just `id` ascending.
// Errors carry the detail field "sort".
Result<std::vector<SortKey>> ParseSort(std::string_view sort, const ResourceSchema& schema);

// A projection: which output fields to render, by dotted path. Empty `names` means everything.
struct Projection {
  std::vector<std::string> names;  // e.g. {"id", "metadata.version"}
  // True if path, an ancestor of it, or a descendant of it is selected: "metadata" is
  // included (as a container) when only "metadata.version" is selected.
  bool Includes(std::string_view path) const;
  // True if path itself or an ancestor of it is selected (render it whole).
  bool IncludesExactly(std::string_view path) const;
};

// Parses `fields=id,name`. Each name must be in schema.projectable; names in
// forbidden_projection (or below them) are rejected as never returned. Duplicates collapse.
// Empty → empty Projection. Errors carry the detail field "fields".
Result<Projection> ParseFields(std::string_view fields, const ResourceSchema& schema);

struct Paging {
  std::int64_t page_size = 60;
  std::int64_t page_number = 1;
  std::int64_t Offset() const { return (page_number - 1) * page_size; }
};

inline constexpr std::int64_t kDefaultPageSize = 60;
inline constexpr std::int64_t kMaxPageSize = 1000;
inline constexpr std::int64_t kMaxPageNumber = 1'000'000'000;

// Each argument is the raw query-parameter value, or nullopt when absent. A present value
// must be plain decimal digits (no sign, space or fraction) within range; errors carry the
// detail field "pageSize" or "pageNumber".
Result<Paging> ParsePaging(std::optional<std::string_view> page_size,
                           std::optional<std::string_view> page_number);

}  // namespace ts::query
