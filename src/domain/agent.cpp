#include "domain/agent.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "domain/mcp_server.h"
#include "domain/patch_errors.h"

namespace ts::domain {
namespace {

// A language code as the vendor uses them ("en", "de", "en-US"): 2–3 lowercase letters, then
// optional subtags of 1–8 letters or digits.
bool IsLanguageCode(std::string_view code) {
  if (code.empty() || code.size() > 35) return false;
  std::size_t i = 0;
  while (i < code.size() && code[i] >= 'a' && code[i] <= 'z') ++i;
  if (i < 2 || i > 3) return false;
  while (i < code.size()) {
    if (code[i] != '-') return false;
    const std::size_t start = ++i;
    while (i < code.size() && std::isalnum(static_cast<unsigned char>(code[i]))) ++i;
    if (i == start || i - start > 8) return false;
  }
  return true;
}

bool IsBlankText(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
}

Error Invalid(const std::string& field, std::string type, const std::string& message) {
  return Error::InvalidField(field, std::move(type), message);
}

std::string Indexed(std::string_view base, std::size_t i, std::string_view rest = {}) {
  return std::string(base) + "[" + std::to_string(i) + "]" + std::string(rest);
}

Result<void> ValidateLocalized(const LocalizedText& text, std::string_view field, bool is_name) {
  const std::string f(field);
  if (is_name && text.empty()) {
    return Invalid(f, "required", f + " needs a text in at least one language");
  }
  if (text.size() > kMaxLanguages) {
    return Invalid(f, "tooLong", f + " may have at most 50 languages");
  }
  for (const auto& [language, value] : text) {
    if (!IsLanguageCode(language)) {
      return Invalid(f, "invalid", f + " has a key that is not a language code (e.g. en, de-CH)");
    }
    const std::string at = f + "." + language;
    if (is_name) {
      if (auto r = ValidateName(value, at); !r) return r;
    } else if (value.size() > kMaxDescriptionBytes) {
      return Invalid(at, "tooLong", at + " must be at most 4096 bytes long");
    }
  }
  return Ok();
}

Result<void> ValidateTokenId(const std::string& id, const std::string& field) {
  return ValidateResourceId(id, field);
}

Result<void> ValidateLlmConfig(const LlmConfig& llm) {
  const auto kind = ProviderKind(llm.provider);
  if (llm.provider.empty()) {
    return Invalid("llmConfig.provider", "required", "llmConfig.provider is required");
  }
  if (!kind) {
    return Invalid("llmConfig.provider", "invalid",
                   "llmConfig.provider must be one of openai, google, anthropic, emporix_openai, "
                   "self_hosted_ollama, self_hosted_vllm");
  }
  if (auto r = ValidateName(llm.model, "llmConfig.model"); !r) return r;
  if (llm.temperature_tenths && (*llm.temperature_tenths < 1 || *llm.temperature_tenths > 10)) {
    return Invalid("llmConfig.temperature", "invalid",
                   "llmConfig.temperature must be one of 0.1, 0.2, ..., 1.0");
  }
  if (llm.max_tokens && (*llm.max_tokens < 1 || *llm.max_tokens > kMaxLlmTokens)) {
    return Invalid("llmConfig.maxTokens", "invalid",
                   "llmConfig.maxTokens must be from 1 to 10000000");
  }
  if (*kind == LlmProviderKind::kApiKey) {
    if (!llm.token_id) {
      return Invalid("llmConfig.token.id", "required",
                     "llmConfig.token.id is required for provider " + llm.provider);
    }
    if (auto r = ValidateTokenId(*llm.token_id, "llmConfig.token.id"); !r) return r;
  } else if (llm.token_id) {
    return Invalid("llmConfig.token", "notAllowed",
                   "llmConfig.token is only for the providers openai, google and anthropic");
  }
  if (*kind == LlmProviderKind::kSelfHosted) {
    if (!llm.self_hosted_params) {
      return Invalid("llmConfig.selfHostedParams", "required",
                     "llmConfig.selfHostedParams is required for provider " + llm.provider);
    }
    const SelfHostedParams& params = *llm.self_hosted_params;
    if (auto r = ValidateHttpUrl(params.url, "llmConfig.selfHostedParams.url"); !r) return r;
    if (params.authorization_header_name) {
      if (auto r = ValidateHeaderName(*params.authorization_header_name,
                                      "llmConfig.selfHostedParams.authorizationHeaderName");
          !r) {
        return r;
      }
    }
    if (params.authorization_header_token_id) {
      if (auto r = ValidateTokenId(*params.authorization_header_token_id,
                                   "llmConfig.selfHostedParams.authorizationHeaderToken.id");
          !r) {
        return r;
      }
    }
    if (llm.base_provider && *llm.base_provider != "ANTHROPIC" && *llm.base_provider != "GOOGLE" &&
        *llm.base_provider != "OPENAI") {
      return Invalid("llmConfig.baseProvider", "invalid",
                     "llmConfig.baseProvider must be ANTHROPIC, GOOGLE or OPENAI");
    }
  } else {
    if (llm.self_hosted_params) {
      return Invalid("llmConfig.selfHostedParams", "notAllowed",
                     "llmConfig.selfHostedParams is only for self-hosted providers");
    }
    if (llm.base_provider) {
      return Invalid("llmConfig.baseProvider", "notAllowed",
                     "llmConfig.baseProvider is only for self-hosted providers");
    }
  }
  return Ok();
}

Result<void> ValidateMcpServers(const std::vector<AgentMcpServer>& servers) {
  if (servers.size() > kMaxAgentMcpServers) {
    return Invalid("mcpServers", "tooLong", "an agent may use at most 50 MCP servers");
  }
  std::set<std::string> custom_ids;
  for (std::size_t i = 0; i < servers.size(); ++i) {
    const AgentMcpServer& server = servers[i];
    if (server.type == "custom") {
      const std::string field = Indexed("mcpServers", i, ".mcpServer.id");
      if (!server.mcp_server_id) return Invalid(field, "required", field + " is required");
      if (auto r = ValidateResourceId(*server.mcp_server_id, field); !r) return r;
      if (!custom_ids.insert(*server.mcp_server_id).second) {
        return Invalid(
            field, "duplicate",
            "MCP server " + server.mcp_server_id->substr(0, 100) + " is listed more than once");
      }
      if (server.domain || server.tools) {
        return Invalid(Indexed("mcpServers", i), "notAllowed",
                       "custom MCP servers take only type and mcpServer");
      }
    } else if (server.type == "predefined") {
      const std::string field = Indexed("mcpServers", i, ".domain");
      static const std::set<std::string, std::less<>> kDomains{"customer", "extensibility", "order",
                                                               "product", "frontend"};
      if (!server.domain) return Invalid(field, "required", field + " is required");
      if (!kDomains.contains(*server.domain)) {
        return Invalid(field, "invalid",
                       field + " must be customer, extensibility, order, product or frontend");
      }
      if (server.mcp_server_id) {
        return Invalid(Indexed("mcpServers", i, ".mcpServer"), "notAllowed",
                       "predefined MCP servers are named by domain, not by mcpServer");
      }
      if (server.tools) {
        if (server.tools->size() > kMaxTools) {
          return Invalid(Indexed("mcpServers", i, ".tools"), "tooLong",
                         "at most 200 tools per MCP server");
        }
        for (std::size_t t = 0; t < server.tools->size(); ++t) {
          if (auto r =
                  ValidateName((*server.tools)[t], Indexed("mcpServers", i, Indexed(".tools", t)));
              !r) {
            return r;
          }
        }
      }
    } else if (server.type == "dynamic") {
      return Invalid(Indexed("mcpServers", i, ".type"), "unsupported",
                     "dynamic MCP servers are not supported; use custom or predefined");
    } else {
      return Invalid(Indexed("mcpServers", i, ".type"), "invalid",
                     "the type of an MCP server entry must be custom or predefined");
    }
  }
  return Ok();
}

}  // namespace

std::optional<LlmProviderKind> ProviderKind(std::string_view provider) {
  if (provider == "openai" || provider == "google" || provider == "anthropic") {
    return LlmProviderKind::kApiKey;
  }
  if (provider == "emporix_openai") return LlmProviderKind::kEmporix;
  if (provider == "self_hosted_ollama" || provider == "self_hosted_vllm") {
    return LlmProviderKind::kSelfHosted;
  }
  return std::nullopt;
}

Result<void> ValidateAgent(const Agent& agent) {
  if (auto r = ValidateLocalized(agent.name, "name", true); !r) return r;
  if (agent.description) {
    if (auto r = ValidateLocalized(*agent.description, "description", false); !r) return r;
  }
  if (agent.type && *agent.type != "generic" && *agent.type != "complaint" &&
      *agent.type != "anti_fraud") {
    return Invalid("type", "invalid", "type must be generic, complaint or anti_fraud");
  }
  if (agent.tags) {
    if (agent.tags->size() > kMaxTags) return Invalid("tags", "tooLong", "at most 50 tags");
    for (std::size_t i = 0; i < agent.tags->size(); ++i) {
      if (auto r = ValidateName((*agent.tags)[i], Indexed("tags", i)); !r) return r;
    }
  }
  if (agent.user_prompt.empty() || IsBlankText(agent.user_prompt)) {
    return Invalid("userPrompt", "required", "userPrompt is required and must not be blank");
  }
  if (agent.user_prompt.size() > kMaxUserPromptBytes) {
    return Invalid("userPrompt", "tooLong", "userPrompt must be at most 65536 bytes long");
  }
  if (auto r = ValidateLlmConfig(agent.llm_config); !r) return r;
  return ValidateMcpServers(agent.mcp_servers);
}

std::vector<AgentReference> ReferencesOf(const Agent& agent) {
  std::vector<AgentReference> refs;
  const LlmConfig& llm = agent.llm_config;
  if (llm.token_id) {
    refs.push_back({AgentReference::Target::kToken, *llm.token_id, "llmConfig.token.id"});
  }
  if (llm.self_hosted_params && llm.self_hosted_params->authorization_header_token_id) {
    refs.push_back({AgentReference::Target::kToken,
                    *llm.self_hosted_params->authorization_header_token_id,
                    "llmConfig.selfHostedParams.authorizationHeaderToken.id"});
  }
  for (std::size_t i = 0; i < agent.mcp_servers.size(); ++i) {
    if (agent.mcp_servers[i].mcp_server_id) {
      refs.push_back({AgentReference::Target::kMcpServer, *agent.mcp_servers[i].mcp_server_id,
                      Indexed("mcpServers", i, ".mcpServer.id")});
    }
  }
  return refs;
}

namespace {

// Applies one operation to `agent`; ValidateAgent runs after all of them.
Result<void> ApplyAgentOp(Agent& agent, const PatchOperation& op, std::size_t i) {
  const bool remove = op.op == PatchOperation::Op::kRemove;
  const std::string& path = op.path;
  auto string_value = [&]() -> Result<std::string> {
    if (!op.has_value || !op.value_is_string) return PatchValueTypeError(i, path, "a string");
    return op.string_value;
  };
  auto reference = [&](std::optional<std::string>& target) -> Result<void> {
    if (remove) {
      target.reset();
    } else if (!op.object_id) {
      return PatchValueTypeError(i, path, "an object {\"id\": \"<token id>\"}");
    } else {
      target = *op.object_id;
    }
    return Ok();
  };
  constexpr std::string_view kName = "/name/";
  constexpr std::string_view kDescription = "/description/";
  if (path.starts_with(kName) || path.starts_with(kDescription)) {
    const bool is_name = path.starts_with(kName);
    const std::string language =
        path.substr(is_name ? kName.size() : kDescription.size());
    if (!IsLanguageCode(language)) {
      return Error::InvalidField(PatchAt(i, "path"), "invalidPath",
                                 "the last segment of " + path.substr(0, 100) +
                                     " must be a language code (e.g. en, de-CH)");
    }
    if (is_name) {
      if (remove) {
        agent.name.erase(language);
        return Ok();
      }
      auto value = string_value();
      if (!value) return std::move(value).error();
      agent.name[language] = std::move(value).value();
      return Ok();
    }
    if (remove) {
      if (agent.description) agent.description->erase(language);
      if (agent.description && agent.description->empty()) agent.description.reset();
      return Ok();
    }
    auto value = string_value();
    if (!value) return std::move(value).error();
    if (!agent.description) agent.description.emplace();
    (*agent.description)[language] = std::move(value).value();
    return Ok();
  }
  if (path == "/name" || path == "/description") {
    return Error::InvalidField(PatchAt(i, "path"), "invalidPath",
                               path + " is a map of language to text; patch " + path +
                                   "/<language>, or replace the whole agent with PUT");
  }
  if (path == "/enabled") {
    if (remove) {
      agent.enabled = false;
    } else if (!op.bool_value) {
      return PatchValueTypeError(i, path, "a boolean");
    } else {
      agent.enabled = *op.bool_value;
    }
    return Ok();
  }
  if (path == "/type") {
    if (remove) {
      agent.type.reset();
      return Ok();
    }
    auto value = string_value();
    if (!value) return std::move(value).error();
    agent.type = std::move(value).value();
    return Ok();
  }
  if (path == "/userPrompt" || path == "/llmConfig/model") {
    if (remove) return PatchRequiredPathError(i, path);
    auto value = string_value();
    if (!value) return std::move(value).error();
    (path == "/userPrompt" ? agent.user_prompt : agent.llm_config.model) =
        std::move(value).value();
    return Ok();
  }
  if (path == "/llmConfig/token") return reference(agent.llm_config.token_id);
  if (path == "/llmConfig/selfHostedParams/authorizationHeaderToken") {
    if (!agent.llm_config.self_hosted_params) {
      if (remove) return Ok();
      return Error::InvalidField(PatchAt(i, "path"), "invalidPath",
                                 "the agent has no llmConfig.selfHostedParams; use PUT");
    }
    return reference(agent.llm_config.self_hosted_params->authorization_header_token_id);
  }
  if (path == "/id" || path == "/metadata" || path.starts_with("/metadata/")) {
    return PatchPathError(i, true, "an agent");
  }
  return PatchPathError(i, false, "an agent");
}

}  // namespace

Result<Agent> ApplyAgentPatch(const Agent& current, const std::vector<PatchOperation>& ops) {
  if (ops.empty() || ops.size() > kMaxPatchOperations) {
    return Error::InvalidField("body", "size", "a patch must contain 1 to 200 operations");
  }
  Agent next = current;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (auto applied = ApplyAgentOp(next, ops[i], i); !applied) return std::move(applied).error();
  }
  if (auto valid = ValidateAgent(next); !valid) return std::move(valid).error();
  return next;
}

const query::ResourceSchema& AgentSchema() {
  using query::FieldType;
  static const query::ResourceSchema schema{
      {
          {"id", FieldType::kString, true},
          {"enabled", FieldType::kBoolean, true},
          {"type", FieldType::kString, false},
          {"llmConfig.provider", FieldType::kString, true},
          {"llmConfig.model", FieldType::kString, true},
          {"llmConfig.token.id", FieldType::kString, false},
          {"llmConfig.selfHostedParams.authorizationHeaderToken.id", FieldType::kString, false},
          {"metadata.version", FieldType::kInteger, true},
          {"metadata.createdAt", FieldType::kTimestamp, true},
          {"metadata.modifiedAt", FieldType::kTimestamp, true},
      },
      {"id",
       "name",
       "description",
       "enabled",
       "type",
       "tags",
       "userPrompt",
       "llmConfig",
       "llmConfig.provider",
       "llmConfig.model",
       "llmConfig.temperature",
       "llmConfig.maxTokens",
       "llmConfig.token",
       "llmConfig.token.id",
       "llmConfig.baseProvider",
       "llmConfig.selfHostedParams",
       "mcpServers",
       "metadata",
       "metadata.version",
       "metadata.createdAt",
       "metadata.modifiedAt"},
      {},
  };
  return schema;
}

}  // namespace ts::domain
