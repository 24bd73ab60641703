#include "service/key_rotation.h"

#include <algorithm>
#include <string>
#include <utility>

#include "service/key_check.h"

namespace ts::service {
namespace {

// A row that changes this often while we try to re-wrap it is being rewritten in a loop; the
// next pass (or `--resume`) will find it again.
constexpr int kMaxAttemptsPerRow = 10;
constexpr std::size_t kMaxFailedRowsListed = 10;

void NoteFailure(RewrapReport& report, const std::string& tenant, const std::string& id) {
  ++report.failed;
  if (report.failed_rows.size() < kMaxFailedRowsListed) report.failed_rows.push_back({tenant, id});
}

Result<void> RewrapKeyCheck(store::TokenStore& store, const crypto::ValueBarrier& barrier,
                            RewrapReport& report) {
  for (int attempt = 0; attempt < kMaxAttemptsPerRow; ++attempt) {
    auto stored = store.GetSetting(kKeyCheckSetting);
    if (!stored) return std::move(stored).error();
    if (!stored->has_value()) return Ok();
    const std::vector<std::uint8_t>& sealed = **stored;
    if (crypto::SealedKeyId(sealed) == report.active_key_id) return Ok();
    auto rewrapped = barrier.Rewrap(kKeyCheckTenant, kKeyCheckId, sealed);
    if (!rewrapped) {
      // The key check is what proves the key file belongs to this store: rotating on when it
      // does not open would move good values under keys that may be the wrong ones.
      Error e = Error::Invalid(
          "the key check stored in the database does not open with this key file; "
          "refusing to re-wrap anything");
      e.internal = rewrapped.error().internal;
      return e;
    }
    auto put = store.PutSetting(kKeyCheckSetting, *rewrapped, sealed);
    if (!put) return std::move(put).error();
    if (*put) {
      report.key_check_rewrapped = true;
      return Ok();
    }
  }
  return Error::Unavailable("the key check kept changing while being re-wrapped");
}

// Re-wraps one row on its own after its batch swap lost a race: re-read, re-wrap, swap again.
Result<void> RetryRow(store::TokenStore& store, const crypto::ValueBarrier& barrier,
                      const std::string& tenant, const std::string& id, RewrapReport& report) {
  for (int attempt = 0; attempt < kMaxAttemptsPerRow; ++attempt) {
    auto found = store.Get(tenant, id);
    if (!found) return std::move(found).error();
    if (!found->has_value()) {
      ++report.skipped;  // deleted meanwhile: nothing left to re-wrap
      return Ok();
    }
    const std::vector<std::uint8_t>& sealed = (*found)->sealed_value;
    store::SealedValueSwap swap{tenant, id, sealed, {}, report.active_key_id};
    if (crypto::SealedKeyId(sealed) == report.active_key_id) {
      if ((*found)->key_id == report.active_key_id) {
        ++report.skipped;  // rewritten by the service (or another rotation) under the new key
        return Ok();
      }
      swap.replacement = sealed;  // right bytes, stale bookkeeping: fix the key id only
    } else {
      auto rewrapped = barrier.Rewrap(tenant, id, sealed);
      if (!rewrapped) {
        NoteFailure(report, tenant, id);
        return Ok();
      }
      swap.replacement = std::move(rewrapped).value();
    }
    auto applied = store.SwapSealedValues(std::span<const store::SealedValueSwap>(&swap, 1));
    if (!applied) return std::move(applied).error();
    if (applied->at(0)) {
      ++report.rewrapped;
      return Ok();
    }
  }
  ++report.skipped;
  return Ok();
}

Result<void> AddKeyCheck(store::TokenStore& store, KeyUsage& usage) {
  auto check = KeyCheckKeyId(store);
  if (!check) return std::move(check).error();
  usage.key_check_key = *check;
  return Ok();
}

}  // namespace

Result<RewrapReport> RewrapToActiveKey(store::TokenStore& store,
                                       const crypto::ValueBarrier& barrier,
                                       const RewrapOptions& options,
                                       const RewrapProgress& progress) {
  RewrapReport report;
  report.active_key_id = barrier.ActiveKeyId();
  if (report.active_key_id == 0) return Error::Internal("rewrap: the barrier has no key ring");
  const std::size_t batch_size = std::max<std::size_t>(options.batch_size, 1);

  if (auto checked = RewrapKeyCheck(store, barrier, report); !checked) {
    return std::move(checked).error();
  }
  auto counts = store.CountSealedValuesByKeyId();
  if (!counts) return std::move(counts).error();
  for (const auto& [key_id, count] : *counts) {
    if (key_id != report.active_key_id) report.total += count;
  }
  if (progress) progress(report);

  std::optional<store::SealedValueKey> after;
  for (;;) {
    auto rows = store.ListSealedValues(after, batch_size, report.active_key_id);
    if (!rows) return std::move(rows).error();
    if (rows->empty()) break;
    after = store::SealedValueKey{rows->back().tenant, rows->back().id};

    std::vector<store::SealedValueSwap> swaps;
    swaps.reserve(rows->size());
    for (store::SealedValueRow& row : *rows) {
      if (options.stop_after &&
          report.rewrapped + static_cast<std::int64_t>(swaps.size()) >= *options.stop_after) {
        break;
      }
      store::SealedValueSwap swap{row.tenant, row.id, row.sealed_value, {}, report.active_key_id};
      if (crypto::SealedKeyId(row.sealed_value) == report.active_key_id) {
        // The bytes are already under the active key but the bookkeeping says otherwise.
        swap.replacement = row.sealed_value;
      } else {
        auto rewrapped = barrier.Rewrap(row.tenant, row.id, row.sealed_value);
        if (!rewrapped) {
          NoteFailure(report, row.tenant, row.id);
          continue;
        }
        swap.replacement = std::move(rewrapped).value();
      }
      swaps.push_back(std::move(swap));
    }
    auto applied = store.SwapSealedValues(swaps);
    if (!applied) return std::move(applied).error();
    for (std::size_t i = 0; i < swaps.size(); ++i) {
      if (applied->at(i)) {
        ++report.rewrapped;
        continue;
      }
      if (auto retried = RetryRow(store, barrier, swaps[i].tenant, swaps[i].id, report); !retried) {
        return std::move(retried).error();
      }
    }
    report.total = std::max(report.total, report.done());
    if (progress) progress(report);
    if (options.stop_after && report.rewrapped >= *options.stop_after) {
      report.stopped = true;
      break;
    }
  }
  return report;
}

Result<KeyUsage> CountKeyUsage(store::TokenStore& store) {
  KeyUsage usage;
  auto counts = store.CountSealedValuesByKeyId();
  if (!counts) return std::move(counts).error();
  usage.values_by_key = std::move(counts).value();
  if (auto checked = AddKeyCheck(store, usage); !checked) return std::move(checked).error();
  return usage;
}

Result<KeyUsage> ScanKeyUsage(store::TokenStore& store, std::size_t batch_size,
                              const ScanProgress& progress) {
  KeyUsage usage;
  std::int64_t scanned = 0;
  std::optional<store::SealedValueKey> after;
  for (;;) {
    auto rows = store.ListSealedValues(after, std::max<std::size_t>(batch_size, 1), std::nullopt);
    if (!rows) return std::move(rows).error();
    if (rows->empty()) break;
    after = store::SealedValueKey{rows->back().tenant, rows->back().id};
    for (const store::SealedValueRow& row : *rows) {
      ++usage.values_by_key[crypto::SealedKeyId(row.sealed_value).value_or(0)];
    }
    scanned += static_cast<std::int64_t>(rows->size());
    if (progress) progress(scanned);
  }
  if (auto checked = AddKeyCheck(store, usage); !checked) return std::move(checked).error();
  return usage;
}

}  // namespace ts::service
