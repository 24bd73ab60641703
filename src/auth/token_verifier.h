// Bearer-token authentication: turns an `Authorization` header value into a Principal.
// Uses libjwt for signature checks, and guards against its known pitfalls: the algorithm is
// pinned to the configured one (the token's own `alg` header is never trusted), a key is
// always supplied, and `exp`/`nbf` are checked here with a configurable clock skew.
// No HTTP types. TokenVerifier's configuration is immutable after Create; it is safe to use
// from many threads (its cache of verified tokens locks).
//
// What Verify accepts (everything else is kUnauthenticated, "Invalid access token"):
// - `Authorization: Bearer <jwt>`: scheme case-insensitive, one or more spaces, then a compact
//   JWS of three non-empty base64url segments, at most kMaxTokenBytes long.
// - Signed with the configured algorithm and key; `alg` must name exactly that algorithm.
// - `exp` is REQUIRED and must be a JSON integer (seconds since the epoch); a token without
//   `exp` never expires otherwise, so it is rejected. `nbf`, if present, must be an integer too.
//   Past `exp` + clock_skew: kTokenExpired ("Access Token expired"), but only once every other
//   check has passed. `nbf` later than now + clock_skew: invalid (not "expired").
// - `tenant`: required non-empty string. `scope`: optional space-separated string (absent means
//   no scopes). `sub`: optional string. A claim of the wrong JSON type is invalid.
// - `iss` must equal `issuer` when one is configured; `aud` (a string, or an array of strings)
//   must equal or contain `audience` when one is configured. Unconfigured: not checked.
// Error::internal says why (claim name, libjwt errno), never the token, a claim value or the key.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace ts::auth {

// Longest accepted token (the part after "Bearer "), in bytes.
inline constexpr std::size_t kMaxTokenBytes = 8 * 1024;
// RFC 7518 section 3.2: an HS256 key must be at least as long as the hash output.
inline constexpr std::size_t kMinHs256SecretBytes = 32;
// Smallest accepted RSA modulus for RS256.
inline constexpr int kMinRsaKeyBits = 2048;
// Largest accepted clock_skew; a larger value is almost surely a unit mistake.
inline constexpr std::chrono::seconds kMaxClockSkew{3600};

struct Principal {
  std::string tenant;
  std::vector<std::string> scopes;
  std::string subject;
  // Exact, case-sensitive match against one of the scopes.
  bool HasScope(std::string_view scope) const;
};

enum class Algorithm { kHS256, kRS256, kES256 };

// "HS256", "RS256", "ES256".
std::string_view AlgorithmName(Algorithm algorithm);
// Inverse of AlgorithmName (exact, case-sensitive); kInvalidArgument otherwise.
Result<Algorithm> ParseAlgorithm(std::string_view name);

struct VerifierOptions {
  Algorithm algorithm = Algorithm::kHS256;
  std::string key;  // HS256: the shared secret bytes; RS256/ES256: the PEM public key
  std::optional<std::string> issuer;    // when set, `iss` must equal it
  std::optional<std::string> audience;  // when set, `aud` must equal or contain it
  std::chrono::seconds clock_skew{60};
  // Tokens remembered as verified (auth/verified_token_cache.h); 0 verifies every request.
  std::size_t cache_entries = 10'000;
};

class VerifiedTokenCache;

class TokenVerifier {
 public:
  // Fails (kInvalidArgument, for start-up) when the key is empty or unusable: an HS256 secret
  // shorter than kMinHs256SecretBytes; for RS256 anything but a PEM (SubjectPublicKeyInfo,
  // "BEGIN PUBLIC KEY") RSA key of at least kMinRsaKeyBits; for ES256 anything but a PEM P-256
  // public key. Also fails on an empty issuer/audience or a clock_skew outside
  // [0, kMaxClockSkew]. The error message names the problem, never the key.
  static Result<TokenVerifier> Create(VerifierOptions options);

  // `authorization` is the raw header value or nullopt if absent. Errors: kUnauthenticated
  // ("Invalid access token") or kTokenExpired ("Access Token expired"); kInternal only if
  // memory runs out. Never throws.
  Result<Principal> Verify(std::optional<std::string_view> authorization,
                           std::int64_t now_epoch_seconds) const;

 private:
  explicit TokenVerifier(VerifierOptions options);
  VerifierOptions options_;
  std::shared_ptr<VerifiedTokenCache> cache_;  // null when options_.cache_entries is 0
};

// Signs an HS256 token (for `token-service dev-token` and tests) with claims `tenant`,
// `scope` (omitted when empty), `sub` (omitted when empty), `iat` = issued_at,
// `exp` = issued_at + ttl_seconds, and `iss`/`aud` when given. kInvalidArgument when the
// secret is shorter than kMinHs256SecretBytes, the tenant is empty or ttl_seconds <= 0.
Result<std::string> MintHs256Token(std::string_view secret, std::string_view tenant,
                                   std::string_view scope, std::string_view subject,
                                   std::int64_t issued_at, std::int64_t ttl_seconds,
                                   const std::optional<std::string>& issuer = std::nullopt,
                                   const std::optional<std::string>& audience = std::nullopt);

// Infers RS256/ES256 from a PEM public key ("BEGIN PUBLIC KEY"): any RSA key is kRS256 (Create
// still enforces kMinRsaKeyBits), an EC key on P-256 is kES256; anything else, including a
// private key, is kInvalidArgument.
Result<Algorithm> AlgorithmForPublicKey(std::string_view pem);

}  // namespace ts::auth
