// The MCP server resource (the vendor's `custom` type): an endpoint an agent talks to, which may
// send one of the tenant's tokens in an authorization header. Its rules: field validation (errors
// name the field as the API spells it), the defaults of optional fields, and the schema `q`,
// `sort` and `fields` use. No I/O, no JSON library. Pure, thread-safe.
//
// Whether a referenced token exists is not a rule of this unit: it depends on stored state and
// is checked by the store inside the write transaction (docs/design-references.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "domain/token.h"
#include "query/query.h"

namespace ts::domain {

inline constexpr std::string_view kMcpServerTypeCustom = "custom";
inline constexpr std::string_view kMcpTransportStreamableHttp = "streamable_http";
inline constexpr std::string_view kMcpTransportSse = "sse";

inline constexpr std::size_t kMaxUrlBytes = 2048;
inline constexpr std::size_t kMaxHeaderNameBytes = 256;

struct McpServerConfig {
  std::string url;
  std::optional<std::string> authorization_header_name;
  // The id of a token of the same tenant; absent when the server needs no token.
  std::optional<std::string> authorization_header_token_id;

  friend bool operator==(const McpServerConfig&, const McpServerConfig&) = default;
};

// Every field the service accepts; a read shows exactly these (absent optionals stay absent).
struct McpServer {
  std::string id;
  std::string name;
  bool enabled = false;                    // the vendor's default
  std::string type{kMcpServerTypeCustom};  // only "custom" is supported
  std::string transport;                   // "streamable_http" or "sse"
  McpServerConfig config;
  ResourceMetadata metadata;
};

// Checks every field a client wrote (not metadata, not the id, which the router checked).
// The first failure is returned as kInvalidArgument with one detail naming the field, e.g.
// "config.url" or "config.authorizationHeaderToken.id".
Result<void> ValidateMcpServer(const McpServer& server);

// The parts of ValidateMcpServer, for PATCH paths that set one field.
Result<void> ValidateMcpServerType(std::string_view type);
Result<void> ValidateMcpTransport(std::string_view transport);
Result<void> ValidateMcpServerUrl(std::string_view url);
// An absolute http:// or https:// URL with a host, 1–2048 bytes, no white space or control
// characters; errors name `field`.
Result<void> ValidateHttpUrl(std::string_view url, std::string_view field);
Result<void> ValidateHeaderName(std::string_view name, std::string_view field);

// Applies PATCH operations (RFC 6902 paths, ops ADD/REMOVE/REPLACE) to a server, all or none,
// then validates the result with ValidateMcpServer. Writable paths: /name, /enabled, /type,
// /transport, /config/url, /config/authorizationHeaderName,
// /config/authorizationHeaderToken (value {"id": …}) and /config/authorizationHeaderToken/id.
// REMOVE of an optional field makes it absent (enabled: false, type: custom); of a required
// one it is 400. /id and /metadata… are read-only. Errors on an operation name `[i].path` or
// `[i].value`; errors of the result name the resource field.
Result<McpServer> ApplyMcpServerPatch(const McpServer& current,
                                      const std::vector<PatchOperation>& ops);

// The schema `q`, `sort` and `fields` use for MCP servers. Optional fields (absent on some
// servers) are queryable, including `:null`/`:missing`/`:exists`, but not sortable: SQL
// databases disagree on where NULLs sort, and the order must be the same on every backend.
const query::ResourceSchema& McpServerSchema();

}  // namespace ts::domain
