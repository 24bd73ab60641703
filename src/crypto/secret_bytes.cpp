#include <sodium.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "crypto/sodium_runtime.h"
#include "crypto/value_barrier.h"

namespace ts::crypto {

namespace internal {

bool SodiumReady() {
  // sodium_init is itself thread-safe, but caching its outcome keeps the hot paths cheap.
  static const bool ready = sodium_init() >= 0;
  return ready;
}

void RequireSodium() {
  if (!SodiumReady()) {
    std::fputs("fatal: libsodium failed to initialize (no secure randomness)\n", stderr);
    std::abort();
  }
}

}  // namespace internal

Result<void> InitCrypto() {
  if (!internal::SodiumReady()) {
    return Error::Internal("libsodium failed to initialize (sodium_init returned -1)");
  }
  return Ok();
}

SecretBytes::SecretBytes(std::string_view data) {
  if (data.empty()) return;  // sodium_malloc would still map guard pages for zero bytes
  internal::RequireSodium();
  void* p = sodium_malloc(data.size());
  if (p == nullptr) throw std::bad_alloc();
  std::memcpy(p, data.data(), data.size());
  data_ = static_cast<char*>(p);
  size_ = data.size();
}

SecretBytes SecretBytes::OfSize(std::size_t size) {
  SecretBytes out;
  if (size == 0) return out;
  internal::RequireSodium();
  void* p = sodium_malloc(size);
  if (p == nullptr) throw std::bad_alloc();
  // sodium_malloc fills with 0xdb to expose use of uninitialized memory; callers expect zeros.
  sodium_memzero(p, size);
  out.data_ = static_cast<char*>(p);
  out.size_ = size;
  return out;
}

SecretBytes::~SecretBytes() {
  // sodium_free wipes the whole region before unmapping it.
  if (data_ != nullptr) sodium_free(data_);
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) sodium_free(data_);
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

void WipeMemory(void* data, std::size_t size) {
  if (data != nullptr && size > 0) sodium_memzero(data, size);
}

void Wipe(std::string& s) {
  // Growing to the capacity first reaches bytes a shorter string still holds in its buffer.
  s.resize(s.capacity());
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  internal::RequireSodium();
  // Keyed hashing turns inputs of any length into equal-length digests whose comparison reveals
  // nothing an attacker can steer: without the key, a timing difference in the digest compare
  // says nothing about which input bytes matched.
  static const std::array<unsigned char, crypto_generichash_KEYBYTES> key = [] {
    std::array<unsigned char, crypto_generichash_KEYBYTES> k{};
    crypto_generichash_keygen(k.data());
    return k;
  }();
  static const unsigned char kEmpty = 0;
  auto digest = [&](std::string_view s, unsigned char* out) {
    const auto* in = s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
    crypto_generichash(out, crypto_generichash_BYTES, in, s.size(), key.data(), key.size());
  };
  std::array<unsigned char, crypto_generichash_BYTES> da{};
  std::array<unsigned char, crypto_generichash_BYTES> db{};
  digest(a, da.data());
  digest(b, db.data());
  // Equal digests of unequal inputs would be a BLAKE2b collision (probability about 2^-256).
  const bool same = sodium_memcmp(da.data(), db.data(), da.size()) == 0;
  sodium_memzero(da.data(), da.size());
  sodium_memzero(db.data(), db.size());
  return same;
}

}  // namespace ts::crypto
