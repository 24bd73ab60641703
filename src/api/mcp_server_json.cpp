#include "api/mcp_server_json.h"

#include "api/body_fields.h"
#include "api/token_json.h"

namespace ts::api {
namespace {

void DecodeConfig(const boost::json::value& v, domain::McpServerConfig& config,
                  BodyProblems& problems) {
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
      ReadOptionalString(value, "config.authorizationHeaderName", config.authorization_header_name,
                         problems);
    } else if (k == "authorizationHeaderToken") {
      config.authorization_header_token_id = ReadReference(
          value, "config.authorizationHeaderToken", kExpandedTokenParts, problems);
    } else {
      problems.Unknown("config.", k);
    }
  }
  if (!has_url) problems.Required("config.url");
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
  BodyProblems problems;
  bool has_name = false;
  bool has_transport = false;
  bool has_config = false;
  for (const auto& [key, v] : body.as_object()) {
    const std::string_view k = key;
    if (k == "id") {
      CheckBodyId(v, path_id, problems);
    } else if (k == "name") {
      has_name = !v.is_null();
      ReadString(v, "name", server.name, problems);
    } else if (k == "enabled") {
      ReadBool(v, "enabled", server.enabled, problems);
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
      ReadMetadata(v, command.expected_version, problems);
    } else {
      problems.Unknown("", k);
    }
  }
  if (!has_name) problems.Required("name");
  if (!has_transport) {
    problems.Add("transport", "required", "transport is required: streamable_http or sse");
  }
  if (!has_config) problems.Required("config");
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
