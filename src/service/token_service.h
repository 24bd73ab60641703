// TokenService: the Token use cases (read, list, upsert with optimistic locking, patch,
// delete) on top of a TokenStore and the ValueBarrier. Knows nothing about HTTP or JSON.
// Every write is one store transaction; locking is enforced by the store (`WHERE version=?`),
// so a write prepared against version N that meets N+1 at commit is a conflict on any
// number of replicas.
// Thread-safe: holds only references to thread-safe collaborators.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "crypto/value_barrier.h"
#include "domain/token.h"
#include "service/audit_log.h"
#include "service/mismatch_throttle.h"
#include "store/token_store.h"

namespace ts::service {

// Who is asking, for the audit log and the mismatch throttle.
struct Caller {
  std::string tenant;
  std::string subject;
  std::string request_id;
};

// An HTTP If-Match precondition: `*` (any existing version) or a list of versions.
struct Precondition {
  bool any = false;
  std::vector<std::int64_t> versions;
  bool Matches(std::int64_t version) const;
};

struct UpsertCommand {
  std::string id;
  std::string name;
  std::optional<crypto::SecretBytes> value;
  std::optional<std::int64_t> expected_version;  // body metadata.version
  std::optional<Precondition> if_match;
};

struct WriteResult {
  bool created = false;
  std::int64_t version = 0;
};

class TokenService {
 public:
  TokenService(store::TokenStore& store, const crypto::ValueBarrier& barrier, const Clock& clock,
               AuditLog& audit, MismatchThrottle& throttle);

  Result<domain::Token> Get(const std::string& tenant, const std::string& id);
  Result<store::ListPage> List(const store::ListQuery& query);

  // Created or updated; errors 400 (value rules), 404 (version on an absent token), 409,
  // 412. `delay` is how long the answer must be held back (repeated value mismatches).
  struct UpsertOutcome {
    Result<WriteResult> result;
    std::chrono::milliseconds delay{0};
  };
  UpsertOutcome Upsert(const Caller& caller, UpsertCommand command);

  Result<WriteResult> Patch(const Caller& caller, const std::string& id,
                            const std::vector<domain::PatchOperation>& ops,
                            const std::optional<Precondition>& if_match);

  // Idempotent: deleting an absent token succeeds (unless If-Match was given: 412). A token
  // referenced by an MCP server is a 400 listing every referrer, unless `force`: then the
  // references are removed (each referrer's version + 1) in the same transaction.
  Result<void> Delete(const Caller& caller, const std::string& id, bool force,
                      const std::optional<Precondition>& if_match);

 private:
  void Audit(const Caller& caller, std::string_view action, std::string_view id,
             std::string_view outcome);

  store::TokenStore& store_;
  const crypto::ValueBarrier& barrier_;
  const Clock& clock_;
  AuditLog& audit_;
  MismatchThrottle& throttle_;
};

}  // namespace ts::service
