#include "service/key_check.h"

#include <string>
#include <utility>
#include <vector>

#include "crypto/key_ring.h"

namespace ts::service {
namespace {

// Not a secret: the check proves possession of the key, not knowledge of this text.
constexpr std::string_view kKeyCheckPlaintext = "token-service key check v1";

// Turns a failed Open into a message that says what is wrong with the keys: which key id the
// store needs and whether the ring lacks it or holds a different key under it.
Error Mismatch(const crypto::ValueBarrier& barrier, const std::vector<std::uint8_t>& sealed,
               std::string_view what) {
  std::string message(what);
  const auto needed = crypto::SealedKeyId(sealed);
  const auto ring = barrier.Keys();
  if (!needed) {
    message += " is not in a known sealed format (the database may be damaged)";
  } else if (ring == nullptr || ring->Find(*needed) == nullptr) {
    message += " needs master key id " + std::to_string(*needed) + ", which is not in the key file";
  } else {
    message += " does not open with master key id " + std::to_string(*needed) +
               " of the key file: that key is not the one the database was written with";
  }
  return Error::Invalid(std::move(message));
}

}  // namespace

Result<void> VerifyKeyCheck(store::TokenStore& store, const crypto::ValueBarrier& barrier) {
  auto stored = store.GetSetting(kKeyCheckSetting);
  if (!stored) return std::move(stored).error();
  if (!stored->has_value()) return Ok();
  const std::vector<std::uint8_t>& sealed = **stored;
  auto opened = barrier.Open(kKeyCheckTenant, kKeyCheckId, sealed);
  if (!opened) return Mismatch(barrier, sealed, "the key check stored in the database");
  if (opened->view() != kKeyCheckPlaintext) {
    return Error::Invalid("the key check stored in the database opened but holds unexpected text");
  }
  return Ok();
}

Result<KeyCheckOutcome> VerifyOrCreateKeyCheck(store::TokenStore& store,
                                               const crypto::ValueBarrier& barrier) {
  // Two processes starting on a new store at once both try to create it; the loser of the
  // compare-and-swap verifies the winner's instead. Two rounds always suffice.
  for (int round = 0; round < 2; ++round) {
    auto stored = store.GetSetting(kKeyCheckSetting);
    if (!stored) return std::move(stored).error();
    if (stored->has_value()) {
      if (auto verified = VerifyKeyCheck(store, barrier); !verified) {
        return std::move(verified).error();
      }
      return KeyCheckOutcome::kVerified;
    }
    // No key check yet. If the store already holds values (written before key checks existed),
    // the keys must open one of them, or a wrong key file would be enshrined as the right one.
    auto first = store.ListSealedValues(std::nullopt, 1, std::nullopt);
    if (!first) return std::move(first).error();
    if (!first->empty()) {
      const store::SealedValueRow& row = first->front();
      if (auto opened = barrier.Open(row.tenant, row.id, row.sealed_value); !opened) {
        return Mismatch(barrier, row.sealed_value, "the stored value of a token");
      }
    }
    auto sealed = barrier.Seal(kKeyCheckTenant, kKeyCheckId, kKeyCheckPlaintext);
    if (!sealed) return std::move(sealed).error();
    auto put = store.PutSetting(kKeyCheckSetting, *sealed, std::nullopt);
    if (!put) return std::move(put).error();
    if (*put) return KeyCheckOutcome::kCreated;
  }
  return Error::Internal("key check: the setting keeps changing while it is being created");
}

Result<std::optional<std::uint32_t>> KeyCheckKeyId(store::TokenStore& store) {
  auto stored = store.GetSetting(kKeyCheckSetting);
  if (!stored) return std::move(stored).error();
  if (!stored->has_value()) return std::optional<std::uint32_t>();
  auto id = crypto::SealedKeyId(**stored);
  if (!id) return Error::Internal("key check: the stored bytes are not in a known sealed format");
  return std::optional<std::uint32_t>(*id);
}

}  // namespace ts::service
