// The errors every resource's write use cases share: If-Match failures, lost optimistic locks,
// absent resources, refused deletes of referenced resources, and the audit outcome of an error.
// `noun` is the resource as a message names it ("token", "MCP server"). Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/token_store.h"

namespace ts::service {

Error PreconditionFailedError(std::string_view noun, const std::string& id);
Error VersionConflictError(std::string_view noun);
// "<Noun> with id <id> not found" (the noun capitalized), then `more` if given.
Error NotFoundError(std::string_view noun, const std::string& id, std::string_view more = {});

// The 400 of a refused delete: one detail per referrer, naming its kind, id and field.
Error ReferencedError(std::string_view noun, const std::string& id,
                      const std::vector<store::Referrer>& referrers);

// The 400 of an MCP server update that would disable a server enabled agents use, without
// `force`: one detail per agent, naming where it uses the server.
Error EnabledUsersError(const std::string& mcp_server_id,
                        const std::vector<store::Referrer>& agents);

// The audit log's outcome word for an error.
std::string_view AuditOutcomeOf(const Error& e);

// What a delete's store outcome means for the caller: the answer (absent and deleted are both
// success: deletes are idempotent) and the audit log's outcome word.
struct DeleteAnswer {
  Result<void> result;
  std::string_view audit_outcome;
};
DeleteAnswer AnswerDelete(std::string_view noun, const std::string& id,
                          const store::DeleteResult& deleted);

}  // namespace ts::service
