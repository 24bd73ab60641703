// The agent resource: an AI agent whose LLM configuration may use one of the tenant's tokens
// (an API key, or the authorization header of a self-hosted LLM) and which may use MCP servers
// of the tenant. This unit holds the supported subset of the vendor's agent schema (see
// docs/design-references.md), its validation (errors name the field as the API spells it),
// the references an agent makes, and the schema `q`, `sort` and `fields` use. Whether the
// referenced tokens and MCP servers exist is checked by the store inside the write transaction.
// No I/O, no JSON library. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "domain/token.h"
#include "query/query.h"

namespace ts::domain {

// Language code → text, e.g. {"en": "Complaint agent", "de": "Beschwerde-Agent"}.
using LocalizedText = std::map<std::string, std::string>;

struct SelfHostedParams {
  std::string url;
  std::optional<std::string> authorization_header_name;
  std::optional<std::string> authorization_header_token_id;  // a token of the tenant
  friend bool operator==(const SelfHostedParams&, const SelfHostedParams&) = default;
};

// Which provider family a `provider` belongs to; each has its own required fields.
enum class LlmProviderKind {
  kApiKey,      // openai, google, anthropic: token.id required
  kEmporix,     // emporix_openai: no token
  kSelfHosted,  // self_hosted_ollama, self_hosted_vllm: selfHostedParams required
};
std::optional<LlmProviderKind> ProviderKind(std::string_view provider);

struct LlmConfig {
  std::string provider;
  std::string model;
  // The vendor allows 0.1, 0.2, …, 1.0; kept as tenths (1..10) so it round-trips exactly.
  std::optional<std::int64_t> temperature_tenths;
  std::optional<std::int64_t> max_tokens;
  std::optional<std::string> token_id;       // API-key providers
  std::optional<std::string> base_provider;  // self-hosted only: ANTHROPIC, GOOGLE or OPENAI
  std::optional<SelfHostedParams> self_hosted_params;  // self-hosted only
  friend bool operator==(const LlmConfig&, const LlmConfig&) = default;
};

// One entry of an agent's `mcpServers`: a tenant MCP server (`custom`, by id) or an Emporix
// domain server (`predefined`). The vendor's `dynamic` attachments are not supported.
struct AgentMcpServer {
  std::string type;                               // "custom" or "predefined"
  std::optional<std::string> mcp_server_id;       // custom
  std::optional<std::string> domain;              // predefined
  std::optional<std::vector<std::string>> tools;  // predefined: allow-list of tool names
  friend bool operator==(const AgentMcpServer&, const AgentMcpServer&) = default;
};

struct Agent {
  std::string id;
  LocalizedText name;  // required, at least one language
  std::optional<LocalizedText> description;
  bool enabled = false;             // the vendor's default
  std::optional<std::string> type;  // generic, complaint or anti_fraud
  std::optional<std::vector<std::string>> tags;
  std::string user_prompt;                  // required
  LlmConfig llm_config;                     // required
  std::vector<AgentMcpServer> mcp_servers;  // required (may be empty)
  ResourceMetadata metadata;
};

inline constexpr std::size_t kMaxLanguages = 50;
inline constexpr std::size_t kMaxTags = 50;
inline constexpr std::size_t kMaxAgentMcpServers = 50;
inline constexpr std::size_t kMaxTools = 200;
inline constexpr std::size_t kMaxDescriptionBytes = 4096;
inline constexpr std::size_t kMaxUserPromptBytes = 65536;
inline constexpr std::int64_t kMaxLlmTokens = 10'000'000;

// Checks every field a client wrote (not metadata, not the id). The first failure is returned
// as kInvalidArgument with one detail naming the field, e.g. "name.en",
// "llmConfig.token.id" or "mcpServers[2].mcpServer.id".
Result<void> ValidateAgent(const Agent& agent);

// What an agent references, as the store records it and a refused delete reports it.
struct AgentReference {
  enum class Target { kToken, kMcpServer };
  Target target;
  std::string id;
  std::string field;  // e.g. "llmConfig.token.id", "mcpServers[0].mcpServer.id"
  friend bool operator==(const AgentReference&, const AgentReference&) = default;
};
std::vector<AgentReference> ReferencesOf(const Agent& agent);

// Applies JSON-patch-like operations to an agent, all or none, then validates the result.
// Paths: /name/<language> and /description/<language> (string; remove drops the language),
// /enabled (boolean), /type (string; removable), /userPrompt (string), /llmConfig/model
// (string), /llmConfig/token and /llmConfig/selfHostedParams/authorizationHeaderToken
// ({"id": …}; removable). Lists, numbers and whole maps are changed with PUT. Errors are
// kInvalidArgument naming the failing operation (`[i].path`).
Result<Agent> ApplyAgentPatch(const Agent& current, const std::vector<PatchOperation>& ops);

// The schema `q`, `sort` and `fields` use for agents. Localized fields (`name.en`) and tags are
// not in it yet: they need per-language paths, which ResourceSchema cannot express today.
const query::ResourceSchema& AgentSchema();

}  // namespace ts::domain
