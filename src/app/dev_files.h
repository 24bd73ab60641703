// Small file helpers for start-up: reading secrets, writing 0600 files atomically, and the
// development JWT secret. Called on the main thread during start-up only.
#pragma once

#include <string>

#include "common/result.h"

namespace ts::app {

// Reads a whole file. kInvalidArgument names the file on failure.
Result<std::string> ReadFile(const std::string& path);
// Writes `content` to `path` via a temporary file and rename, with the given mode.
Result<void> WriteFileAtomically(const std::string& path, const std::string& content, int mode);
// Creates the directory (and parents) with mode 0700 if missing.
Result<void> EnsureDirectory(const std::string& path);
// The HS256 secret in a secret file: its content minus one trailing newline.
Result<std::string> ReadJwtSecretFile(const std::string& path);
// Creates `path` with a fresh random secret (0600) unless it exists.
Result<void> EnsureDevJwtSecret(const std::string& path);

}  // namespace ts::app
