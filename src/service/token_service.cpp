#include "service/token_service.h"

#include <algorithm>

#include "service/write_errors.h"

namespace ts::service {
namespace {

Error PreconditionFailed(const std::string& id) { return PreconditionFailedError("token", id); }
Error VersionConflict() { return VersionConflictError("token"); }
std::string_view OutcomeOf(const Error& e) { return AuditOutcomeOf(e); }

}  // namespace

bool Precondition::Matches(std::int64_t version) const {
  return any || std::find(versions.begin(), versions.end(), version) != versions.end();
}

TokenService::TokenService(store::TokenStore& store, const crypto::ValueBarrier& barrier,
                           const Clock& clock, AuditLog& audit, MismatchThrottle& throttle)
    : store_(store), barrier_(barrier), clock_(clock), audit_(audit), throttle_(throttle) {}

void TokenService::Audit(const Caller& caller, std::string_view action, std::string_view id,
                         std::string_view outcome) {
  audit_.Record({caller.request_id, caller.tenant, caller.subject, action, id, outcome});
}

Result<domain::Token> TokenService::Get(const std::string& tenant, const std::string& id) {
  auto found = store_.Get(tenant, id);
  if (!found) return std::move(found).error();
  if (!found->has_value()) {
    return Error::NotFound(id, "Token with id " + id.substr(0, 100) + " not found");
  }
  return std::move(found->value().token);
}

Result<store::ListPage> TokenService::List(const store::ListQuery& query) {
  return store_.List(query);
}

TokenService::UpsertOutcome TokenService::Upsert(const Caller& caller, UpsertCommand command) {
  auto found = store_.Get(caller.tenant, command.id);
  if (!found) return {std::move(found).error()};
  const std::int64_t now = clock_.NowMillis();

  if (!found->has_value()) {
    if (command.if_match) return {PreconditionFailed(command.id)};
    if (command.expected_version) {
      return {Error::NotFound(command.id, "Token with id " + command.id.substr(0, 100) +
                                              " not found; metadata.version is only allowed "
                                              "when updating an existing token")};
    }
    if (!command.value) {
      return {Error::InvalidField("value", "required", "value is required to create a token")};
    }
    auto sealed = barrier_.Seal(caller.tenant, command.id, command.value->view());
    if (!sealed) return {std::move(sealed).error()};
    const std::uint32_t key_id = crypto::SealedKeyId(*sealed).value_or(0);
    store::TokenRecord record{
        {command.id, command.name, {1, now, now}}, std::move(*sealed), key_id};
    auto inserted = store_.Insert(caller.tenant, record);
    if (!inserted) {
      Error e = std::move(inserted).error();
      if (e.code == ErrorCode::kConflict) {
        e.message = "A token with id " + command.id.substr(0, 100) +
                    " was created concurrently; read it and retry";
      }
      Audit(caller, "token.create", command.id, OutcomeOf(e));
      return {std::move(e)};
    }
    Audit(caller, "token.create", command.id, "success");
    return {WriteResult{true, 1}};
  }

  const store::TokenRecord& current = found->value();
  const std::int64_t stored_version = current.token.metadata.version;
  if (command.if_match && !command.if_match->Matches(stored_version)) {
    Audit(caller, "token.update", command.id, "precondition_failed");
    return {PreconditionFailed(command.id)};
  }
  if (command.expected_version && *command.expected_version != stored_version) {
    Audit(caller, "token.update", command.id, "conflict");
    return {VersionConflict()};
  }
  if (command.value) {
    auto stored_value = barrier_.Open(caller.tenant, command.id, current.sealed_value);
    if (!stored_value) return {std::move(stored_value).error()};
    if (!crypto::ConstantTimeEquals(stored_value->view(), command.value->view())) {
      auto delay = throttle_.RecordMismatch(caller.tenant + '\n' + caller.subject);
      Audit(caller, "token.value_mismatch", command.id, "rejected");
      return {Error::InvalidField("value", "immutable",
                                  "value cannot be changed once a token is created"),
              delay};
    }
  }
  domain::Token updated = current.token;
  updated.name = command.name;
  updated.metadata.modified_at_ms = now;
  auto written = store_.Update(caller.tenant, updated, stored_version);
  if (!written) {
    Error e = std::move(written).error();
    if (e.code == ErrorCode::kConflict) e = VersionConflict();
    Audit(caller, "token.update", command.id, OutcomeOf(e));
    return {std::move(e)};
  }
  Audit(caller, "token.update", command.id, "success");
  return {WriteResult{false, stored_version + 1}};
}

Result<WriteResult> TokenService::Patch(const Caller& caller, const std::string& id,
                                        const std::vector<domain::PatchOperation>& ops,
                                        const std::optional<Precondition>& if_match) {
  if (auto valid = domain::ValidateTokenPatch(ops); !valid) return std::move(valid).error();
  auto found = store_.Get(caller.tenant, id);
  if (!found) return std::move(found).error();
  if (!found->has_value()) {
    if (if_match) return PreconditionFailed(id);
    return Error::NotFound(id, "Token with id " + id.substr(0, 100) + " not found");
  }
  const domain::Token& current = found->value().token;
  const std::int64_t stored_version = current.metadata.version;
  if (if_match && !if_match->Matches(stored_version)) {
    Audit(caller, "token.patch", id, "precondition_failed");
    return PreconditionFailed(id);
  }
  auto patched = domain::ApplyTokenPatch(current, ops);
  if (!patched) return std::move(patched).error();
  patched->metadata.modified_at_ms = clock_.NowMillis();
  auto written = store_.Update(caller.tenant, *patched, stored_version);
  if (!written) {
    Error e = std::move(written).error();
    if (e.code == ErrorCode::kConflict) e = VersionConflict();
    Audit(caller, "token.patch", id, OutcomeOf(e));
    return e;
  }
  Audit(caller, "token.patch", id, "success");
  return WriteResult{false, stored_version + 1};
}

Result<void> TokenService::Delete(const Caller& caller, const std::string& id, bool force,
                                  const std::optional<Precondition>& if_match) {
  const std::string_view action = force ? "token.delete_forced" : "token.delete";
  store::DeleteRequest request;
  request.references = force ? store::ReferencePolicy::kRemove : store::ReferencePolicy::kRefuse;
  request.now_ms = clock_.NowMillis();
  if (if_match) {
    auto found = store_.Get(caller.tenant, id);
    if (!found) return std::move(found).error();
    if (!found->has_value() || !if_match->Matches(found->value().token.metadata.version)) {
      Audit(caller, action, id, "precondition_failed");
      return PreconditionFailed(id);
    }
    request.expected_version = found->value().token.metadata.version;
  }
  auto deleted = store_.Delete(caller.tenant, id, request);
  if (!deleted) return std::move(deleted).error();
  DeleteAnswer answer = AnswerDelete("token", id, *deleted);
  Audit(caller, action, id, answer.audit_outcome);
  return std::move(answer.result);
}

}  // namespace ts::service
