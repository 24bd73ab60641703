// Internal to src/crypto: one-time libsodium initialization shared by the crypto sources.
// Thread-safe (the initialization runs once, in a function-local static).
#pragma once

namespace ts::crypto::internal {

// True once sodium_init() has succeeded; the first call performs it.
bool SodiumReady();

// For entry points that cannot return an Error (constructors, bool functions): without
// libsodium there is no safe randomness, so the process stops rather than run insecurely.
void RequireSodium();

}  // namespace ts::crypto::internal
