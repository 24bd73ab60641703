// TokenStore: the storage seam. Implementations (SQLite now, PostgreSQL later) keep tokens
// per tenant with their metadata and the *sealed* (encrypted) value; they never see plaintext.
// Filtering, sorting and paging run inside the store. Optimistic locking is enforced by the
// database itself (`UPDATE ... WHERE version = ?`), never by an in-process lock, so several
// processes may share one database.
// Thread-safety: every method may be called concurrently from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
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
};

struct ListQuery {
  std::string tenant;
  query::Query filter;
  std::vector<query::SortKey> sort;  // already total (ends with id)
  std::int64_t limit = 60;
  std::int64_t offset = 0;
  bool count_total = false;
};

struct ListPage {
  std::vector<domain::Token> items;
  std::optional<std::int64_t> total;  // set when ListQuery::count_total
};

enum class DeleteOutcome { kDeleted, kAbsent, kVersionMismatch };

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

  // Deletes (tenant, id). With expected_version, deletes only if it matches.
  virtual Result<DeleteOutcome> Delete(std::string_view tenant, std::string_view id,
                                       std::optional<std::int64_t> expected_version) = 0;

  // Cheap liveness check of the underlying database.
  virtual Result<void> Ping() = 0;
};

}  // namespace ts::store
