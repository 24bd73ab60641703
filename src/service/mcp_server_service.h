// McpServerService: the MCP server use cases (ResourceService: read, list, upsert with
// optimistic locking, patch, delete honouring the agents that use a server) and the token
// expansion of `expand=token`. Knows nothing about HTTP or JSON. Rules of the resource itself
// are domain::ValidateMcpServer; whether a referenced token exists is decided by the store
// inside the write transaction.
// Thread-safe: holds only references to thread-safe collaborators.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "domain/mcp_server.h"
#include "service/resource_service.h"

namespace ts::service {

struct McpServerTraits {
  using Resource = domain::McpServer;
  static constexpr std::string_view kNoun = "MCP server";
  static constexpr std::string_view kArticle = "An";
  static constexpr std::string_view kAuditPrefix = "mcp_server";
  static Result<void> Validate(const Resource& server);
  static Result<Resource> ApplyPatch(const Resource& current,
                                     const std::vector<domain::PatchOperation>& ops);
  static Result<std::optional<Resource>> Get(store::Store& store, std::string_view tenant,
                                             std::string_view id);
  static Result<store::Page<Resource>> List(store::Store& store, const store::ListQuery& query);
  static Result<void> Insert(store::Store& store, std::string_view tenant, const Resource& server);
  // Disabling a server that enabled agents use is a 400 naming them, unless `force`: then they
  // are disabled too, in the same transaction.
  static Result<void> Update(store::Store& store, std::string_view tenant, const Resource& server,
                             std::int64_t expected_version, bool force);
  static Result<store::DeleteResult> Delete(store::Store& store, std::string_view tenant,
                                            std::string_view id,
                                            const store::DeleteRequest& request);
};

using McpServerUpsertCommand = ResourceUpsert<domain::McpServer>;

class McpServerService : public ResourceService<McpServerTraits> {
 public:
  using ResourceService::ResourceService;

  // For `expand=token`: the public projection (id, name, metadata; never a value) of every
  // token the servers reference, by id. A token deleted since the servers were read is absent.
  Result<std::map<std::string, domain::Token>> ReferencedTokens(
      const std::string& tenant, const std::vector<domain::McpServer>& servers);
};

extern template class ResourceService<McpServerTraits>;

}  // namespace ts::service
