// The Token resource and its rules: validation of ids, tenants, names and values, the PUT
// body model, and PATCH application. No I/O, no JSON library, no crypto. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "query/query.h"

namespace ts::domain {

struct ResourceMetadata {
  std::int64_t version = 1;
  std::int64_t created_at_ms = 0;
  std::int64_t modified_at_ms = 0;
};

// A token as every read shows it (never with its value).
struct Token {
  std::string id;
  std::string name;
  ResourceMetadata metadata;
};

inline constexpr std::size_t kMaxIdLength = 128;
inline constexpr std::size_t kMaxTenantLength = 64;
inline constexpr std::size_t kMaxNameChars = 255;
inline constexpr std::size_t kMaxValueBytes = 16384;

// Checked after percent-decoding. Errors are kInvalidArgument naming the parameter.
Result<void> ValidateTenant(std::string_view tenant);
Result<void> ValidateResourceId(std::string_view id, std::string_view param_name);
// name: 1–255 Unicode characters, not only white space. `field` is the name to report.
Result<void> ValidateName(std::string_view name, std::string_view field);
Result<void> ValidateValue(std::string_view value, std::string_view field);

// The schema `q`, `sort` and `fields` use for tokens.
const query::ResourceSchema& TokenSchema();

// One PATCH operation, already decoded from JSON: `value` is present only when the
// operation carried one, and `value_is_string` says whether it was a JSON string (then
// `string_value` holds it). `bool_value` is set for a JSON boolean, `object_id` for an object
// whose only member is a string `id` (a reference, as in `{"id": "my-token"}`).
struct PatchOperation {
  enum class Op { kAdd, kRemove, kReplace };
  Op op = Op::kReplace;
  std::string path;
  bool has_value = false;
  bool value_is_string = false;
  std::string string_value;
  std::optional<bool> bool_value;
  std::optional<std::string> object_id;
};

inline constexpr std::size_t kMaxPatchOperations = 200;

// Checks operations without looking at any stored token: count, paths, value types.
Result<void> ValidateTokenPatch(const std::vector<PatchOperation>& ops);

// Applies operations to a token's writable fields, all or none. Errors are kInvalidArgument
// with details naming the failing operation (`[i].path`).
Result<Token> ApplyTokenPatch(const Token& current, const std::vector<PatchOperation>& ops);

}  // namespace ts::domain
