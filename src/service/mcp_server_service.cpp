#include "service/mcp_server_service.h"

#include <set>

#include "service/write_errors.h"

namespace ts::service {
namespace {

constexpr std::string_view kNoun = "MCP server";

}  // namespace

McpServerService::McpServerService(store::Store& store, const Clock& clock, AuditLog& audit)
    : store_(store), clock_(clock), audit_(audit) {}

void McpServerService::Audit(const Caller& caller, std::string_view action, std::string_view id,
                             std::string_view outcome) {
  audit_.Record({caller.request_id, caller.tenant, caller.subject, action, id, outcome});
}

Result<domain::McpServer> McpServerService::Get(const std::string& tenant, const std::string& id) {
  auto found = store_.GetMcpServer(tenant, id);
  if (!found) return std::move(found).error();
  if (!found->has_value()) return NotFoundError(kNoun, id);
  return std::move(found->value());
}

Result<store::Page<domain::McpServer>> McpServerService::List(const store::ListQuery& query) {
  return store_.ListMcpServers(query);
}

Result<WriteResult> McpServerService::Upsert(const Caller& caller, McpServerUpsertCommand command) {
  domain::McpServer& server = command.server;
  if (auto valid = domain::ValidateMcpServer(server); !valid) return std::move(valid).error();
  auto found = store_.GetMcpServer(caller.tenant, server.id);
  if (!found) return std::move(found).error();
  const std::int64_t now = clock_.NowMillis();

  if (!found->has_value()) {
    if (command.if_match) return PreconditionFailedError(kNoun, server.id);
    if (command.expected_version) {
      return NotFoundError(kNoun, server.id,
                           "; metadata.version is only allowed when updating an existing "
                           "MCP server");
    }
    server.metadata = {1, now, now};
    auto inserted = store_.InsertMcpServer(caller.tenant, server);
    if (!inserted) {
      Error e = std::move(inserted).error();
      if (e.code == ErrorCode::kConflict) {
        e.message = "An MCP server with id " + server.id.substr(0, 100) +
                    " was created concurrently; read it and retry";
      }
      Audit(caller, "mcp_server.create", server.id, AuditOutcomeOf(e));
      return e;
    }
    Audit(caller, "mcp_server.create", server.id, "success");
    return WriteResult{true, 1};
  }

  const domain::ResourceMetadata stored = found->value().metadata;
  if (command.if_match && !command.if_match->Matches(stored.version)) {
    Audit(caller, "mcp_server.update", server.id, "precondition_failed");
    return PreconditionFailedError(kNoun, server.id);
  }
  if (command.expected_version && *command.expected_version != stored.version) {
    Audit(caller, "mcp_server.update", server.id, "conflict");
    return VersionConflictError(kNoun);
  }
  server.metadata = {stored.version, stored.created_at_ms, now};
  auto written = store_.UpdateMcpServer(caller.tenant, server, stored.version);
  if (!written) {
    Error e = std::move(written).error();
    if (e.code == ErrorCode::kConflict) e = VersionConflictError(kNoun);
    Audit(caller, "mcp_server.update", server.id, AuditOutcomeOf(e));
    return e;
  }
  Audit(caller, "mcp_server.update", server.id, "success");
  return WriteResult{false, stored.version + 1};
}

Result<WriteResult> McpServerService::Patch(const Caller& caller, const std::string& id,
                                            const std::vector<domain::PatchOperation>& ops,
                                            const std::optional<Precondition>& if_match) {
  auto found = store_.GetMcpServer(caller.tenant, id);
  if (!found) return std::move(found).error();
  if (!found->has_value()) {
    if (if_match) return PreconditionFailedError(kNoun, id);
    return NotFoundError(kNoun, id);
  }
  const domain::McpServer& current = found->value();
  const std::int64_t stored_version = current.metadata.version;
  if (if_match && !if_match->Matches(stored_version)) {
    Audit(caller, "mcp_server.patch", id, "precondition_failed");
    return PreconditionFailedError(kNoun, id);
  }
  auto patched = domain::ApplyMcpServerPatch(current, ops);
  if (!patched) return std::move(patched).error();
  patched->metadata.modified_at_ms = clock_.NowMillis();
  auto written = store_.UpdateMcpServer(caller.tenant, *patched, stored_version);
  if (!written) {
    Error e = std::move(written).error();
    if (e.code == ErrorCode::kConflict) e = VersionConflictError(kNoun);
    Audit(caller, "mcp_server.patch", id, AuditOutcomeOf(e));
    return e;
  }
  Audit(caller, "mcp_server.patch", id, "success");
  return WriteResult{false, stored_version + 1};
}

Result<void> McpServerService::Delete(const Caller& caller, const std::string& id, bool force,
                                      const std::optional<Precondition>& if_match) {
  const std::string_view action = force ? "mcp_server.delete_forced" : "mcp_server.delete";
  store::DeleteRequest request;
  request.references = force ? store::ReferencePolicy::kRemove : store::ReferencePolicy::kRefuse;
  request.now_ms = clock_.NowMillis();
  if (if_match) {
    auto found = store_.GetMcpServer(caller.tenant, id);
    if (!found) return std::move(found).error();
    if (!found->has_value() || !if_match->Matches(found->value().metadata.version)) {
      Audit(caller, action, id, "precondition_failed");
      return PreconditionFailedError(kNoun, id);
    }
    request.expected_version = found->value().metadata.version;
  }
  auto deleted = store_.DeleteMcpServer(caller.tenant, id, request);
  if (!deleted) return std::move(deleted).error();
  switch (deleted->outcome) {
    case store::DeleteOutcome::kVersionMismatch:
      Audit(caller, action, id, "precondition_failed");
      return PreconditionFailedError(kNoun, id);
    case store::DeleteOutcome::kReferenced:
      Audit(caller, action, id, "referenced");
      return ReferencedError(kNoun, id, deleted->referrers);
    case store::DeleteOutcome::kDeleted:
      Audit(caller, action, id, "success");
      return Ok();
    case store::DeleteOutcome::kAbsent:
      Audit(caller, action, id, "absent");
      return Ok();
  }
  return Error::Internal("mcp server delete: unknown outcome");
}

Result<std::map<std::string, domain::Token>> McpServerService::ReferencedTokens(
    const std::string& tenant, const std::vector<domain::McpServer>& servers) {
  std::set<std::string> ids;
  for (const domain::McpServer& server : servers) {
    if (server.config.authorization_header_token_id) {
      ids.insert(*server.config.authorization_header_token_id);
    }
  }
  std::map<std::string, domain::Token> tokens;
  if (ids.empty()) return tokens;
  // One list query (`id:(a,b,…)`) instead of one read per server; the token list never
  // carries values.
  store::ListQuery query;
  query.tenant = tenant;
  query::Clause by_id;
  by_id.field = "id";
  by_id.type = query::FieldType::kString;
  by_id.kind = query::Clause::Kind::kAnyOf;
  for (const std::string& id : ids) by_id.comparisons.push_back({query::CompareOp::kEq, id});
  query.filter.clauses.push_back(std::move(by_id));
  query.sort.push_back({"id", query::FieldType::kString, false});
  query.limit = static_cast<std::int64_t>(ids.size());
  auto page = store_.List(query);
  if (!page) return std::move(page).error();
  for (domain::Token& token : page->items) {
    std::string id = token.id;
    tokens.emplace(std::move(id), std::move(token));
  }
  return tokens;
}

}  // namespace ts::service
