#include "domain/patch_errors.h"

namespace ts::domain {

std::string PatchAt(std::size_t i, std::string_view part) {
  return "[" + std::to_string(i) + "]." + std::string(part);
}

Error PatchValueTypeError(std::size_t i, std::string_view path, std::string_view expected) {
  return Error::InvalidField(
      PatchAt(i, "value"), "type",
      "the value for " + std::string(path) + " must be " + std::string(expected));
}

Error PatchRequiredPathError(std::size_t i, std::string_view path) {
  return Error::InvalidField(PatchAt(i, "path"), "required",
                             std::string(path) + " is required and cannot be removed");
}

Error PatchPathError(std::size_t i, bool read_only, std::string_view noun) {
  if (read_only) return Error::InvalidField(PatchAt(i, "path"), "readOnly", "this path is read-only");
  return Error::InvalidField(PatchAt(i, "path"), "invalidPath",
                             "this path cannot be patched on " + std::string(noun));
}

}  // namespace ts::domain
