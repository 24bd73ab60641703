// KeyRing: the master keys (key-encryption keys) that wrap the data keys of sealed values, and
// the key file they live in. Each key has a small integer id (recorded in every sealed value)
// and 32 random bytes held in libsodium guarded memory, wiped on destruction. Exactly one key
// is active: new seals use it; the others still open values sealed under them. A ring is
// immutable; rotating builds a new ring with one more key (WithNewActiveKey, AddKeyToRingFile).
//
// Key file format "tsk1" (UTF-8 text, one entry per line):
//   # comment lines and blank lines are ignored
//   tsk1 <id> <key> [active]
// <id> is a decimal integer in 1..4294967295, unique in the file; <key> is exactly 32 bytes in
// standard padded base64 (44 characters); the word "active" marks the one key new values are
// sealed under. Fields are separated by spaces or tabs. Anything else is an error: the file is
// rejected as a whole, never partly used. The file must be a regular file with no permissions
// for group or others (e.g. mode 0600 or 0400); it is refused otherwise. Removing a key's line
// retires it: values still wrapped under it will no longer open (see SealedKeyId).
//
// Thread-safety: a KeyRing is immutable and safe to share between threads. The file functions
// may be called from any thread; AddKeyToRingFile and RemoveKeyFromRingFile serialize concurrent
// callers (also in other processes) with an exclusive flock on the key file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "crypto/value_barrier.h"

namespace ts::crypto {

inline constexpr std::size_t kMasterKeyBytes = 32;

// One master key: its id and its bytes (kMasterKeyBytes, guarded memory). Move-only.
class MasterKey {
 public:
  MasterKey(std::uint32_t id, SecretBytes key) : id_(id), key_(std::move(key)) {}
  // A fresh random key with the given id.
  static MasterKey Generate(std::uint32_t id);

  std::uint32_t id() const { return id_; }
  const unsigned char* bytes() const {
    return reinterpret_cast<const unsigned char*>(key_.view().data());
  }
  std::size_t size() const { return key_.size(); }

 private:
  std::uint32_t id_;
  SecretBytes key_;
};

class KeyRing {
 public:
  // Validates: at least one key, every id non-zero and unique, every key kMasterKeyBytes long,
  // `active_id` present. Errors are kInvalidArgument.
  static Result<std::shared_ptr<const KeyRing>> Create(std::vector<MasterKey> keys,
                                                       std::uint32_t active_id);
  // A ring with one fresh random key, id 1, active (for tests and first-time set-up).
  static std::shared_ptr<const KeyRing> Generate();

  // A new ring with every key of this one plus a fresh random key with id max(ids) + 1, which
  // becomes active. Fails (kInvalidArgument) only when the ids are exhausted.
  Result<std::shared_ptr<const KeyRing>> WithNewActiveKey() const;
  // A new ring with every key of this one but `id`. Fails (kInvalidArgument) if `id` is not in
  // the ring or is the active key (the active key cannot be retired).
  Result<std::shared_ptr<const KeyRing>> WithoutKey(std::uint32_t id) const;
  // True if both rings hold a key with this id and the two keys are byte for byte the same
  // (compared in constant time).
  bool SameKeyAs(const KeyRing& other, std::uint32_t id) const;

  std::uint32_t active_id() const { return keys_[active_index_].id(); }
  const MasterKey& active() const { return keys_[active_index_]; }
  // The key with this id, or nullptr. The pointer lives as long as the ring.
  const MasterKey* Find(std::uint32_t id) const;
  // Every key id, ascending.
  std::vector<std::uint32_t> ids() const;

 private:
  KeyRing(std::vector<MasterKey> keys, std::size_t active_index)
      : keys_(std::move(keys)), active_index_(active_index) {}

  std::vector<MasterKey> keys_;  // sorted by id
  std::size_t active_index_;
};

// Parses key file text (format above). `source` names the file in error messages. Errors are
// kInvalidArgument and name the line and what is wrong, never the key material.
Result<std::shared_ptr<const KeyRing>> ParseKeyRing(std::string_view text, std::string_view source);

// Loads a key file: checks that it is a regular file with mode 0600 or stricter, then parses
// it. Errors are kInvalidArgument with a message naming the file and the fix.
Result<std::shared_ptr<const KeyRing>> LoadKeyRingFile(const std::string& path);

// Writes a new key file (mode 0600) holding one fresh key, id 1, active. Refuses to touch an
// existing file (O_CREAT | O_EXCL). Errors are kInvalidArgument.
Result<void> CreateKeyRingFile(const std::string& path);

// Adds a fresh key (id = max + 1) to an existing key file and makes it active; the other keys
// stay. The file is replaced atomically (temporary file in the same directory, fsync, rename,
// fsync of the directory), so a crash leaves the old file or the new one. Comments in the old
// file are not kept. Returns the new active id. Errors are kInvalidArgument.
Result<std::uint32_t> AddKeyToRingFile(const std::string& path);

// Removes the key `id` from an existing key file (retires it), atomically and under the same
// lock as AddKeyToRingFile. Refuses (kInvalidArgument) if `id` is not in the file or is the
// active key. Whether stored values still depend on the key is the caller's question (see
// `token-service keys retire`): values wrapped under a removed key no longer open.
Result<void> RemoveKeyFromRingFile(const std::string& path, std::uint32_t id);

}  // namespace ts::crypto
