#include "api/agent_json.h"

#include <cmath>

#include "api/body_fields.h"
#include "api/error_mapping.h"
#include "api/mcp_server_json.h"
#include "api/token_json.h"

namespace ts::api {
namespace {

// What `expand=mcpServers` renders beside the id of a custom entry's mcpServer.
constexpr std::string_view kExpandedMcpServerParts[] = {"name",      "enabled", "type",
                                                        "transport", "config",  "metadata"};

std::string Indexed(std::string_view base, std::size_t i, std::string_view rest = {}) {
  return std::string(base) + "[" + std::to_string(i) + "]" + std::string(rest);
}

// {"en": "…", …}; null is absent. Returns whether a map was stored.
bool ReadLocalized(const boost::json::value& v, const std::string& field,
                   std::optional<domain::LocalizedText>& out, BodyProblems& problems) {
  if (v.is_null()) return false;
  if (!v.is_object()) {
    problems.Add(TypeError(field, "an object of language to text", v));
    return false;
  }
  domain::LocalizedText text;
  bool ok = true;
  for (const auto& [language, value] : v.as_object()) {
    // The language is validated by the domain; here it only names the field.
    const std::string at = field + "." + Quote(language);
    if (!value.is_string()) {
      problems.Add(TypeError(at, "a string", value));
      ok = false;
      continue;
    }
    text.emplace(std::string(language), std::string(value.as_string()));
  }
  if (!ok) return false;
  out = std::move(text);
  return true;
}

// An array of strings; null is absent.
void ReadStrings(const boost::json::value& v, const std::string& field,
                 std::optional<std::vector<std::string>>& out, BodyProblems& problems) {
  if (v.is_null()) return;
  if (!v.is_array()) {
    problems.Add(TypeError(field, "an array of strings", v));
    return;
  }
  std::vector<std::string> items;
  bool ok = true;
  const boost::json::array& array = v.as_array();
  for (std::size_t i = 0; i < array.size(); ++i) {
    if (!array[i].is_string()) {
      problems.Add(TypeError(Indexed(field, i), "a string", array[i]));
      ok = false;
      continue;
    }
    items.emplace_back(array[i].as_string());
  }
  if (ok) out = std::move(items);
}

// The vendor's temperatures are 0.1, 0.2, …, 1.0; stored as tenths so they round-trip exactly.
void ReadTemperature(const boost::json::value& v, std::optional<std::int64_t>& out,
                     BodyProblems& problems) {
  const std::string field = "llmConfig.temperature";
  if (v.is_null()) return;
  if (!v.is_number()) {
    problems.Add(TypeError(field, "a number", v));
    return;
  }
  const double tenths = v.to_number<double>() * 10.0;
  const double rounded = std::round(tenths);
  // The decimal text 0.3 parses to the double nearest 0.3, which times ten is within a few
  // units in the last place of 3: anything farther is not a tenth (0.35, 0.30001).
  if (!(rounded >= 1.0 && rounded <= 10.0) || std::fabs(tenths - rounded) > 1e-9) {
    problems.Add(field, "invalid", field + " must be one of 0.1, 0.2, ..., 1.0");
    return;
  }
  out = static_cast<std::int64_t>(rounded);
}

void ReadInteger(const boost::json::value& v, const std::string& field,
                 std::optional<std::int64_t>& out, BodyProblems& problems) {
  if (v.is_null()) return;
  if (v.is_int64()) {
    out = v.get_int64();
  } else if (v.is_uint64()) {
    problems.Add(field, "invalid", field + " is too large");
  } else {
    problems.Add(TypeError(field, "an integer", v));
  }
}

void DecodeSelfHostedParams(const boost::json::value& v, domain::LlmConfig& llm,
                            BodyProblems& problems) {
  const std::string field = "llmConfig.selfHostedParams";
  if (v.is_null()) return;
  if (!v.is_object()) {
    problems.Add(TypeError(field, "an object", v));
    return;
  }
  domain::SelfHostedParams params;
  bool has_url = false;
  for (const auto& [key, value] : v.as_object()) {
    const std::string_view k = key;
    if (k == "url") {
      has_url = !value.is_null();
      ReadString(value, field + ".url", params.url, problems);
    } else if (k == "authorizationHeaderName") {
      ReadOptionalString(value, field + ".authorizationHeaderName",
                         params.authorization_header_name, problems);
    } else if (k == "authorizationHeaderToken") {
      params.authorization_header_token_id =
          ReadReference(value, field + ".authorizationHeaderToken", kExpandedTokenParts, problems);
    } else {
      problems.Unknown(field + ".", k);  // `oauth` among them: not supported
    }
  }
  if (!has_url) problems.Required(field + ".url");
  llm.self_hosted_params = std::move(params);
}

void DecodeLlmConfig(const boost::json::value& v, domain::LlmConfig& llm, BodyProblems& problems) {
  if (!v.is_object()) {
    problems.Add(TypeError("llmConfig", "an object", v));
    return;
  }
  bool has_provider = false;
  bool has_model = false;
  for (const auto& [key, value] : v.as_object()) {
    const std::string_view k = key;
    if (k == "provider") {
      has_provider = !value.is_null();
      ReadString(value, "llmConfig.provider", llm.provider, problems);
    } else if (k == "model") {
      has_model = !value.is_null();
      ReadString(value, "llmConfig.model", llm.model, problems);
    } else if (k == "temperature") {
      ReadTemperature(value, llm.temperature_tenths, problems);
    } else if (k == "maxTokens") {
      ReadInteger(value, "llmConfig.maxTokens", llm.max_tokens, problems);
    } else if (k == "token") {
      llm.token_id = ReadReference(value, "llmConfig.token", kExpandedTokenParts, problems);
    } else if (k == "baseProvider") {
      ReadOptionalString(value, "llmConfig.baseProvider", llm.base_provider, problems);
    } else if (k == "selfHostedParams") {
      DecodeSelfHostedParams(value, llm, problems);
    } else {
      problems.Unknown("llmConfig.", k);
    }
  }
  if (!has_provider) problems.Required("llmConfig.provider");
  if (!has_model) problems.Required("llmConfig.model");
}

void DecodeMcpServerEntry(const boost::json::value& v, std::size_t i,
                          std::vector<domain::AgentMcpServer>& out, BodyProblems& problems) {
  const std::string field = Indexed("mcpServers", i);
  if (!v.is_object()) {
    problems.Add(TypeError(field, "an object", v));
    return;
  }
  domain::AgentMcpServer entry;
  bool has_type = false;
  for (const auto& [key, value] : v.as_object()) {
    const std::string_view k = key;
    if (k == "type") {
      has_type = !value.is_null();
      ReadString(value, field + ".type", entry.type, problems);
    } else if (k == "mcpServer") {
      entry.mcp_server_id =
          ReadReference(value, field + ".mcpServer", kExpandedMcpServerParts, problems);
    } else if (k == "domain") {
      ReadOptionalString(value, field + ".domain", entry.domain, problems);
    } else if (k == "tools") {
      ReadStrings(value, field + ".tools", entry.tools, problems);
    } else {
      problems.Unknown(field + ".", k);
    }
  }
  if (!has_type) problems.Required(field + ".type");
  out.push_back(std::move(entry));
}

void DecodeMcpServers(const boost::json::value& v, std::vector<domain::AgentMcpServer>& out,
                      BodyProblems& problems) {
  if (!v.is_array()) {
    problems.Add(TypeError("mcpServers", "an array", v));
    return;
  }
  const boost::json::array& array = v.as_array();
  if (array.size() > domain::kMaxAgentMcpServers) {
    // Decoding thousands of entries only to refuse them is work for nobody.
    problems.Add("mcpServers", "tooLong", "an agent may use at most 50 MCP servers");
    return;
  }
  for (std::size_t i = 0; i < array.size(); ++i) DecodeMcpServerEntry(array[i], i, out, problems);
}

boost::json::object Localized(const domain::LocalizedText& text) {
  boost::json::object out;
  for (const auto& [language, value] : text) out[language] = value;
  return out;
}

boost::json::array Strings(const std::vector<std::string>& items) {
  boost::json::array out;
  out.reserve(items.size());
  for (const std::string& item : items) out.emplace_back(item);
  return out;
}

// {"id": …}, or the token's public projection when it is expanded and still exists.
boost::json::object TokenReference(const std::string& id,
                                   const std::map<std::string, domain::Token>* tokens) {
  if (tokens != nullptr) {
    if (auto found = tokens->find(id); found != tokens->end()) {
      return RenderToken(found->second, query::Projection{});
    }
  }
  return boost::json::object{{"id", id}};
}

boost::json::object RenderLlmConfig(const domain::LlmConfig& llm,
                                    const query::Projection& projection,
                                    const std::map<std::string, domain::Token>* tokens) {
  boost::json::object out;
  if (projection.IncludesExactly("llmConfig.provider")) out["provider"] = llm.provider;
  if (projection.IncludesExactly("llmConfig.model")) out["model"] = llm.model;
  if (llm.temperature_tenths && projection.IncludesExactly("llmConfig.temperature")) {
    out["temperature"] = static_cast<double>(*llm.temperature_tenths) / 10.0;
  }
  if (llm.max_tokens && projection.IncludesExactly("llmConfig.maxTokens")) {
    out["maxTokens"] = *llm.max_tokens;
  }
  if (llm.token_id && projection.Includes("llmConfig.token")) {
    // Only a selection of the whole reference expands; `llmConfig.token.id` stays an id.
    out["token"] = TokenReference(*llm.token_id,
                                  projection.IncludesExactly("llmConfig.token") ? tokens : nullptr);
  }
  if (llm.base_provider && projection.IncludesExactly("llmConfig.baseProvider")) {
    out["baseProvider"] = *llm.base_provider;
  }
  if (llm.self_hosted_params && projection.IncludesExactly("llmConfig.selfHostedParams")) {
    const domain::SelfHostedParams& params = *llm.self_hosted_params;
    boost::json::object self_hosted{{"url", params.url}};
    if (params.authorization_header_name) {
      self_hosted["authorizationHeaderName"] = *params.authorization_header_name;
    }
    if (params.authorization_header_token_id) {
      self_hosted["authorizationHeaderToken"] =
          TokenReference(*params.authorization_header_token_id, tokens);
    }
    out["selfHostedParams"] = std::move(self_hosted);
  }
  return out;
}

boost::json::object RenderMcpServerEntry(
    const domain::AgentMcpServer& entry,
    const std::map<std::string, domain::McpServer>* mcp_servers) {
  boost::json::object out{{"type", entry.type}};
  if (entry.mcp_server_id) {
    const domain::McpServer* server = nullptr;
    if (mcp_servers != nullptr) {
      if (auto found = mcp_servers->find(*entry.mcp_server_id); found != mcp_servers->end()) {
        server = &found->second;
      }
    }
    // An expanded server shows its own token reference as an id: expand=token is about the
    // agent's tokens.
    out["mcpServer"] = server != nullptr ? RenderMcpServer(*server, query::Projection{}, nullptr)
                                         : boost::json::object{{"id", *entry.mcp_server_id}};
  }
  if (entry.domain) out["domain"] = *entry.domain;
  if (entry.tools) out["tools"] = Strings(*entry.tools);
  return out;
}

}  // namespace

Result<service::AgentUpsertCommand> DecodeAgentPut(const boost::json::value& body,
                                                   const std::string& path_id) {
  if (!body.is_object()) {
    return Error::InvalidField("body", "type", "The request body must be a JSON object");
  }
  service::AgentUpsertCommand command;
  domain::Agent& agent = command.resource;
  agent.id = path_id;
  BodyProblems problems;
  bool has_name = false;
  bool has_user_prompt = false;
  bool has_llm_config = false;
  bool has_mcp_servers = false;
  for (const auto& [key, v] : body.as_object()) {
    const std::string_view k = key;
    if (k == "id") {
      CheckBodyId(v, path_id, problems);
    } else if (k == "name") {
      has_name = !v.is_null();
      std::optional<domain::LocalizedText> name;
      if (ReadLocalized(v, "name", name, problems)) agent.name = std::move(*name);
    } else if (k == "description") {
      ReadLocalized(v, "description", agent.description, problems);
    } else if (k == "enabled") {
      ReadBool(v, "enabled", agent.enabled, problems);
    } else if (k == "type") {
      ReadOptionalString(v, "type", agent.type, problems);
    } else if (k == "tags") {
      ReadStrings(v, "tags", agent.tags, problems);
    } else if (k == "userPrompt") {
      has_user_prompt = !v.is_null();
      ReadString(v, "userPrompt", agent.user_prompt, problems);
    } else if (k == "llmConfig") {
      if (v.is_null()) continue;
      has_llm_config = true;
      DecodeLlmConfig(v, agent.llm_config, problems);
    } else if (k == "mcpServers") {
      if (v.is_null()) continue;
      has_mcp_servers = true;
      DecodeMcpServers(v, agent.mcp_servers, problems);
    } else if (k == "metadata") {
      ReadMetadata(v, command.expected_version, problems);
    } else {
      problems.Unknown("", k);
    }
  }
  if (!has_name) problems.Required("name");
  if (!has_user_prompt) problems.Required("userPrompt");
  if (!has_llm_config) problems.Required("llmConfig");
  if (!has_mcp_servers) {
    problems.Add("mcpServers", "required", "mcpServers is required (it may be empty: [])");
  }
  if (auto r = std::move(problems).Finish(); !r) return std::move(r).error();
  return command;
}

boost::json::object RenderAgent(const domain::Agent& agent, const query::Projection& projection,
                                const std::map<std::string, domain::Token>* tokens,
                                const std::map<std::string, domain::McpServer>* mcp_servers) {
  boost::json::object out;
  if (projection.Includes("id")) out["id"] = agent.id;
  if (projection.Includes("name")) out["name"] = Localized(agent.name);
  if (agent.description && projection.Includes("description")) {
    out["description"] = Localized(*agent.description);
  }
  if (projection.Includes("enabled")) out["enabled"] = agent.enabled;
  if (agent.type && projection.Includes("type")) out["type"] = *agent.type;
  if (agent.tags && projection.Includes("tags")) out["tags"] = Strings(*agent.tags);
  if (projection.Includes("userPrompt")) out["userPrompt"] = agent.user_prompt;
  if (projection.Includes("llmConfig")) {
    out["llmConfig"] = RenderLlmConfig(agent.llm_config, projection, tokens);
  }
  if (projection.Includes("mcpServers")) {
    boost::json::array entries;
    entries.reserve(agent.mcp_servers.size());
    for (const domain::AgentMcpServer& entry : agent.mcp_servers) {
      entries.emplace_back(RenderMcpServerEntry(entry, mcp_servers));
    }
    out["mcpServers"] = std::move(entries);
  }
  if (projection.Includes("metadata")) {
    out["metadata"] = RenderMetadata(agent.metadata, projection);
  }
  return out;
}

}  // namespace ts::api
