// The definitions of ResourceService<Traits> (service/resource_service.h). Included only by
// the .cpp file of each resource's service, which instantiates the template once
// (`template class ResourceService<Traits>;`), so the rest of the program sees declarations.
#pragma once

#include <string>

#include "service/resource_service.h"
#include "service/write_errors.h"

namespace ts::service {

template <typename Traits>
void ResourceService<Traits>::Audit(const Caller& caller, std::string_view action,
                                    std::string_view id, std::string_view outcome) {
  audit_.Record({caller.request_id, caller.tenant, caller.subject, action, id, outcome});
}

template <typename Traits>
auto ResourceService<Traits>::Get(const std::string& tenant, const std::string& id)
    -> Result<Resource> {
  auto found = Traits::Get(store_, tenant, id);
  if (!found) return std::move(found).error();
  if (!found->has_value()) return NotFoundError(Traits::kNoun, id);
  return std::move(found->value());
}

template <typename Traits>
auto ResourceService<Traits>::List(const store::ListQuery& query) -> Result<store::Page<Resource>> {
  return Traits::List(store_, query);
}

template <typename Traits>
Result<WriteResult> ResourceService<Traits>::Upsert(const Caller& caller,
                                                    ResourceUpsert<Resource> command) {
  Resource& resource = command.resource;
  const std::string prefix(Traits::kAuditPrefix);
  if (auto valid = Traits::Validate(resource); !valid) return std::move(valid).error();
  auto found = Traits::Get(store_, caller.tenant, resource.id);
  if (!found) return std::move(found).error();
  const std::int64_t now = clock_.NowMillis();

  if (!found->has_value()) {
    if (command.if_match) return PreconditionFailedError(Traits::kNoun, resource.id);
    if (command.expected_version) {
      return NotFoundError(Traits::kNoun, resource.id,
                           "; metadata.version is only allowed when updating an existing " +
                               std::string(Traits::kNoun));
    }
    resource.metadata = {1, now, now};
    auto inserted = Traits::Insert(store_, caller.tenant, resource);
    if (!inserted) {
      Error e = std::move(inserted).error();
      if (e.code == ErrorCode::kConflict) {
        e.message = std::string(Traits::kArticle) + " " + std::string(Traits::kNoun) + " with id " +
                    resource.id.substr(0, 100) + " was created concurrently; read it and retry";
      }
      Audit(caller, prefix + ".create", resource.id, AuditOutcomeOf(e));
      return e;
    }
    Audit(caller, prefix + ".create", resource.id, "success");
    return WriteResult{true, 1};
  }

  const domain::ResourceMetadata stored = found->value().metadata;
  if (command.if_match && !command.if_match->Matches(stored.version)) {
    Audit(caller, prefix + ".update", resource.id, "precondition_failed");
    return PreconditionFailedError(Traits::kNoun, resource.id);
  }
  if (command.expected_version && *command.expected_version != stored.version) {
    Audit(caller, prefix + ".update", resource.id, "conflict");
    return VersionConflictError(Traits::kNoun);
  }
  resource.metadata = {stored.version, stored.created_at_ms, now};
  auto written = Traits::Update(store_, caller.tenant, resource, stored.version, command.force);
  if (!written) {
    Error e = std::move(written).error();
    if (e.code == ErrorCode::kConflict) e = VersionConflictError(Traits::kNoun);
    Audit(caller, prefix + ".update", resource.id, AuditOutcomeOf(e));
    return e;
  }
  Audit(caller, prefix + ".update", resource.id, "success");
  return WriteResult{false, stored.version + 1};
}

template <typename Traits>
Result<WriteResult> ResourceService<Traits>::Patch(const Caller& caller, const std::string& id,
                                                   const std::vector<domain::PatchOperation>& ops,
                                                   const std::optional<Precondition>& if_match,
                                                   bool force) {
  const std::string action = std::string(Traits::kAuditPrefix) + ".patch";
  auto found = Traits::Get(store_, caller.tenant, id);
  if (!found) return std::move(found).error();
  if (!found->has_value()) {
    if (if_match) return PreconditionFailedError(Traits::kNoun, id);
    return NotFoundError(Traits::kNoun, id);
  }
  const Resource& current = found->value();
  const std::int64_t stored_version = current.metadata.version;
  if (if_match && !if_match->Matches(stored_version)) {
    Audit(caller, action, id, "precondition_failed");
    return PreconditionFailedError(Traits::kNoun, id);
  }
  auto patched = Traits::ApplyPatch(current, ops);
  if (!patched) return std::move(patched).error();
  patched->metadata.modified_at_ms = clock_.NowMillis();
  auto written = Traits::Update(store_, caller.tenant, *patched, stored_version, force);
  if (!written) {
    Error e = std::move(written).error();
    if (e.code == ErrorCode::kConflict) e = VersionConflictError(Traits::kNoun);
    Audit(caller, action, id, AuditOutcomeOf(e));
    return e;
  }
  Audit(caller, action, id, "success");
  return WriteResult{false, stored_version + 1};
}

template <typename Traits>
Result<void> ResourceService<Traits>::Delete(const Caller& caller, const std::string& id,
                                             bool force,
                                             const std::optional<Precondition>& if_match) {
  const std::string action =
      std::string(Traits::kAuditPrefix) + (force ? ".delete_forced" : ".delete");
  store::DeleteRequest request;
  request.references = force ? store::ReferencePolicy::kRemove : store::ReferencePolicy::kRefuse;
  request.now_ms = clock_.NowMillis();
  if (if_match) {
    auto found = Traits::Get(store_, caller.tenant, id);
    if (!found) return std::move(found).error();
    if (!found->has_value() || !if_match->Matches(found->value().metadata.version)) {
      Audit(caller, action, id, "precondition_failed");
      return PreconditionFailedError(Traits::kNoun, id);
    }
    request.expected_version = found->value().metadata.version;
  }
  auto deleted = Traits::Delete(store_, caller.tenant, id, request);
  if (!deleted) return std::move(deleted).error();
  DeleteAnswer answer = AnswerDelete(Traits::kNoun, id, *deleted);
  Audit(caller, action, id, answer.audit_outcome);
  return std::move(answer.result);
}

template <typename Traits>
Result<std::map<std::string, domain::Token>> ResourceService<Traits>::TokensById(
    const std::string& tenant, const std::set<std::string>& ids) {
  if (ids.empty()) return std::map<std::string, domain::Token>{};
  // The token list never carries values.
  auto page = store_.List(ByIdsQuery(tenant, ids));
  if (!page) return std::move(page).error();
  return IndexById(std::move(page->items));
}

}  // namespace ts::service
