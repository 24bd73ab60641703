// TokenStore: the storage seam for tokens. Implementations (SQLite, PostgreSQL) keep tokens
// per tenant with their metadata and the *sealed* (encrypted) value; they never see plaintext.
// Filtering, sorting and paging run inside the store. Optimistic locking is enforced by the
// database itself (`UPDATE ... WHERE version = ?`), never by an in-process lock, so several
// processes may share one database.
//
// Besides tokens, a store keeps what key rotation needs, all of it opaque bytes to the store:
//   - settings: a few named blobs (e.g. the sealed "key check" that proves at start-up that the
//     master key file belongs to this database), written with compare-and-swap;
//   - the master key id each sealed value depends on (TokenRecord::key_id, kept beside the
//     sealed bytes), so "how many values still need key N" is a cheap count;
//   - a scan of sealed values in (tenant, id) order and a batch compare-and-swap replacement of
//     sealed values, so a rotation re-wraps rows while the service keeps writing: a row that
//     changed since it was read is left alone and reported, never overwritten.
// The store never interprets sealed bytes; the caller (service/) derives key ids with
// crypto::SealedKeyId.
//
// Thread-safety: every method may be called concurrently from many threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "domain/token.h"
#include "query/query.h"

namespace ts::store {

struct TokenRecord {
  domain::Token token;
  std::vector<std::uint8_t> sealed_value;  // ciphertext from crypto::ValueBarrier
  // Master key id sealed_value depends on (crypto::SealedKeyId); 0 if unknown. Bookkeeping for
  // key rotation only: decryption always reads the id from the sealed bytes themselves.
  std::uint32_t key_id = 0;
};

// Where a sealed value lives; (tenant, id) order is bytewise, tenant first.
struct SealedValueKey {
  std::string tenant;
  std::string id;
};

struct SealedValueRow {
  std::string tenant;
  std::string id;
  std::vector<std::uint8_t> sealed_value;
  std::uint32_t key_id = 0;
};

// Replace `expected` by `replacement` at (tenant, id), only if the stored bytes still equal
// `expected` byte for byte.
struct SealedValueSwap {
  std::string tenant;
  std::string id;
  std::vector<std::uint8_t> expected;
  std::vector<std::uint8_t> replacement;
  std::uint32_t replacement_key_id = 0;
};

struct ListQuery {
  std::string tenant;
  query::Query filter;
  std::vector<query::SortKey> sort;  // already total (ends with id)
  std::int64_t limit = 60;
  std::int64_t offset = 0;
  bool count_total = false;
};

// One page of a list, of any resource.
template <typename Item>
struct Page {
  std::vector<Item> items;
  std::optional<std::int64_t> total;  // set when ListQuery::count_total
};
using ListPage = Page<domain::Token>;

// kReferenced: the resource is referenced and the request did not ask to remove references;
// nothing was deleted.
enum class DeleteOutcome { kDeleted, kAbsent, kVersionMismatch, kReferenced };

// A resource that references the one being deleted, for the 400 of a refused delete.
struct Referrer {
  std::string kind;  // "mcpServer" or "agent"
  std::string id;
  std::string field;  // the referring field as the API spells it
  friend bool operator==(const Referrer&, const Referrer&) = default;
};

enum class ReferencePolicy {
  kRefuse,  // referenced: delete nothing, report every referrer
  kRemove,  // `force=true`: remove the reference from every referrer, then delete
};

struct DeleteRequest {
  std::optional<std::int64_t> expected_version;  // delete only this version (If-Match)
  ReferencePolicy references = ReferencePolicy::kRefuse;
  std::int64_t now_ms = 0;  // modifiedAt of referrers whose reference is removed
};

struct DeleteResult {
  DeleteOutcome outcome = DeleteOutcome::kAbsent;
  // kReferenced: every referrer; kDeleted with kRemove: the referrers that were updated (each
  // got version + 1 and modifiedAt = now_ms). Sorted by kind, id, field.
  std::vector<Referrer> referrers;
};

class TokenStore {
 public:
  virtual ~TokenStore() = default;

  virtual Result<std::optional<TokenRecord>> Get(std::string_view tenant, std::string_view id) = 0;
  virtual Result<ListPage> List(const ListQuery& query) = 0;

  // Inserts a new token (version 1 expected in record). kConflict if (tenant, id) exists.
  virtual Result<void> Insert(std::string_view tenant, const TokenRecord& record) = 0;

  // Replaces name and modifiedAt and sets version = expected_version + 1, atomically, only if
  // the stored version equals expected_version. kConflict otherwise (including a vanished row).
  virtual Result<void> Update(std::string_view tenant, const domain::Token& updated,
                              std::int64_t expected_version) = 0;

  // Deletes (tenant, id) in one transaction together with what request.references says about
  // its referrers (MCP servers naming it in config.authorizationHeaderToken, agents naming it in
  // llmConfig.token or llmConfig.selfHostedParams.authorizationHeaderToken). With
  // expected_version, deletes only if it matches (checked before any referrer is looked at).
  // Safe against concurrent referrer writes on any number of replicas: no reference is ever
  // left dangling (the database's foreign keys guarantee it), and a referrer write prepared
  // against the version this delete replaced fails with kConflict.
  virtual Result<DeleteResult> Delete(std::string_view tenant, std::string_view id,
                                      const DeleteRequest& request) = 0;

  // Cheap liveness check of the underlying database.
  virtual Result<void> Ping() = 0;

  // --- Settings: small named blobs, at most a few KiB each. ---

  // The setting's bytes, or nullopt if it was never written.
  virtual Result<std::optional<std::vector<std::uint8_t>>> GetSetting(std::string_view name) = 0;
  // Compare-and-swap: writes `value` only if the setting is absent (`expected` nullopt) or its
  // bytes equal *expected. Returns false, writing nothing, if that precondition failed.
  virtual Result<bool> PutSetting(std::string_view name, std::span<const std::uint8_t> value,
                                  const std::optional<std::vector<std::uint8_t>>& expected) = 0;

  // --- Sealed values, across all tenants, for key rotation. ---

  // Up to `limit` (>= 1) rows in ascending (tenant, id) order, strictly after `after` (from the
  // start if nullopt), skipping rows whose key_id is `skip_key_id` when one is given. Keyset
  // pagination: pass the last row's (tenant, id) as the next `after`. Each call is its own
  // snapshot; rows written meanwhile may or may not show up in later pages.
  virtual Result<std::vector<SealedValueRow>> ListSealedValues(
      const std::optional<SealedValueKey>& after, std::size_t limit,
      std::optional<std::uint32_t> skip_key_id) = 0;
  // Applies each swap (see SealedValueSwap) atomically; the batch runs in one transaction.
  // result[i] tells whether swaps[i] was applied; false means the row changed or vanished since
  // `expected` was read (re-read it and try again). Name, version and timestamps are untouched.
  virtual Result<std::vector<bool>> SwapSealedValues(std::span<const SealedValueSwap> swaps) = 0;
  // How many sealed values depend on each master key id (TokenRecord::key_id), one snapshot.
  virtual Result<std::map<std::uint32_t, std::int64_t>> CountSealedValuesByKeyId() = 0;
};

}  // namespace ts::store
