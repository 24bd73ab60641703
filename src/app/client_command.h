// `token-service client add`: declares a client of POST /oauth/token. Generates a strong random
// secret, hashes it with Argon2id, and prints the entry to add to the --oauth-clients-file file
// and, once, the secret itself (nothing stores it). Results go to stdout, errors to stderr.
// Called from main() only (main thread).
#pragma once

#include <string>
#include <vector>

namespace ts::app {

// `args` follow the word "client". Returns 0 on success, 2 on usage errors.
int RunClientCommand(const std::vector<std::string>& args);
// The usage text of `client` (also part of `token-service --help`).
extern const char* const kClientUsage;

}  // namespace ts::app
