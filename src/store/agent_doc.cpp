#include "store/agent_doc.h"

#include <boost/json.hpp>

namespace ts::store {
namespace {

namespace json = boost::json;

json::object LocalizedToJson(const domain::LocalizedText& text) {
  json::object out;
  for (const auto& [language, value] : text) out[language] = value;
  return out;
}

json::array StringsToJson(const std::vector<std::string>& strings) {
  json::array out;
  for (const std::string& s : strings) out.emplace_back(s);
  return out;
}

// Reading a document this code wrote: any surprise is a corrupt row, reported as kInternal.
struct DocReader {
  bool ok = true;

  const json::value* Find(const json::object& o, std::string_view key) {
    return o.if_contains(key);
  }
  std::string String(const json::value& v) {
    if (!v.is_string()) {
      ok = false;
      return {};
    }
    return std::string(v.get_string());
  }
  std::optional<std::string> OptionalString(const json::object& o, std::string_view key) {
    const json::value* v = Find(o, key);
    if (v == nullptr) return std::nullopt;
    return String(*v);
  }
  std::optional<std::int64_t> OptionalInt(const json::object& o, std::string_view key) {
    const json::value* v = Find(o, key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_int64()) {
      ok = false;
      return std::nullopt;
    }
    return v->get_int64();
  }
  const json::object* Object(const json::value* v) {
    if (v == nullptr) return nullptr;
    if (!v->is_object()) {
      ok = false;
      return nullptr;
    }
    return &v->get_object();
  }
  domain::LocalizedText Localized(const json::object& o) {
    domain::LocalizedText text;
    for (const auto& [language, value] : o) text[std::string(language)] = String(value);
    return text;
  }
  std::vector<std::string> Strings(const json::value& v) {
    std::vector<std::string> out;
    if (!v.is_array()) {
      ok = false;
      return out;
    }
    for (const json::value& s : v.get_array()) out.push_back(String(s));
    return out;
  }
};

}  // namespace

std::string EncodeAgentDoc(const domain::Agent& agent) {
  json::object doc;
  doc["v"] = 1;
  doc["name"] = LocalizedToJson(agent.name);
  if (agent.description) doc["description"] = LocalizedToJson(*agent.description);
  if (agent.tags) doc["tags"] = StringsToJson(*agent.tags);
  doc["userPrompt"] = agent.user_prompt;
  const domain::LlmConfig& llm = agent.llm_config;
  if (llm.temperature_tenths) doc["temperatureTenths"] = *llm.temperature_tenths;
  if (llm.max_tokens) doc["maxTokens"] = *llm.max_tokens;
  if (llm.base_provider) doc["baseProvider"] = *llm.base_provider;
  if (llm.self_hosted_params) {
    json::object params;
    params["url"] = llm.self_hosted_params->url;
    if (llm.self_hosted_params->authorization_header_name) {
      params["authorizationHeaderName"] = *llm.self_hosted_params->authorization_header_name;
    }
    doc["selfHostedParams"] = std::move(params);
  }
  json::array servers;
  for (const domain::AgentMcpServer& server : agent.mcp_servers) {
    json::object entry;
    entry["type"] = server.type;
    if (server.mcp_server_id) entry["id"] = *server.mcp_server_id;
    if (server.domain) entry["domain"] = *server.domain;
    if (server.tools) entry["tools"] = StringsToJson(*server.tools);
    servers.emplace_back(std::move(entry));
  }
  doc["mcpServers"] = std::move(servers);
  return json::serialize(doc);
}

Result<void> DecodeAgentDoc(std::string_view text, domain::Agent& agent) {
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) return Error::Internal("agent document is not a JSON object");
  const json::object& doc = parsed.get_object();
  DocReader r;
  if (r.OptionalInt(doc, "v") != 1) return Error::Internal("agent document of unknown format");
  if (const json::object* name = r.Object(r.Find(doc, "name"))) {
    agent.name = r.Localized(*name);
  } else {
    r.ok = false;
  }
  if (const json::object* description = r.Object(r.Find(doc, "description"))) {
    agent.description = r.Localized(*description);
  }
  if (const json::value* tags = r.Find(doc, "tags")) agent.tags = r.Strings(*tags);
  agent.user_prompt = r.OptionalString(doc, "userPrompt").value_or("");
  domain::LlmConfig& llm = agent.llm_config;
  llm.temperature_tenths = r.OptionalInt(doc, "temperatureTenths");
  llm.max_tokens = r.OptionalInt(doc, "maxTokens");
  llm.base_provider = r.OptionalString(doc, "baseProvider");
  if (const json::object* params = r.Object(r.Find(doc, "selfHostedParams"))) {
    // The token reference is a column; keep one read from it if the caller filled it first.
    std::optional<std::string> token_id;
    if (llm.self_hosted_params) token_id = llm.self_hosted_params->authorization_header_token_id;
    llm.self_hosted_params = domain::SelfHostedParams{
        r.OptionalString(*params, "url").value_or(""),
        r.OptionalString(*params, "authorizationHeaderName"), std::move(token_id)};
  }
  agent.mcp_servers.clear();
  const json::value* servers = r.Find(doc, "mcpServers");
  if (servers == nullptr || !servers->is_array()) return Error::Internal("agent document: mcpServers");
  for (const json::value& v : servers->get_array()) {
    const json::object* entry = r.Object(&v);
    if (entry == nullptr) break;
    domain::AgentMcpServer server;
    server.type = r.OptionalString(*entry, "type").value_or("");
    server.mcp_server_id = r.OptionalString(*entry, "id");
    server.domain = r.OptionalString(*entry, "domain");
    if (const json::value* tools = r.Find(*entry, "tools")) server.tools = r.Strings(*tools);
    agent.mcp_servers.push_back(std::move(server));
  }
  if (!r.ok) return Error::Internal("agent document has a field of the wrong type");
  return Ok();
}

bool RemoveMcpServerEntry(domain::Agent& agent, std::string_view mcp_server_id) {
  const auto before = agent.mcp_servers.size();
  std::erase_if(agent.mcp_servers, [&](const domain::AgentMcpServer& s) {
    return s.mcp_server_id && *s.mcp_server_id == mcp_server_id;
  });
  return agent.mcp_servers.size() != before;
}

std::string McpServerEntryField(const domain::Agent& agent, std::string_view mcp_server_id) {
  for (std::size_t i = 0; i < agent.mcp_servers.size(); ++i) {
    const auto& id = agent.mcp_servers[i].mcp_server_id;
    if (id && *id == mcp_server_id) {
      return "mcpServers[" + std::to_string(i) + "].mcpServer.id";
    }
  }
  return "mcpServers";
}

}  // namespace ts::store
