#include "domain/token.h"

#include <algorithm>

namespace ts::domain {
namespace {

bool IsUnreservedIdChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '~' || c == '-';
}

bool IsTenantChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Counts code points; input has been validated as UTF-8 by the JSON parser, so counting
// the bytes that do not continue a sequence is exact.
std::size_t CountCodePoints(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool IsBlank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
}

std::string Field(std::string_view f) { return std::string(f); }

}  // namespace

Result<void> ValidateTenant(std::string_view tenant) {
  if (tenant.empty() || tenant.size() > kMaxTenantLength) {
    return Error::InvalidField("tenant", "invalid",
                               "tenant must be 1 to 64 characters of a-z, 0-9, _ and -");
  }
  if (std::any_of(tenant.begin(), tenant.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return Error::InvalidField("tenant", "invalid", "tenant names are lowercase");
  }
  if (!std::all_of(tenant.begin(), tenant.end(), IsTenantChar)) {
    return Error::InvalidField("tenant", "invalid",
                               "tenant may contain only lowercase a-z, 0-9, _ and -");
  }
  return Ok();
}

Result<void> ValidateResourceId(std::string_view id, std::string_view param_name) {
  if (id.empty() || id.size() > kMaxIdLength) {
    return Error::InvalidField(Field(param_name), "invalid",
                               Field(param_name) + " must be 1 to 128 characters long");
  }
  if (!std::all_of(id.begin(), id.end(), IsUnreservedIdChar)) {
    return Error::InvalidField(Field(param_name), "invalid",
                               Field(param_name) +
                                   " may contain only A-Z, a-z, 0-9, '.', '_', '~' and '-'");
  }
  if (id == "." || id == "..") {
    return Error::InvalidField(Field(param_name), "invalid",
                               Field(param_name) + " must not be '.' or '..'");
  }
  return Ok();
}

Result<void> ValidateName(std::string_view name, std::string_view field) {
  if (name.empty() || IsBlank(name)) {
    return Error::InvalidField(Field(field), "blank", Field(field) + " must not be blank");
  }
  if (CountCodePoints(name) > kMaxNameChars) {
    return Error::InvalidField(Field(field), "tooLong",
                               Field(field) + " must be at most 255 characters long");
  }
  return Ok();
}

Result<void> ValidateValue(std::string_view value, std::string_view field) {
  if (value.empty()) {
    return Error::InvalidField(Field(field), "blank", Field(field) + " must not be empty");
  }
  if (value.size() > kMaxValueBytes) {
    return Error::InvalidField(Field(field), "tooLong",
                               Field(field) + " must be at most 16384 bytes long");
  }
  return Ok();
}

const query::ResourceSchema& TokenSchema() {
  static const query::ResourceSchema schema{
      {
          {"id", query::FieldType::kString, true},
          {"name", query::FieldType::kString, true},
          {"metadata.version", query::FieldType::kInteger, true},
          {"metadata.createdAt", query::FieldType::kTimestamp, true},
          {"metadata.modifiedAt", query::FieldType::kTimestamp, true},
      },
      {"id", "name", "metadata", "metadata.version", "metadata.createdAt", "metadata.modifiedAt"},
      {"value"},
  };
  return schema;
}

Result<void> ValidateTokenPatch(const std::vector<PatchOperation>& ops) {
  if (ops.empty() || ops.size() > kMaxPatchOperations) {
    return Error::InvalidField("body", "size", "a patch must contain 1 to 200 operations");
  }
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const PatchOperation& op = ops[i];
    const std::string where = "[" + std::to_string(i) + "].path";
    const std::string& path = op.path;
    if (path == "/name") {
      if (op.op == PatchOperation::Op::kRemove) {
        return Error::InvalidField(where, "required", "name is required and cannot be removed");
      }
      if (!op.has_value || !op.value_is_string) {
        return Error::InvalidField("[" + std::to_string(i) + "].value", "type",
                                   "the value for /name must be a string");
      }
      if (auto r = ValidateName(op.string_value, "name"); !r) {
        Error e = std::move(r).error();
        e.details = {{"[" + std::to_string(i) + "].value", e.details.front().type, e.message}};
        return e;
      }
    } else if (path == "/value") {
      return Error::InvalidField(where, "immutable", "value cannot be changed");
    } else if (path == "/id" || path == "/metadata" || path.rfind("/metadata/", 0) == 0) {
      return Error::InvalidField(where, "readOnly", "this path is read-only");
    } else {
      return Error::InvalidField(where, "invalidPath", "only /name can be patched on a token");
    }
  }
  return Ok();
}

Result<Token> ApplyTokenPatch(const Token& current, const std::vector<PatchOperation>& ops) {
  if (auto valid = ValidateTokenPatch(ops); !valid) return std::move(valid).error();
  Token next = current;
  for (const PatchOperation& op : ops) {
    // Only /name survives validation; ADD and REPLACE both set it.
    next.name = op.string_value;
  }
  return next;
}

}  // namespace ts::domain
