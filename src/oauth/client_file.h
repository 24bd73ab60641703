// The clients of the token endpoint (POST /oauth/token), declared in a JSON file
// (--oauth-clients-file): an array of entries, or an object {"clients": [...]}, each
//   {"client_id": "...", "secret_hash": "$argon2id$v=19$...", "tenant": "...",
//    "scopes": ["ai.agent_read", ...] or "ai.agent_read ai.agent_manage",
//    "token_ttl_seconds": 3600}   (optional)
// Parsing validates everything at start-up: unknown keys, a bad tenant name, a hash that is not
// Argon2id (or costs more than the limits of oauth/client_secret.h), duplicate client ids; the
// message names the entry and the key. LoadClientsFile also refuses a file that group or others
// may access, as the master key file is refused. Pure functions (LoadClientsFile reads the
// file), thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ts::oauth {

inline constexpr std::int64_t kDefaultTokenTtlSeconds = 3600;
inline constexpr std::int64_t kMinTokenTtlSeconds = 60;
inline constexpr std::int64_t kMaxTokenTtlSeconds = 86400;
inline constexpr std::size_t kMaxClientIdBytes = 128;

struct OAuthClient {
  std::string client_id;
  std::string secret_hash;  // Argon2id string (crypto_pwhash_str)
  std::string tenant;
  std::vector<std::string> scopes;  // distinct, in the declared order
  std::int64_t token_ttl_seconds = kDefaultTokenTtlSeconds;
};

// Checks one client's fields (also used by `token-service client add` before it prints an
// entry). The message starts with the offending key, e.g. "tenant: ...".
Result<void> ValidateClient(const OAuthClient& client);
// "a b" or "a  b" → {"a", "b"}: RFC 6749 scope tokens separated by spaces; kInvalidArgument for
// an empty list or a character outside the scope-token syntax.
Result<std::vector<std::string>> ParseScopeList(std::string_view text);
// The file's text → its clients (at least one).
Result<std::vector<OAuthClient>> ParseClientsFile(std::string_view text, std::string_view source);
// Reads `path` (a regular file not accessible by group or others) and parses it.
Result<std::vector<OAuthClient>> LoadClientsFile(const std::string& path);
// One entry as a line of JSON, in the file's format.
std::string RenderClientEntry(const OAuthClient& client);

}  // namespace ts::oauth
