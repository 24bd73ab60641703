// VerifiedTokenCache: remembers bearer tokens whose signature and time-independent claims
// already passed TokenVerifier, so a client that sends the same token on every request (all of
// them do) pays for libjwt's decode, the HMAC/RSA/ECDSA check and the claim parsing once per
// token instead of once per request (Envoy's jwt_authn keeps such a cache too). What is cached
// never makes a token valid for longer: `exp` and `nbf` are checked against the clock on every
// hit. Keys are SHA-256 digests of the token, so the cache holds no bearer credential.
// Bounded: at most `capacity` entries; when full, expired entries go first, then everything.
// Thread-safe (one mutex; a hit holds it for a hash lookup and a copy).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "auth/token_verifier.h"

namespace ts::auth {

// What verification found, apart from the clock.
struct VerifiedClaims {
  Principal principal;
  std::int64_t exp = 0;
  std::optional<std::int64_t> nbf;
};

class VerifiedTokenCache {
 public:
  explicit VerifiedTokenCache(std::size_t capacity) : capacity_(capacity) {}

  std::optional<VerifiedClaims> Find(std::string_view token) const;
  // `expired_before`: entries whose exp is below it may be dropped to make room.
  void Insert(std::string_view token, const VerifiedClaims& claims, std::int64_t expired_before);

  std::size_t size() const;
  std::size_t capacity() const { return capacity_; }

 private:
  using Digest = std::array<unsigned char, 32>;
  struct DigestHash {
    std::size_t operator()(const Digest& d) const;
  };
  static Digest DigestOf(std::string_view token);

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<Digest, VerifiedClaims, DigestHash> entries_;  // guarded by mutex_
};

}  // namespace ts::auth
