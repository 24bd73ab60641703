// Client secrets of the token endpoint: generation, Argon2id hashing (libsodium crypto_pwhash_str
// with the interactive limits: about 64 MiB and tens of milliseconds per hash) and verification.
// The hash string carries its own cost; Argon2idCostOf reads it back so that hashes with an
// unbounded memory cost are refused at start-up and the dummy hash for unknown clients costs
// what a real one does. Stateless functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ts::oauth {

// Largest Argon2id memory cost accepted in a clients file (crypto_pwhash_MEMLIMIT_MODERATE).
inline constexpr std::uint64_t kMaxHashMemoryBytes = 256ull << 20;
inline constexpr std::uint64_t kMaxHashPasses = 10;

struct Argon2idCost {
  std::uint64_t passes = 0;        // opslimit
  std::uint64_t memory_bytes = 0;  // memlimit
};

// 32 random bytes as base64url without padding (43 characters).
std::string GenerateClientSecret();
// A fresh client id for `client add`: "<tenant>-" and 8 random hex digits.
std::string NewClientId(std::string_view tenant);
// crypto_pwhash_str with the interactive limits: "$argon2id$v=19$m=65536,t=2,p=1$…".
Result<std::string> HashClientSecret(std::string_view secret);
Result<std::string> HashClientSecret(std::string_view secret, const Argon2idCost& cost);
// True when `secret` matches `hash` (an Argon2id string); false otherwise, also for a malformed
// hash. Takes as long as hashing with the hash's cost.
bool VerifyClientSecret(const std::string& hash, std::string_view secret);
// The cost of a well-formed "$argon2id$v=19$m=…,t=…,p=1$salt$hash" string within the limits
// above; kInvalidArgument saying what is wrong otherwise (never quoting the hash).
Result<Argon2idCost> Argon2idCostOf(const std::string& hash);

}  // namespace ts::oauth
