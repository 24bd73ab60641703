// sort, fields, pageSize and pageNumber: the list parameters besides q. Each is a short
// comma-separated list or a number, so a split-and-check is all the parsing they need.
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "query/error_text.h"
#include "query/query.h"

namespace ts::query {
namespace {

using internal::Quote;
using internal::TrimSpace;

std::vector<std::string_view> SplitOnComma(std::string_view text) {
  std::vector<std::string_view> items;
  while (true) {
    std::size_t comma = text.find(',');
    items.push_back(TrimSpace(text.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool IsAtOrBelow(std::string_view name, std::string_view root) {
  return name == root || (name.size() > root.size() && name.substr(0, root.size()) == root &&
                          name[root.size()] == '.');
}

Result<std::int64_t> ParseBoundedNumber(std::string_view text, std::string_view parameter,
                                        std::int64_t min, std::int64_t max) {
  std::string range = " between " + std::to_string(min) + " and " + std::to_string(max);
  // Digits only: from_chars alone would accept a leading '-'.
  bool digits = !text.empty();
  for (char c : text) digits = digits && c >= '0' && c <= '9';
  if (!digits) {
    return Error::InvalidField(std::string(parameter), "type",
                               "Invalid " + std::string(parameter) + ": must be a whole number" +
                                   range + ", found " + Quote(text));
  }
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value < min || value > max) {
    return Error::InvalidField(
        std::string(parameter), "range",
        "Invalid " + std::string(parameter) + ": must be" + range + ", found " + Quote(text));
  }
  return value;
}

}  // namespace

Result<std::vector<SortKey>> ParseSort(std::string_view sort, const ResourceSchema& schema) {
  std::vector<SortKey> keys;
  if (!TrimSpace(sort).empty()) {
    for (std::string_view item : SplitOnComma(sort)) {
      if (item.empty()) {
        return Error::InvalidField("sort", "syntax",
                                   "Invalid sort: empty item (expected field[:asc|:desc], "
                                   "separated by commas)");
      }
      std::size_t colon = item.find(':');
      std::string_view field = TrimSpace(item.substr(0, colon));
      bool descending = false;
      if (colon != std::string_view::npos) {
        std::string_view direction = TrimSpace(item.substr(colon + 1));
        if (EqualsIgnoreAsciiCase(direction, "desc")) {
          descending = true;
        } else if (!EqualsIgnoreAsciiCase(direction, "asc")) {
          return Error::InvalidField("sort", "syntax",
                                     "Invalid sort: direction " + Quote(direction) + " of " +
                                         Quote(field) + " must be asc or desc");
        }
      }
      const FieldSpec* spec = schema.Find(field);
      if (spec == nullptr) {
        return Error::InvalidField("sort", "unknownField",
                                   "Invalid sort: unknown field " + Quote(field));
      }
      if (!spec->sortable) {
        return Error::InvalidField("sort", "notSortable",
                                   "Invalid sort: field " + Quote(field) + " is not sortable");
      }
      for (const SortKey& key : keys) {
        if (key.field == spec->path) {
          return Error::InvalidField("sort", "duplicate",
                                     "Invalid sort: field " + Quote(field) + " named twice");
        }
      }
      keys.push_back(SortKey{spec->path, spec->type, descending});
    }
  }
  // `id` is unique, so ending with it makes every order total and pages stable.
  bool has_id = false;
  for (const SortKey& key : keys) has_id = has_id || key.field == "id";
  if (!has_id) {
    const FieldSpec* id = schema.Find("id");
    keys.push_back(SortKey{"id", id != nullptr ? id->type : FieldType::kString, false});
  }
  return keys;
}

Result<Projection> ParseFields(std::string_view fields, const ResourceSchema& schema) {
  Projection projection;
  if (TrimSpace(fields).empty()) return projection;
  for (std::string_view item : SplitOnComma(fields)) {
    if (item.empty()) {
      return Error::InvalidField("fields", "syntax",
                                 "Invalid fields: empty item (expected field names separated "
                                 "by commas)");
    }
    for (const std::string& forbidden : schema.forbidden_projection) {
      if (IsAtOrBelow(item, forbidden)) {
        return Error::InvalidField("fields", "forbidden",
                                   "Invalid fields: " + Quote(item) + " is never returned");
      }
    }
    bool known = false;
    for (const std::string& name : schema.projectable) known = known || name == item;
    if (!known) {
      return Error::InvalidField("fields", "unknownField",
                                 "Invalid fields: unknown field " + Quote(item));
    }
    bool seen = false;
    for (const std::string& name : projection.names) seen = seen || name == item;
    if (!seen) projection.names.emplace_back(item);
  }
  return projection;
}

Result<Paging> ParsePaging(std::optional<std::string_view> page_size,
                           std::optional<std::string_view> page_number) {
  Paging paging;
  paging.page_size = kDefaultPageSize;
  if (page_size) {
    auto size = ParseBoundedNumber(*page_size, "pageSize", 1, kMaxPageSize);
    if (!size) return std::move(size).error();
    paging.page_size = *size;
  }
  if (page_number) {
    auto number = ParseBoundedNumber(*page_number, "pageNumber", 1, kMaxPageNumber);
    if (!number) return std::move(number).error();
    paging.page_number = *number;
  }
  return paging;
}

}  // namespace ts::query
