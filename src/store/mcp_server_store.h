// McpServerStore: the storage seam for MCP servers. An MCP server may reference a token of its
// tenant (config.authorizationHeaderToken); the database enforces that the token exists with a
// foreign key, so no interleaving of writers, on any number of replicas, leaves a reference
// dangling (docs/design-references.md). Optimistic locking as for tokens:
// `UPDATE ... WHERE version = ?` inside the database.
//
// Thread-safety: every method may be called concurrently from many threads.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "domain/mcp_server.h"
#include "metrics/store_metrics.h"
#include "store/agent_store.h"
#include "store/token_store.h"

namespace ts::store {

// What UpdateMcpServer did about the enabled agents using a server it disables.
struct McpServerUpdateResult {
  bool refused = false;  // nothing was written
  // The enabled agents using the server, each with the field naming it
  // ("mcpServers[i].mcpServer.id"), sorted by id; empty unless the update disables the server.
  std::vector<Referrer> enabled_users;
};

class McpServerStore {
 public:
  virtual ~McpServerStore() = default;

  virtual Result<std::optional<domain::McpServer>> GetMcpServer(std::string_view tenant,
                                                                std::string_view id) = 0;

  // Filters, sorts and pages as TokenStore::List, over domain::McpServerSchema() fields.
  virtual Result<Page<domain::McpServer>> ListMcpServers(const ListQuery& query) = 0;

  // Inserts a new server (version 1 expected). kConflict if (tenant, id) exists;
  // kInvalidArgument naming config.authorizationHeaderToken.id if that token does not exist
  // in the tenant.
  virtual Result<void> InsertMcpServer(std::string_view tenant,
                                       const domain::McpServer& server) = 0;

  // Replaces every writable field and modifiedAt, and sets version = expected_version + 1,
  // atomically, only if the stored version equals expected_version: kConflict otherwise
  // (including a vanished row). kInvalidArgument as for InsertMcpServer.
  // An update that disables the server (the stored version is enabled, `updated` is not) while
  // enabled agents use it is the vendor's "force" case: with ReferencePolicy::kRefuse nothing is
  // written and the result lists those agents (refused); with kRemove they are disabled in the
  // same transaction (enabled false, version + 1, modifiedAt = updated.metadata.modified_at_ms)
  // and the result lists them.
  virtual Result<McpServerUpdateResult> UpdateMcpServer(std::string_view tenant,
                                                        const domain::McpServer& updated,
                                                        std::int64_t expected_version,
                                                        ReferencePolicy enabled_users) = 0;

  // As TokenStore::Delete; the referrers are agents using the server (field
  // "mcpServers[i].mcpServer.id", i its index in the agent's list). Removing the reference
  // removes the whole entry from the agent's mcpServers.
  virtual Result<DeleteResult> DeleteMcpServer(std::string_view tenant, std::string_view id,
                                               const DeleteRequest& request) = 0;
};

// What a backend offers: every resource's store over one database, so that a write touching
// several resources (a forced delete) is one transaction.
class Store : public TokenStore, public McpServerStore, public AgentStore {
 public:
  // Usage of the backend's connection pool for /metrics, or nullopt if it has none worth
  // reporting. A cheap snapshot (no database call); thread-safe.
  virtual std::optional<metrics::PoolUsage> ConnectionPoolUsage() const { return std::nullopt; }
  // Group commit figures of a backend that batches writes (SQLite), or nullopt. Cheap;
  // thread-safe.
  virtual std::optional<metrics::WriteBatchUsage> WriteBatchUsage() const { return std::nullopt; }
};

}  // namespace ts::store
