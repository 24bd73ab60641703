// AgentStore: the storage seam for agents. An agent may reference tokens of its tenant
// (llmConfig.token, llmConfig.selfHostedParams.authorizationHeaderToken) and MCP servers of its
// tenant (mcpServers[i].mcpServer). As for MCP servers, the database enforces with foreign keys
// that every referenced row exists, so no interleaving of writers on any number of replicas
// leaves a reference dangling. Optimistic locking: `UPDATE ... WHERE version = ?`.
//
// Storage layout (both backends, docs/design-references.md §3): the fields `q` and `sort` use
// and the token references are columns of `agents`; every other field is one JSON document
// (store/agent_doc.h); each custom MCP server an agent uses is also a row of
// `agent_mcp_servers (tenant, agent_id, mcp_server_id)`, the foreign-key guard and the index of
// "who uses MCP server X".
//
// Thread-safety: every method may be called concurrently from many threads.
#pragma once

#include <optional>
#include <string_view>

#include "common/result.h"
#include "domain/agent.h"
#include "store/token_store.h"

namespace ts::store {

class AgentStore {
 public:
  virtual ~AgentStore() = default;

  virtual Result<std::optional<domain::Agent>> GetAgent(std::string_view tenant,
                                                        std::string_view id) = 0;

  // Filters, sorts and pages as TokenStore::List, over domain::AgentSchema() fields.
  virtual Result<Page<domain::Agent>> ListAgents(const ListQuery& query) = 0;

  // Inserts a new agent (version 1 expected). kConflict if (tenant, id) exists;
  // kInvalidArgument naming the field (e.g. "llmConfig.token.id",
  // "mcpServers[1].mcpServer.id") of the first reference, in domain::ReferencesOf order, whose
  // target does not exist in the tenant.
  virtual Result<void> InsertAgent(std::string_view tenant, const domain::Agent& agent) = 0;

  // Replaces every writable field and modifiedAt, and sets version = expected_version + 1,
  // atomically, only if the stored version equals expected_version: kConflict otherwise
  // (including a vanished row). kInvalidArgument as for InsertAgent.
  virtual Result<void> UpdateAgent(std::string_view tenant, const domain::Agent& updated,
                                   std::int64_t expected_version) = 0;

  // As TokenStore::Delete. Nothing references an agent, so the outcome is never kReferenced.
  virtual Result<DeleteResult> DeleteAgent(std::string_view tenant, std::string_view id,
                                           const DeleteRequest& request) = 0;
};

}  // namespace ts::store
