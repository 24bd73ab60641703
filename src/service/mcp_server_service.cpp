#include "service/mcp_server_service.h"

#include "service/resource_service_impl.h"
#include "service/write_errors.h"

namespace ts::service {

Result<void> McpServerTraits::Validate(const Resource& server) {
  return domain::ValidateMcpServer(server);
}
auto McpServerTraits::ApplyPatch(const Resource& current,
                                 const std::vector<domain::PatchOperation>& ops)
    -> Result<Resource> {
  return domain::ApplyMcpServerPatch(current, ops);
}
auto McpServerTraits::Get(store::Store& store, std::string_view tenant, std::string_view id)
    -> Result<std::optional<Resource>> {
  return store.GetMcpServer(tenant, id);
}
auto McpServerTraits::List(store::Store& store, const store::ListQuery& query)
    -> Result<store::Page<Resource>> {
  return store.ListMcpServers(query);
}
Result<void> McpServerTraits::Insert(store::Store& store, std::string_view tenant,
                                     const Resource& server) {
  return store.InsertMcpServer(tenant, server);
}
Result<void> McpServerTraits::Update(store::Store& store, std::string_view tenant,
                                     const Resource& server, std::int64_t expected_version,
                                     bool force) {
  auto updated = store.UpdateMcpServer(
      tenant, server, expected_version,
      force ? store::ReferencePolicy::kRemove : store::ReferencePolicy::kRefuse);
  if (!updated) return std::move(updated).error();
  if (updated->refused) return EnabledUsersError(server.id, updated->enabled_users);
  return Ok();
}
Result<store::DeleteResult> McpServerTraits::Delete(store::Store& store, std::string_view tenant,
                                                    std::string_view id,
                                                    const store::DeleteRequest& request) {
  return store.DeleteMcpServer(tenant, id, request);
}

template class ResourceService<McpServerTraits>;

Result<std::map<std::string, domain::Token>> McpServerService::ReferencedTokens(
    const std::string& tenant, const std::vector<domain::McpServer>& servers) {
  std::set<std::string> ids;
  for (const domain::McpServer& server : servers) {
    if (server.config.authorization_header_token_id) {
      ids.insert(*server.config.authorization_header_token_id);
    }
  }
  return TokensById(tenant, ids);
}

}  // namespace ts::service
