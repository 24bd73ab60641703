// The barrier: the one place that encrypts and decrypts token values. Above it, only
// plaintext (in wiped memory); below it (the store), only sealed bytes.
//
// Envelope encryption: each value is sealed with XChaCha20-Poly1305 under a fresh random data
// key; the data key is wrapped (XChaCha20-Poly1305) by a master key (key-encryption key) from a
// key ring (key_ring.h). A sealed value describes itself (format version, master key id,
// nonces, wrapped data key) and binds its place (tenant, token id) as associated data, so a
// value copied to another row or tenant fails to open instead of leaking.
//
// Sealed layout, format "tsv1" (all offsets in bytes, n = plaintext length):
//   [0, 4)       magic and format version: the ASCII bytes "tsv1"
//   [4, 8)       master key id that wraps the data key, uint32 big-endian
//   [8, 32)      wrap nonce (24 random bytes)
//   [32, 80)     wrapped data key: XChaCha20-Poly1305(master key, wrap nonce,
//                  AD = bytes [0, 8) || "dk" || place), 32-byte key + 16-byte tag
//   [80, 104)    value nonce (24 random bytes)
//   [104, 120+n) value ciphertext: XChaCha20-Poly1305(data key, value nonce,
//                  AD = "tsv1" || "val" || place), n bytes + 16-byte tag
//   place = u32be(len(tenant)) || tenant || u32be(len(id)) || id
// The value's AD leaves out the master key id on purpose: a key rotation re-wraps only the
// data key (Rewrap) and leaves the value nonce and ciphertext untouched.
//
// Thread-safety: SecretBytes is a move-only value (not shared). Wipe, ConstantTimeEquals,
// InitCrypto, SealedKeyId and every ValueBarrier method are safe to call concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ts::crypto {

// Initializes libsodium. Call once at start-up to fail fast with a clear error; every function
// here also initializes on first use, so tests and tools need not call it. Idempotent.
Result<void> InitCrypto();

// Plaintext in libsodium guarded memory (sodium_malloc: guard pages, locked where the
// RLIMIT_MEMLOCK allows), wiped on destruction. Move-only. Size 0 allocates nothing.
// Allocation failure throws std::bad_alloc, like operator new.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string_view data);
  ~SecretBytes();
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  // `size` zero bytes, to be filled in place through mutable_data() (e.g. by a decryption).
  static SecretBytes OfSize(std::size_t size);

  std::string_view view() const { return {data_, size_}; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  char* mutable_data() { return data_; }

 private:
  char* data_ = nullptr;
  std::size_t size_ = 0;
};

// Wipes a std::string's bytes in place (for request bodies that carried a value), then clears
// it. Only the current buffer is wiped: copies left behind by earlier reallocations are not.
void Wipe(std::string& s);

// Wipes `size` bytes at `data` (e.g. a JSON document's copy of a value).
void WipeMemory(void* data, std::size_t size);

// Compares two secrets in time that depends only on their lengths, never on their contents:
// both sides are hashed with keyed BLAKE2b (a per-process random key) and the digests are
// compared with sodium_memcmp. Inputs of different lengths compare unequal.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

class KeyRing;  // defined in key_ring.h

// The master key id recorded in sealed bytes, or nullopt if they are not in a known format.
// Reads the header only; authenticates nothing (for rotation bookkeeping and status).
std::optional<std::uint32_t> SealedKeyId(const std::vector<std::uint8_t>& sealed);

class ValueBarrier {
 public:
  // `keys` must not be null (if it is, every call fails with kInternal).
  explicit ValueBarrier(std::shared_ptr<const KeyRing> keys);

  // Seals `plaintext` for (tenant, id) under the active master key, with a fresh data key and
  // fresh random nonces.
  Result<std::vector<std::uint8_t>> Seal(std::string_view tenant, std::string_view id,
                                         std::string_view plaintext) const;
  // Opens sealed bytes for (tenant, id). Fails (kInternal, public message "Stored value could
  // not be decrypted", the precise reason only in Error::internal) if the bytes were altered,
  // truncated, moved to another tenant or id, or their master key is not in the ring.
  Result<SecretBytes> Open(std::string_view tenant, std::string_view id,
                           const std::vector<std::uint8_t>& sealed) const;
  // Re-wraps the data key of sealed bytes for (tenant, id) under the active master key, with a
  // fresh wrap nonce; the value nonce and ciphertext are kept byte for byte. The value is
  // authenticated first, so a rotation never carries forward bytes that no longer open.
  // Fails like Open.
  Result<std::vector<std::uint8_t>> Rewrap(std::string_view tenant, std::string_view id,
                                           const std::vector<std::uint8_t>& sealed) const;

  // Id of the master key that new seals use (0 if there is no key ring).
  std::uint32_t ActiveKeyId() const;
  // Swaps in a new key ring (e.g. reloaded after a key was added). Calls in flight finish with
  // the ring they started with.
  void ReplaceKeyRing(std::shared_ptr<const KeyRing> keys);
  // The current key ring (never null unless constructed with null).
  std::shared_ptr<const KeyRing> Keys() const;

  // Called by Open and Rewrap when sealed bytes name a master key id that the current ring
  // lacks (e.g. another process rotated the key file and re-wrapped this value). The handler may
  // swap in a fresh ring with ReplaceKeyRing; the call then continues with the ring it finds.
  // It runs on the caller's thread, outside the barrier's lock, and may run concurrently with
  // itself. An empty function removes the handler.
  using MissingKeyHandler = std::function<void(std::uint32_t key_id)>;
  void SetMissingKeyHandler(MissingKeyHandler handler);

 private:
  // The ring to open `sealed` with: the current one, or a fresh one if the current ring lacks
  // the key the bytes name and the missing-key handler brought it in.
  std::shared_ptr<const KeyRing> KeysFor(const std::vector<std::uint8_t>& sealed) const;

  mutable std::mutex mu_;
  std::shared_ptr<const KeyRing> keys_;                      // guarded by mu_
  std::shared_ptr<const MissingKeyHandler> on_missing_key_;  // guarded by mu_
};

}  // namespace ts::crypto
