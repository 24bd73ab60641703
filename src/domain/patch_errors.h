// The errors patch application shares across resources: each names the failing operation as
// `[i].path` or `[i].value`. Pure, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ts::domain {

// "[i].<part>", the field of a patch error.
std::string PatchAt(std::size_t i, std::string_view part);
// The value of operation i has the wrong type for `path`; `expected` e.g. "a string".
Error PatchValueTypeError(std::size_t i, std::string_view path, std::string_view expected);
// Operation i removes a required field.
Error PatchRequiredPathError(std::size_t i, std::string_view path);
// Operation i names a read-only path (id, metadata) or, with `read_only` false, a path the
// resource does not let a patch change; `noun` e.g. "an MCP server".
Error PatchPathError(std::size_t i, bool read_only, std::string_view noun);

}  // namespace ts::domain
