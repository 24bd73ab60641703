#include "oauth/client_secret.h"

#include <sodium.h>

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace ts::oauth {
namespace {

bool SodiumReady() { return sodium_init() >= 0; }

// Reads "<name>=<digits>" at the front of `text` and advances past it.
bool ReadCostField(std::string_view& text, std::string_view name, std::uint64_t* out) {
  if (text.substr(0, name.size()) != name || text.substr(name.size(), 1) != "=") return false;
  text.remove_prefix(name.size() + 1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  if (ec != std::errc{} || end == text.data()) return false;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return true;
}

bool ReadComma(std::string_view& text) {
  if (text.substr(0, 1) != ",") return false;
  text.remove_prefix(1);
  return true;
}

}  // namespace

std::string GenerateClientSecret() {
  if (!SodiumReady()) std::abort();  // no safe randomness: never hand out a weak secret
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char text[sodium_base64_ENCODED_LEN(sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(text, sizeof text, bytes, sizeof bytes,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(bytes, sizeof bytes);
  std::string secret(text);
  sodium_memzero(text, sizeof text);
  return secret;
}

std::string NewClientId(std::string_view tenant) {
  if (!SodiumReady()) std::abort();
  unsigned char bytes[4];
  randombytes_buf(bytes, sizeof bytes);
  char hex[2 * sizeof bytes + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return std::string(tenant) + "-" + hex;
}

Result<std::string> HashClientSecret(std::string_view secret) {
  return HashClientSecret(secret, Argon2idCost{crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                                               crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE});
}

Result<std::string> HashClientSecret(std::string_view secret, const Argon2idCost& cost) {
  if (!SodiumReady()) return Error::Internal("libsodium failed to initialize");
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(hash, secret.data(), secret.size(), cost.passes,
                            static_cast<std::size_t>(cost.memory_bytes),
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Error::Internal("crypto_pwhash_str failed (out of memory?)");
  }
  return std::string(hash);
}

bool VerifyClientSecret(const std::string& hash, std::string_view secret) {
  if (!SodiumReady() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(hash.c_str(), secret.data(), secret.size()) == 0;
}

Result<Argon2idCost> Argon2idCostOf(const std::string& hash) {
  constexpr std::string_view kPrefix = "$argon2id$v=19$";
  std::string_view text = hash;
  if (text.substr(0, kPrefix.size()) != kPrefix) {
    return Error::Invalid(
        "expected an Argon2id hash \"$argon2id$v=19$m=…,t=…,p=1$…\" (made by `token-service "
        "client add` or libsodium crypto_pwhash_str)");
  }
  text.remove_prefix(kPrefix.size());
  std::uint64_t memory_kib = 0;
  std::uint64_t passes = 0;
  std::uint64_t lanes = 0;
  const bool parsed = ReadCostField(text, "m", &memory_kib) && ReadComma(text) &&
                      ReadCostField(text, "t", &passes) && ReadComma(text) &&
                      ReadCostField(text, "p", &lanes) && text.substr(0, 1) == "$";
  if (!parsed) return Error::Invalid("malformed Argon2id parameters (expected m=…,t=…,p=1)");
  if (lanes != 1) return Error::Invalid("Argon2id with p=1 expected (libsodium's only setting)");
  if (memory_kib == 0 || memory_kib > kMaxHashMemoryBytes / 1024 || passes == 0 ||
      passes > kMaxHashPasses) {
    return Error::Invalid("Argon2id cost out of bounds: m at most " +
                          std::to_string(kMaxHashMemoryBytes / 1024) + " (KiB), t from 1 to " +
                          std::to_string(kMaxHashPasses));
  }
  const Argon2idCost cost{passes, memory_kib * 1024};
  // -1 means libsodium cannot parse the string (salt or hash part malformed).
  if (!SodiumReady() || hash.size() >= crypto_pwhash_STRBYTES ||
      crypto_pwhash_str_needs_rehash(hash.c_str(), cost.passes,
                                     static_cast<std::size_t>(cost.memory_bytes)) < 0) {
    return Error::Invalid("malformed Argon2id hash (salt or hash part)");
  }
  return cost;
}

}  // namespace ts::oauth
