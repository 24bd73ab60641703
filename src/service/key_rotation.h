// Key rotation over a store: re-wrapping every sealed value (and the key check) under the
// barrier's active master key, and counting which master keys stored values depend on.
//
// A pass walks the rows not yet under the active key in (tenant, id) order, in batches, and
// replaces each row's sealed bytes with a compare-and-swap (TokenStore::SwapSealedValues): a row
// that the running service rewrote meanwhile is re-read and tried again, never overwritten. Only
// the wrapped data key changes (crypto::ValueBarrier::Rewrap), so the value itself is untouched.
// A pass is idempotent and can be interrupted at any row: running it again (`keys rotate
// --resume`) finishes what is left. Rows that do not open (altered, or under a key the ring
// lacks) keep their bytes and are reported.
// Thread-safe: stateless functions; the store and barrier are thread-safe. Several passes may
// even run at once (in one or several processes): the compare-and-swap keeps them correct.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "common/result.h"
#include "crypto/value_barrier.h"
#include "store/token_store.h"

namespace ts::service {

struct RewrapOptions {
  std::size_t batch_size = 500;  // rows per read and per write transaction, >= 1
  // For tests only: stop the pass once this many rows were re-wrapped, as a crash would.
  std::optional<std::int64_t> stop_after;
};

struct RewrapReport {
  std::uint32_t active_key_id = 0;
  std::int64_t total = 0;      // rows to visit: not under the active key when the pass began
                               // (grows if the service writes old-key rows meanwhile)
  std::int64_t rewrapped = 0;  // rows this pass moved to the active key
  std::int64_t skipped = 0;    // rows that vanished, were already moved, or kept changing
  std::int64_t failed = 0;     // rows that do not open; they keep their old bytes
  std::vector<store::SealedValueKey> failed_rows;  // the first few of them
  bool key_check_rewrapped = false;
  bool stopped = false;  // RewrapOptions::stop_after was reached

  std::int64_t done() const { return rewrapped + skipped + failed; }
};

// Called after every batch with the report so far (for progress output).
using RewrapProgress = std::function<void(const RewrapReport&)>;

// One pass: re-wraps the key check and every sealed value not under barrier.ActiveKeyId().
// Store errors abort the pass (kUnavailable, kInternal); what was swapped stays swapped.
Result<RewrapReport> RewrapToActiveKey(store::TokenStore& store,
                                       const crypto::ValueBarrier& barrier,
                                       const RewrapOptions& options,
                                       const RewrapProgress& progress = {});

struct KeyUsage {
  // Stored values per master key id. Id 0 counts values whose key id is unknown (bytes not in a
  // known sealed format).
  std::map<std::uint32_t, std::int64_t> values_by_key;
  std::optional<std::uint32_t> key_check_key;  // the key the key check needs, if there is one
};

// From the store's key id bookkeeping (TokenStore::CountSealedValuesByKeyId): cheap.
Result<KeyUsage> CountKeyUsage(store::TokenStore& store);
// From the sealed bytes themselves (crypto::SealedKeyId on every row): reads every value, so it
// is slow on a large store, but it does not trust the bookkeeping. `keys retire` uses it before
// it removes a key.
// `progress`, if given, is called after every batch with the number of values read so far.
using ScanProgress = std::function<void(std::int64_t scanned)>;
Result<KeyUsage> ScanKeyUsage(store::TokenStore& store, std::size_t batch_size = 1000,
                              const ScanProgress& progress = {});

}  // namespace ts::service
