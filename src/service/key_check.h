// The key check: a constant sealed by the value barrier at a store's first start and kept in the
// store's settings, so that every later start (and every key command) can prove that the master
// key file belongs to this database before serving anything. A wrong or replaced key file then
// stops start-up with a clear message instead of answering 500 for every value, and a fresh key
// is never silently used for an existing store. Key rotation re-wraps the key check like any
// stored value, and a key that the key check still needs cannot be retired.
//
// The key check is sealed at tenant "" (no tenant name is empty, so no token can ever occupy
// that place) and id kKeyCheckId.
// Thread-safe: stateless functions over thread-safe collaborators.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "crypto/value_barrier.h"
#include "store/token_store.h"

namespace ts::service {

inline constexpr std::string_view kKeyCheckSetting = "key_check";
inline constexpr std::string_view kKeyCheckTenant = "";
inline constexpr std::string_view kKeyCheckId = "__key_check__";

enum class KeyCheckOutcome {
  kVerified,  // the stored key check opened
  kCreated,   // there was none; it was sealed now (first start, or a store from before key checks)
};

// Opens the store's key check with `barrier`; if the store has none yet, first makes sure the
// keys open an existing value (if there is one), then seals and stores a new key check.
// Errors: kInvalidArgument when the keys do not match the store (the message says which key id
// is missing or wrong, never any key material); other codes for store failures.
Result<KeyCheckOutcome> VerifyOrCreateKeyCheck(store::TokenStore& store,
                                               const crypto::ValueBarrier& barrier);

// Only verifies (never writes): the store's key check, if present, opens with `barrier`.
Result<void> VerifyKeyCheck(store::TokenStore& store, const crypto::ValueBarrier& barrier);

// The master key id the stored key check depends on, or nullopt if there is none.
Result<std::optional<std::uint32_t>> KeyCheckKeyId(store::TokenStore& store);

}  // namespace ts::service
