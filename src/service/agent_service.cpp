#include "service/agent_service.h"

#include "service/resource_service_impl.h"

namespace ts::service {

Result<void> AgentTraits::Validate(const Resource& agent) { return domain::ValidateAgent(agent); }
auto AgentTraits::ApplyPatch(const Resource& current,
                             const std::vector<domain::PatchOperation>& ops) -> Result<Resource> {
  return domain::ApplyAgentPatch(current, ops);
}
auto AgentTraits::Get(store::Store& store, std::string_view tenant, std::string_view id)
    -> Result<std::optional<Resource>> {
  return store.GetAgent(tenant, id);
}
auto AgentTraits::List(store::Store& store, const store::ListQuery& query)
    -> Result<store::Page<Resource>> {
  return store.ListAgents(query);
}
Result<void> AgentTraits::Insert(store::Store& store, std::string_view tenant,
                                 const Resource& agent) {
  return store.InsertAgent(tenant, agent);
}
Result<void> AgentTraits::Update(store::Store& store, std::string_view tenant,
                                 const Resource& agent, std::int64_t expected_version,
                                 bool /*force*/) {
  return store.UpdateAgent(tenant, agent, expected_version);
}
Result<store::DeleteResult> AgentTraits::Delete(store::Store& store, std::string_view tenant,
                                                std::string_view id,
                                                const store::DeleteRequest& request) {
  return store.DeleteAgent(tenant, id, request);
}

template class ResourceService<AgentTraits>;

Result<std::map<std::string, domain::Token>> AgentService::ReferencedTokens(
    const std::string& tenant, const std::vector<domain::Agent>& agents) {
  std::set<std::string> ids;
  for (const domain::Agent& agent : agents) {
    for (const domain::AgentReference& ref : domain::ReferencesOf(agent)) {
      if (ref.target == domain::AgentReference::Target::kToken) ids.insert(ref.id);
    }
  }
  return TokensById(tenant, ids);
}

Result<std::map<std::string, domain::McpServer>> AgentService::ReferencedMcpServers(
    const std::string& tenant, const std::vector<domain::Agent>& agents) {
  std::set<std::string> ids;
  for (const domain::Agent& agent : agents) {
    for (const domain::AgentReference& ref : domain::ReferencesOf(agent)) {
      if (ref.target == domain::AgentReference::Target::kMcpServer) ids.insert(ref.id);
    }
  }
  if (ids.empty()) return std::map<std::string, domain::McpServer>{};
  auto page = store_.ListMcpServers(ByIdsQuery(tenant, ids));
  if (!page) return std::move(page).error();
  return IndexById(std::move(page->items));
}

}  // namespace ts::service
