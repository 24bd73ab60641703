// ResourceService<Traits>: the use cases every referencing resource (MCP servers, agents)
// shares with tokens: read, list, upsert with optimistic locking (201/204, 404 for
// metadata.version on an absent resource, 409, 412), patch under the version read, and
// idempotent delete honouring references (`force`). One implementation, instantiated per
// resource in resource_service.cpp; `Traits` names the resource's domain rules and store calls:
//
//   struct Traits {
//     using Resource = ...;                            // has id and metadata
//     static constexpr std::string_view kNoun;         // "MCP server": in messages
//     static constexpr std::string_view kArticle;      // "An" or "A"
//     static constexpr std::string_view kAuditPrefix;  // "mcp_server": audit actions
//     static Result<void> Validate(const Resource&);
//     static Result<Resource> ApplyPatch(const Resource&, const std::vector<PatchOperation>&);
//     static Result<std::optional<Resource>> Get(store::Store&, tenant, id);
//     static Result<store::Page<Resource>> List(store::Store&, const store::ListQuery&);
//     static Result<void> Insert(store::Store&, tenant, const Resource&);
//     // `force`: the resource's own meaning (MCP servers: disabling one disables the enabled
//     // agents using it instead of being refused); other resources ignore it.
//     static Result<void> Update(store::Store&, tenant, const Resource&, expected_version,
//                                bool force);
//     static Result<store::DeleteResult> Delete(store::Store&, tenant, id, const DeleteRequest&);
//   };
//
// Knows nothing about HTTP or JSON. Whether referenced resources exist is decided by the store
// inside the write transaction. Thread-safe: holds only references to thread-safe collaborators.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "domain/token.h"
#include "service/audit_log.h"
#include "service/token_service.h"
#include "store/mcp_server_store.h"

namespace ts::service {

template <typename Resource>
struct ResourceUpsert {
  Resource resource;  // id and the writable fields; resource.metadata is ignored
  std::optional<std::int64_t> expected_version;  // body metadata.version
  std::optional<Precondition> if_match;
  bool force = false;  // query parameter `force` (see Traits::Update)
};

template <typename Traits>
class ResourceService {
 public:
  using Resource = typename Traits::Resource;

  ResourceService(store::Store& store, const Clock& clock, AuditLog& audit)
      : store_(store), clock_(clock), audit_(audit) {}

  Result<Resource> Get(const std::string& tenant, const std::string& id);
  Result<store::Page<Resource>> List(const store::ListQuery& query);

  // Created (201) or updated (204); errors 400 (validation, a referenced resource that does
  // not exist in the tenant, naming the field), 404 (metadata.version on an absent resource),
  // 409, 412.
  Result<WriteResult> Upsert(const Caller& caller, ResourceUpsert<Resource> command);

  // Applies the operations to the stored resource and writes the result under the version it
  // was read at: 404 absent, 412 If-Match, 409 a concurrent write, 400 invalid operations or a
  // reference to a resource that does not exist.
  Result<WriteResult> Patch(const Caller& caller, const std::string& id,
                            const std::vector<domain::PatchOperation>& ops,
                            const std::optional<Precondition>& if_match, bool force = false);

  // Idempotent: deleting an absent resource succeeds (unless If-Match was given: 412). A
  // referenced resource is a 400 listing every referrer, unless `force`: then the references
  // are removed (each referrer's version + 1) in the same transaction.
  Result<void> Delete(const Caller& caller, const std::string& id, bool force,
                      const std::optional<Precondition>& if_match);

 protected:
  // The public projection (id, name, metadata; never a value) of the tokens with these ids,
  // for `expand=token`. One list query; an id that names no token is absent from the map.
  Result<std::map<std::string, domain::Token>> TokensById(const std::string& tenant,
                                                          const std::set<std::string>& ids);

  store::Store& store_;

 private:
  void Audit(const Caller& caller, std::string_view action, std::string_view id,
             std::string_view outcome);

  const Clock& clock_;
  AuditLog& audit_;
};

// `id:(a,b,…)` sorted by id, at most ids.size() rows: the query behind every `expand`.
store::ListQuery ByIdsQuery(const std::string& tenant, const std::set<std::string>& ids);

// The items of an `expand` query by id.
template <typename Item>
std::map<std::string, Item> IndexById(std::vector<Item>&& items) {
  std::map<std::string, Item> by_id;
  for (Item& item : items) {
    std::string id = item.id;
    by_id.emplace(std::move(id), std::move(item));
  }
  return by_id;
}

}  // namespace ts::service
