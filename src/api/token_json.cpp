#include "api/token_json.h"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>

#include <cctype>

#include "api/error_mapping.h"
#include "api/json_body.h"
#include "common/timestamp.h"
#include "crypto/value_barrier.h"

namespace ts::api {
namespace {

Error TypeError(const std::string& field, std::string_view expected, const boost::json::value& v) {
  return Error::InvalidField(field, "type",
                             field + " must be " + std::string(expected) + ", not " +
                                 std::string(JsonKindName(v)));
}

void Collect(std::vector<ErrorDetail>& details, Error error) {
  for (ErrorDetail& d : error.details) details.push_back(std::move(d));
}

// A hostile body can carry hundreds of thousands of unknown keys; the answer stays small.
constexpr std::size_t kMaxDetails = 20;

Result<void> Combined(std::vector<ErrorDetail> details) {
  if (details.empty()) return Ok();
  if (details.size() > kMaxDetails) {
    const std::size_t more = details.size() - kMaxDetails;
    details.resize(kMaxDetails);
    details.push_back({"body", "truncated", std::to_string(more) + " more problems not listed"});
  }
  std::string message = details.size() == 1 ? details.front().message
                                            : "Validation problem with request body: " +
                                                  details.front().message;
  return Error::Invalid(std::move(message), std::move(details));
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<service::UpsertCommand> DecodeTokenPut(boost::json::value& body,
                                              const std::string& path_id) {
  if (!body.is_object()) {
    return Error::InvalidField("body", "type", "The request body must be a JSON object");
  }
  service::UpsertCommand command;
  command.id = path_id;
  std::vector<ErrorDetail> details;
  bool has_name = false;
  for (auto& [key, v] : body.as_object()) {
    const std::string_view k = key;
    if (k == "id") {
      if (v.is_null()) continue;
      if (!v.is_string()) {
        Collect(details, TypeError("id", "a string", v));
      } else if (v.as_string() != path_id) {
        details.push_back({"id", "mismatch", "id in the body must equal the id in the path"});
      }
    } else if (k == "name") {
      if (v.is_null()) continue;
      if (!v.is_string()) {
        Collect(details, TypeError("name", "a string", v));
        has_name = true;
        continue;
      }
      has_name = true;
      command.name = std::string(v.as_string());
      if (auto r = domain::ValidateName(command.name, "name"); !r) Collect(details, r.error());
    } else if (k == "value") {
      if (v.is_null()) continue;
      if (!v.is_string()) {
        Collect(details, TypeError("value", "a string", v));
        continue;
      }
      boost::json::string& s = v.as_string();
      if (auto r = domain::ValidateValue(s, "value"); !r) Collect(details, r.error());
      command.value.emplace(std::string_view(s));
      crypto::WipeMemory(s.data(), s.size());
    } else if (k == "metadata") {
      if (v.is_null()) continue;
      if (!v.is_object()) {
        Collect(details, TypeError("metadata", "an object", v));
        continue;
      }
      for (const auto& [mkey, mv] : v.as_object()) {
        const std::string_view mk = mkey;
        if (mk == "version") {
          if (mv.is_null()) continue;
          auto version = PositiveInteger(mv, "metadata.version");
          if (!version) {
            Collect(details, version.error());
          } else {
            command.expected_version = *version;
          }
        } else if (mk == "createdAt" || mk == "modifiedAt") {
          // Read-only: accepted and ignored so a client can send back what it read.
        } else {
          const std::string field = "metadata." + Quote(mk);
          details.push_back({field, "unknown", "Unknown field " + field});
        }
      }
    } else {
      const std::string field = Quote(k);
      details.push_back({field, "unknown", "Unknown field " + field});
    }
  }
  if (!has_name) details.push_back({"name", "required", "name is required"});
  if (auto r = Combined(std::move(details)); !r) return std::move(r).error();
  return command;
}

Result<std::vector<domain::PatchOperation>> DecodePatch(const boost::json::value& body) {
  if (!body.is_array()) {
    return Error::InvalidField("body", "type",
                               "The request body must be a JSON array of patch operations");
  }
  const boost::json::array& items = body.as_array();
  if (items.empty() || items.size() > domain::kMaxPatchOperations) {
    return Error::InvalidField("body", "size", "A patch must contain 1 to 200 operations");
  }
  std::vector<domain::PatchOperation> ops;
  ops.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string at = "[" + std::to_string(i) + "]";
    if (!items[i].is_object()) {
      return Error::InvalidField(at, "type", "Each patch operation must be a JSON object");
    }
    domain::PatchOperation op;
    bool has_op = false;
    bool has_path = false;
    for (const auto& [key, v] : items[i].as_object()) {
      const std::string_view k = key;
      if (k == "op") {
        if (!v.is_string()) return TypeError(at + ".op", "a string", v);
        const std::string name = LowerAscii(v.as_string());
        if (name == "add") {
          op.op = domain::PatchOperation::Op::kAdd;
        } else if (name == "remove") {
          op.op = domain::PatchOperation::Op::kRemove;
        } else if (name == "replace") {
          op.op = domain::PatchOperation::Op::kReplace;
        } else {
          return Error::InvalidField(at + ".op", "invalid",
                                     "op must be ADD, REMOVE or REPLACE, not " +
                                         Quote(v.as_string()));
        }
        has_op = true;
      } else if (k == "path") {
        if (!v.is_string()) return TypeError(at + ".path", "a string", v);
        op.path = std::string(v.as_string());
        has_path = true;
      } else if (k == "value") {
        op.has_value = true;
        if (v.is_string()) {
          op.value_is_string = true;
          op.string_value = std::string(v.as_string());
        } else if (v.is_bool()) {
          op.bool_value = v.as_bool();
        } else if (v.is_object() && v.as_object().size() == 1) {
          const boost::json::value* id = v.as_object().if_contains("id");
          if (id != nullptr && id->is_string()) op.object_id = std::string(id->as_string());
        }
      } else {
        return Error::InvalidField(at + "." + Quote(k), "unknown",
                                   "Unknown field " + Quote(k) + " in patch operation " + at);
      }
    }
    if (!has_op) return Error::InvalidField(at + ".op", "required", "op is required");
    if (!has_path) return Error::InvalidField(at + ".path", "required", "path is required");
    ops.push_back(std::move(op));
  }
  return ops;
}

Result<std::string> DecodeSearchBody(const std::optional<boost::json::value>& body) {
  if (!body) return std::string();
  if (!body->is_object()) {
    return Error::InvalidField("body", "type", "The search body must be a JSON object");
  }
  std::string q;
  for (const auto& [key, v] : body->as_object()) {
    if (key != "q") {
      return Error::InvalidField(Quote(key), "unknown",
                                 "Unknown field " + Quote(key) + "; the search body takes only q");
    }
    if (!v.is_string()) return TypeError("q", "a string", v);
    q = std::string(v.as_string());
  }
  return q;
}

boost::json::object RenderToken(const domain::Token& token, const query::Projection& projection,
                                boost::json::storage_ptr sp) {
  boost::json::object out(sp);
  out.reserve(3);
  if (projection.Includes("id")) out["id"] = token.id;
  if (projection.Includes("name")) out["name"] = token.name;
  if (projection.Includes("metadata")) {
    out["metadata"] = RenderMetadata(token.metadata, projection, sp);
  }
  return out;
}

boost::json::object RenderMetadata(const domain::ResourceMetadata& metadata,
                                   const query::Projection& projection,
                                   boost::json::storage_ptr sp) {
  boost::json::object out(sp);
  out.reserve(3);
  if (projection.IncludesExactly("metadata.version")) out["version"] = metadata.version;
  if (projection.IncludesExactly("metadata.createdAt")) {
    out["createdAt"] = FormatTimestamp(metadata.created_at_ms);
  }
  if (projection.IncludesExactly("metadata.modifiedAt")) {
    out["modifiedAt"] = FormatTimestamp(metadata.modified_at_ms);
  }
  return out;
}

std::string RenderTokenPage(const std::vector<domain::Token>& tokens,
                            const query::Projection& projection) {
  // A page of 60 tokens is about 9 KB of JSON; the arena grows past this first block if needed.
  unsigned char first_block[16 * 1024];
  boost::json::monotonic_resource arena(first_block, sizeof first_block);
  boost::json::array items(&arena);
  items.reserve(tokens.size());
  for (const domain::Token& token : tokens) {
    items.emplace_back(RenderToken(token, projection, &arena));
  }
  return boost::json::serialize(items);
}

}  // namespace ts::api
