// McpServerService: the MCP server use cases (read, list, upsert with optimistic locking,
// delete) on top of the Store, and the token expansion of `expand=token`. Knows nothing about
// HTTP or JSON. Rules of the resource itself are domain::ValidateMcpServer; whether a
// referenced token exists is decided by the store inside the write transaction.
// Thread-safe: holds only references to thread-safe collaborators.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "domain/mcp_server.h"
#include "domain/token.h"
#include "service/audit_log.h"
#include "service/token_service.h"
#include "store/mcp_server_store.h"

namespace ts::service {

struct McpServerUpsertCommand {
  domain::McpServer server;  // id and the writable fields; server.metadata is ignored
  std::optional<std::int64_t> expected_version;  // body metadata.version
  std::optional<Precondition> if_match;
};

class McpServerService {
 public:
  McpServerService(store::Store& store, const Clock& clock, AuditLog& audit);

  Result<domain::McpServer> Get(const std::string& tenant, const std::string& id);
  Result<store::Page<domain::McpServer>> List(const store::ListQuery& query);

  // Created (201) or updated (204); errors 400 (validation, a token that does not exist in
  // the tenant: naming config.authorizationHeaderToken.id), 404 (metadata.version on an absent
  // server), 409, 412.
  Result<WriteResult> Upsert(const Caller& caller, McpServerUpsertCommand command);

  // Applies the operations (domain::ApplyMcpServerPatch) to the stored server and writes the
  // result under the version it was read at: 404 absent, 412 If-Match, 409 a concurrent write,
  // 400 invalid operations or a token that does not exist in the tenant.
  Result<WriteResult> Patch(const Caller& caller, const std::string& id,
                            const std::vector<domain::PatchOperation>& ops,
                            const std::optional<Precondition>& if_match);

  // Idempotent like the token delete. Nothing references an MCP server yet (agents will), so
  // `force` is accepted and changes nothing today.
  Result<void> Delete(const Caller& caller, const std::string& id, bool force,
                      const std::optional<Precondition>& if_match);

  // For `expand=token`: the public projection (id, name, metadata; never a value) of every
  // token the servers reference, by id. A token deleted since the servers were read is absent.
  Result<std::map<std::string, domain::Token>> ReferencedTokens(
      const std::string& tenant, const std::vector<domain::McpServer>& servers);

 private:
  void Audit(const Caller& caller, std::string_view action, std::string_view id,
             std::string_view outcome);

  store::Store& store_;
  const Clock& clock_;
  AuditLog& audit_;
};

}  // namespace ts::service
