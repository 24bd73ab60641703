// Small, pure helpers behind the HTTP server's per-request decisions: which X-Request-Id to
// trust, and whether an oversized header section is a long URL (414) or too many header
// bytes (431); and the case-insensitive comparison and trimming of header values that handlers
// share. No Beast or Asio here, so the rules are unit-tested without sockets.
// Thread-safe: stateless, except GenerateRequestId, which uses a thread-local generator.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ts::http {

// A client-sent X-Request-Id is adopted only if it is 1-64 characters of [A-Za-z0-9._-]:
// anything else could smuggle control characters or bulk into logs and responses.
bool IsValidRequestId(std::string_view id);

// 16 lowercase hex characters from a non-cryptographic random source (ids label log lines;
// they are not secrets).
std::string GenerateRequestId();

enum class OversizedHeader { kUrlTooLong, kFieldsTooLarge };

// Decides the status for a header section that exceeded the parser's total limit, from the
// bytes buffered so far: a request-target longer than max_url_bytes is 414, otherwise 431.
OversizedHeader ClassifyOversizedHeader(std::string_view buffered, std::size_t max_url_bytes);

// ASCII case-insensitive equality (media types, auth schemes, "true").
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// `s` without leading and trailing spaces and tabs (optional white space, RFC 9110 5.6.3).
std::string_view TrimSpaces(std::string_view s);

// True when a comma-separated header value (e.g. Connection) lists `token`, ignoring case
// and surrounding white space.
bool HeaderListHasToken(std::string_view value, std::string_view token);

}  // namespace ts::http
