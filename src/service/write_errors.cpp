#include "service/write_errors.h"

#include <cctype>

namespace ts::service {

Error PreconditionFailedError(std::string_view noun, const std::string& id) {
  return Error{ErrorCode::kPreconditionFailed,
               "The If-Match precondition does not match the current version of " +
                   std::string(noun) + " " + id.substr(0, 100),
               {},
               {},
               {}};
}

Error VersionConflictError(std::string_view noun) {
  return Error::Conflict("Optimistic locking failed: the " + std::string(noun) +
                         " was modified concurrently or metadata.version is outdated; read it "
                         "again and retry");
}

Error NotFoundError(std::string_view noun, const std::string& id, std::string_view more) {
  std::string message(noun);
  if (!message.empty()) {
    message[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(message[0])));
  }
  message += " with id " + id.substr(0, 100) + " not found";
  message += more;
  return Error::NotFound(id, std::move(message));
}

Error ReferencedError(std::string_view noun, const std::string& id,
                      const std::vector<store::Referrer>& referrers) {
  std::string subject(noun);
  if (!subject.empty()) {
    subject[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(subject[0])));
  }
  Error e = Error::Invalid(subject + " " + id.substr(0, 100) + " is referenced by " +
                           std::to_string(referrers.size()) +
                           (referrers.size() == 1 ? " resource" : " resources") +
                           "; remove the references first, or delete with force=true to remove "
                           "them");
  for (const store::Referrer& referrer : referrers) {
    // The field is a path to the reference: the referrer's kind and id, then its field.
    e.details.push_back(ErrorDetail{
        referrer.kind + "/" + referrer.id + "/" + referrer.field, "referenced",
        "referenced by " + referrer.kind + " " + referrer.id + " in " + referrer.field});
  }
  return e;
}

Error EnabledUsersError(const std::string& mcp_server_id,
                        const std::vector<store::Referrer>& agents) {
  Error e = Error::Invalid("MCP server " + mcp_server_id.substr(0, 100) + " is used by " +
                           std::to_string(agents.size()) +
                           (agents.size() == 1 ? " enabled agent" : " enabled agents") +
                           "; disable them first, or disable the MCP server with force=true to "
                           "disable them too");
  for (const store::Referrer& agent : agents) {
    e.details.push_back(
        ErrorDetail{agent.kind + "/" + agent.id + "/" + agent.field, "usedByEnabledAgent",
                    "used by enabled " + agent.kind + " " + agent.id + " in " + agent.field});
  }
  return e;
}

std::string_view AuditOutcomeOf(const Error& e) {
  switch (e.code) {
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kPreconditionFailed:
      return "precondition_failed";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kInvalidArgument:
      return "invalid";
    default:
      return "error";
  }
}

DeleteAnswer AnswerDelete(std::string_view noun, const std::string& id,
                          const store::DeleteResult& deleted) {
  switch (deleted.outcome) {
    case store::DeleteOutcome::kVersionMismatch:
      return {PreconditionFailedError(noun, id), "precondition_failed"};
    case store::DeleteOutcome::kReferenced:
      return {ReferencedError(noun, id, deleted.referrers), "referenced"};
    case store::DeleteOutcome::kDeleted:
      return {Ok(), "success"};
    case store::DeleteOutcome::kAbsent:
      return {Ok(), "absent"};
  }
  return {Error::Internal("delete: unknown outcome"), "error"};
}

}  // namespace ts::service
