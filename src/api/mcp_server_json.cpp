#include "api/mcp_server_json.h"

#include "api/error_mapping.h"
#include "api/json_body.h"
#include "api/token_json.h"

namespace ts::api {
namespace {

Error TypeError(const std::string& field, std::string_view expected, const boost::json::value& v) {
  return Error::InvalidField(
      field, "type",
      field + " must be " + std::string(expected) + ", not " + std::string(JsonKindName(v)));
}

// As for tokens: a hostile body with many unknown keys still gets a small answer.
constexpr std::size_t kMaxDetails = 20;

class Problems {
 public:
  void Add(Error error) {
    for (ErrorDetail& d : error.details) details_.push_back(std::move(d));
  }
  void Add(std::string field, std::string type, std::string message) {
    details_.push_back({std::move(field), std::move(type), std::move(message)});
  }
  void Unknown(const std::string& prefix, std::string_view key) {
    const std::string field = prefix + Quote(key);
    Add(field, "unknown", "Unknown field " + field);
  }
  Result<void> Finish() && {
    if (details_.empty()) return Ok();
    if (details_.size() > kMaxDetails) {
      const std::size_t more = details_.size() - kMaxDetails;
      details_.resize(kMaxDetails);
      details_.push_back({"body", "truncated", std::to_string(more) + " more problems not listed"});
    }
    std::string message = details_.size() == 1
                              ? details_.front().message
                              : "Validation problem with request body: " + details_.front().message;
    return Error::Invalid(std::move(message), std::move(details_));
  }

 private:
  std::vector<ErrorDetail> details_;
};

// A string field; null counts as absent. Returns whether a string was stored in `out`.
bool ReadString(const boost::json::value& v, const std::string& field, std::string& out,
                Problems& problems) {
  if (v.is_null()) return false;
  if (!v.is_string()) {
    problems.Add(TypeError(field, "a string", v));
    return false;
  }
  out = std::string(v.as_string());
  return true;
}

void DecodeTokenReference(const boost::json::value& v, domain::McpServerConfig& config,
                          Problems& problems) {
  const std::string field = "config.authorizationHeaderToken";
  if (v.is_null()) return;
  if (!v.is_object()) {
    problems.Add(TypeError(field, "an object", v));
    return;
  }
  std::string id;
  bool has_id = false;
  for (const auto& [key, value] : v.as_object()) {
    const std::string_view k = key;
    if (k == "id") {
      has_id = ReadString(value, field + ".id", id, problems);
    } else if (k == "name" || k == "metadata") {
      // Read-only parts of an expanded token, sent back as read: ignored.
    } else {
      problems.Unknown(field + ".", k);
    }
  }
  if (!has_id) {
    problems.Add(field + ".id", "required", field + ".id is required");
    return;
  }
  config.authorization_header_token_id = std::move(id);
}

void DecodeConfig(const boost::json::value& v, domain::McpServerConfig& config,
                  Problems& problems) {
  if (!v.is_object()) {
    problems.Add(TypeError("config", "an object", v));
    return;
  }
  bool has_url = false;
  for (const auto& [key, value] : v.as_object()) {
    const std::string_view k = key;
    if (k == "url") {
      has_url = !value.is_null();  // a value of the wrong type is reported as such, not missing
      ReadString(value, "config.url", config.url, problems);
    } else if (k == "authorizationHeaderName") {
      std::string name;
      if (ReadString(value, "config.authorizationHeaderName", name, problems)) {
        config.authorization_header_name = std::move(name);
      }
    } else if (k == "authorizationHeaderToken") {
      DecodeTokenReference(value, config, problems);
    } else {
      problems.Unknown("config.", k);
    }
  }
  if (!has_url) problems.Add("config.url", "required", "config.url is required");
}

}  // namespace

Result<service::McpServerUpsertCommand> DecodeMcpServerPut(const boost::json::value& body,
                                                           const std::string& path_id) {
  if (!body.is_object()) {
    return Error::InvalidField("body", "type", "The request body must be a JSON object");
  }
  service::McpServerUpsertCommand command;
  domain::McpServer& server = command.resource;
  server.id = path_id;
  Problems problems;
  bool has_name = false;
  bool has_transport = false;
  bool has_config = false;
  for (const auto& [key, v] : body.as_object()) {
    const std::string_view k = key;
    if (k == "id") {
      std::string id;
      if (ReadString(v, "id", id, problems) && id != path_id) {
        problems.Add("id", "mismatch", "id in the body must equal the id in the path");
      }
    } else if (k == "name") {
      has_name = !v.is_null();
      ReadString(v, "name", server.name, problems);
    } else if (k == "enabled") {
      if (v.is_null()) continue;
      if (!v.is_bool()) {
        problems.Add(TypeError("enabled", "a boolean", v));
        continue;
      }
      server.enabled = v.as_bool();
    } else if (k == "type") {
      ReadString(v, "type", server.type, problems);
    } else if (k == "transport") {
      has_transport = !v.is_null();
      ReadString(v, "transport", server.transport, problems);
    } else if (k == "config") {
      if (v.is_null()) continue;
      has_config = true;
      DecodeConfig(v, server.config, problems);
    } else if (k == "metadata") {
      if (v.is_null()) continue;
      if (!v.is_object()) {
        problems.Add(TypeError("metadata", "an object", v));
        continue;
      }
      for (const auto& [mkey, mv] : v.as_object()) {
        const std::string_view mk = mkey;
        if (mk == "version") {
          if (mv.is_null()) continue;
          auto version = PositiveInteger(mv, "metadata.version");
          if (!version) {
            problems.Add(version.error());
          } else {
            command.expected_version = *version;
          }
        } else if (mk == "createdAt" || mk == "modifiedAt") {
          // Read-only: accepted and ignored so a client can send back what it read.
        } else {
          problems.Unknown("metadata.", mk);
        }
      }
    } else {
      problems.Unknown("", k);
    }
  }
  if (!has_name) problems.Add("name", "required", "name is required");
  if (!has_transport) {
    problems.Add("transport", "required", "transport is required: streamable_http or sse");
  }
  if (!has_config) problems.Add("config", "required", "config is required");
  if (auto r = std::move(problems).Finish(); !r) return std::move(r).error();
  return command;
}

boost::json::object RenderMcpServer(const domain::McpServer& server,
                                    const query::Projection& projection,
                                    const std::map<std::string, domain::Token>* expanded) {
  boost::json::object out;
  if (projection.Includes("id")) out["id"] = server.id;
  if (projection.Includes("name")) out["name"] = server.name;
  if (projection.Includes("enabled")) out["enabled"] = server.enabled;
  if (projection.Includes("type")) out["type"] = server.type;
  if (projection.Includes("transport")) out["transport"] = server.transport;
  if (projection.Includes("config")) {
    boost::json::object config;
    if (projection.IncludesExactly("config.url")) config["url"] = server.config.url;
    const auto& header = server.config.authorization_header_name;
    if (header && projection.IncludesExactly("config.authorizationHeaderName")) {
      config["authorizationHeaderName"] = *header;
    }
    const auto& token_id = server.config.authorization_header_token_id;
    if (token_id && projection.Includes("config.authorizationHeaderToken")) {
      const domain::Token* token = nullptr;
      if (expanded != nullptr && projection.IncludesExactly("config.authorizationHeaderToken")) {
        auto found = expanded->find(*token_id);
        if (found != expanded->end()) token = &found->second;
      }
      config["authorizationHeaderToken"] = token != nullptr
                                               ? RenderToken(*token, query::Projection{})
                                               : boost::json::object{{"id", *token_id}};
    }
    out["config"] = std::move(config);
  }
  if (projection.Includes("metadata")) {
    out["metadata"] = RenderMetadata(server.metadata, projection);
  }
  return out;
}

}  // namespace ts::api
