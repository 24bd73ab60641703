// AgentService: the agent use cases (ResourceService: read, list, upsert with optimistic
// locking, patch, delete) and the expansions of `expand=token` and `expand=mcpServers`. Knows
// nothing about HTTP or JSON. Rules of the resource itself are domain::ValidateAgent; whether
// the referenced tokens and MCP servers exist is decided by the store inside the write
// transaction. Thread-safe: holds only references to thread-safe collaborators.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "domain/agent.h"
#include "domain/mcp_server.h"
#include "service/resource_service.h"

namespace ts::service {

struct AgentTraits {
  using Resource = domain::Agent;
  static constexpr std::string_view kNoun = "agent";
  static constexpr std::string_view kArticle = "An";
  static constexpr std::string_view kAuditPrefix = "agent";
  static Result<void> Validate(const Resource& agent);
  static Result<Resource> ApplyPatch(const Resource& current,
                                     const std::vector<domain::PatchOperation>& ops);
  static Result<std::optional<Resource>> Get(store::Store& store, std::string_view tenant,
                                             std::string_view id);
  static Result<store::Page<Resource>> List(store::Store& store, const store::ListQuery& query);
  static Result<void> Insert(store::Store& store, std::string_view tenant, const Resource& agent);
  // `force` has no meaning for agents and is ignored.
  static Result<void> Update(store::Store& store, std::string_view tenant, const Resource& agent,
                             std::int64_t expected_version, bool force);
  static Result<store::DeleteResult> Delete(store::Store& store, std::string_view tenant,
                                            std::string_view id,
                                            const store::DeleteRequest& request);
};

using AgentUpsertCommand = ResourceUpsert<domain::Agent>;

class AgentService : public ResourceService<AgentTraits> {
 public:
  using ResourceService::ResourceService;

  // For `expand=token`: the public projection (id, name, metadata; never a value) of every
  // token the agents reference (llmConfig.token, selfHostedParams.authorizationHeaderToken).
  Result<std::map<std::string, domain::Token>> ReferencedTokens(
      const std::string& tenant, const std::vector<domain::Agent>& agents);

  // For `expand=mcpServers`: every custom MCP server the agents use, by id. A server deleted
  // since the agents were read is absent.
  Result<std::map<std::string, domain::McpServer>> ReferencedMcpServers(
      const std::string& tenant, const std::vector<domain::Agent>& agents);
};

extern template class ResourceService<AgentTraits>;

}  // namespace ts::service
