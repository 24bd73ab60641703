#include "domain/mcp_server.h"

#include <algorithm>
#include <cctype>

#include "domain/patch_errors.h"

namespace ts::domain {
namespace {

// RFC 9110 `tchar`: the characters of an HTTP field name.
bool IsTokenChar(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return kSpecials.find(c) != std::string_view::npos;
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

Result<void> ValidateMcpServerType(std::string_view type) {
  if (type == kMcpServerTypeCustom) return Ok();
  if (type == "dynamic") {
    return Error::InvalidField("type", "unsupported",
                               "MCP servers of type dynamic are not supported; use custom");
  }
  return Error::InvalidField("type", "invalid", "type must be custom");
}

Result<void> ValidateMcpTransport(std::string_view transport) {
  if (transport == kMcpTransportStreamableHttp || transport == kMcpTransportSse) return Ok();
  if (transport.empty()) {
    return Error::InvalidField("transport", "required",
                               "transport is required: streamable_http or sse");
  }
  return Error::InvalidField("transport", "invalid", "transport must be streamable_http or sse");
}

Result<void> ValidateMcpServerUrl(std::string_view url) {
  return ValidateHttpUrl(url, "config.url");
}

Result<void> ValidateHttpUrl(std::string_view url, std::string_view field) {
  const std::string what(field);
  if (url.empty()) return Error::InvalidField(what, "required", what + " is required");
  if (url.size() > kMaxUrlBytes) {
    return Error::InvalidField(what, "tooLong", what + " must be at most 2048 bytes long");
  }
  // An agent dials this URL; white space or control characters would make it ambiguous to
  // whichever HTTP client parses it next.
  if (std::any_of(url.begin(), url.end(), [](char c) {
        const auto b = static_cast<unsigned char>(c);
        return b <= 0x20 || b == 0x7f;
      })) {
    return Error::InvalidField(what, "invalid",
                               what + " must not contain white space or control characters");
  }
  std::string_view rest;
  if (StartsWithNoCase(url, "https://")) {
    rest = url.substr(8);
  } else if (StartsWithNoCase(url, "http://")) {
    rest = url.substr(7);
  } else {
    return Error::InvalidField(what, "invalid",
                               what + " must be an absolute http:// or https:// URL");
  }
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  const std::size_t at = authority.rfind('@');
  const std::string_view host_port =
      at == std::string_view::npos ? authority : authority.substr(at + 1);
  if (host_port.empty() || host_port.front() == ':') {
    return Error::InvalidField(what, "invalid", what + " must name a host");
  }
  return Ok();
}

Result<void> ValidateHeaderName(std::string_view name, std::string_view field) {
  const std::string f(field);
  if (name.empty()) return Error::InvalidField(f, "blank", f + " must not be empty");
  if (name.size() > kMaxHeaderNameBytes) {
    return Error::InvalidField(f, "tooLong", f + " must be at most 256 characters long");
  }
  if (!std::all_of(name.begin(), name.end(), IsTokenChar)) {
    return Error::InvalidField(
        f, "invalid", f + " must be an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)");
  }
  return Ok();
}

Result<void> ValidateMcpServer(const McpServer& server) {
  if (auto r = ValidateName(server.name, "name"); !r) return r;
  if (auto r = ValidateMcpServerType(server.type); !r) return r;
  if (auto r = ValidateMcpTransport(server.transport); !r) return r;
  if (auto r = ValidateMcpServerUrl(server.config.url); !r) return r;
  if (server.config.authorization_header_name) {
    if (auto r = ValidateHeaderName(*server.config.authorization_header_name,
                                    "config.authorizationHeaderName");
        !r) {
      return r;
    }
  }
  if (server.config.authorization_header_token_id) {
    if (auto r = ValidateResourceId(*server.config.authorization_header_token_id,
                                    "config.authorizationHeaderToken.id");
        !r) {
      return r;
    }
  }
  return Ok();
}

namespace {

// Applies one operation to `server`; the resource-wide validation runs after all of them.
Result<void> ApplyOne(McpServer& server, const PatchOperation& op, std::size_t i) {
  const bool remove = op.op == PatchOperation::Op::kRemove;
  const std::string& path = op.path;
  auto string_value = [&]() -> Result<std::string> {
    if (!op.has_value || !op.value_is_string) return PatchValueTypeError(i, path, "a string");
    return op.string_value;
  };
  if (path == "/name" || path == "/transport" || path == "/config/url") {
    if (remove) return PatchRequiredPathError(i, path);
    auto value = string_value();
    if (!value) return std::move(value).error();
    std::string& target = path == "/name"        ? server.name
                          : path == "/transport" ? server.transport
                                                 : server.config.url;
    target = std::move(value).value();
  } else if (path == "/enabled") {
    if (remove) {
      server.enabled = false;
    } else if (!op.bool_value) {
      return PatchValueTypeError(i, path, "a boolean");
    } else {
      server.enabled = *op.bool_value;
    }
  } else if (path == "/type") {
    if (remove) {
      server.type = std::string(kMcpServerTypeCustom);
    } else {
      auto value = string_value();
      if (!value) return std::move(value).error();
      server.type = std::move(value).value();
    }
  } else if (path == "/config/authorizationHeaderName") {
    if (remove) {
      server.config.authorization_header_name.reset();
    } else {
      auto value = string_value();
      if (!value) return std::move(value).error();
      server.config.authorization_header_name = std::move(value).value();
    }
  } else if (path == "/config/authorizationHeaderToken") {
    if (remove) {
      server.config.authorization_header_token_id.reset();
    } else if (!op.object_id) {
      return PatchValueTypeError(i, path, "an object {\"id\": \"<token id>\"}");
    } else {
      server.config.authorization_header_token_id = *op.object_id;
    }
  } else if (path == "/config/authorizationHeaderToken/id") {
    if (remove) return PatchRequiredPathError(i, path);  // remove the reference itself instead
    auto value = string_value();
    if (!value) return std::move(value).error();
    server.config.authorization_header_token_id = std::move(value).value();
  } else if (path == "/id" || path == "/metadata" || path.rfind("/metadata/", 0) == 0) {
    return PatchPathError(i, true, "an MCP server");
  } else {
    return PatchPathError(i, false, "an MCP server");
  }
  return Ok();
}

}  // namespace

Result<McpServer> ApplyMcpServerPatch(const McpServer& current,
                                      const std::vector<PatchOperation>& ops) {
  if (ops.empty() || ops.size() > kMaxPatchOperations) {
    return Error::InvalidField("body", "size", "a patch must contain 1 to 200 operations");
  }
  McpServer next = current;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (auto applied = ApplyOne(next, ops[i], i); !applied) return std::move(applied).error();
  }
  if (auto valid = ValidateMcpServer(next); !valid) return std::move(valid).error();
  return next;
}

const query::ResourceSchema& McpServerSchema() {
  using query::FieldType;
  static const query::ResourceSchema schema{
      {
          {"id", FieldType::kString, true},
          {"name", FieldType::kString, true},
          {"enabled", FieldType::kBoolean, true},
          {"type", FieldType::kString, true},
          {"transport", FieldType::kString, true},
          {"config.url", FieldType::kString, true},
          {"config.authorizationHeaderName", FieldType::kString, false},
          {"config.authorizationHeaderToken.id", FieldType::kString, false},
          {"metadata.version", FieldType::kInteger, true},
          {"metadata.createdAt", FieldType::kTimestamp, true},
          {"metadata.modifiedAt", FieldType::kTimestamp, true},
      },
      {"id", "name", "enabled", "type", "transport", "config", "config.url",
       "config.authorizationHeaderName", "config.authorizationHeaderToken",
       "config.authorizationHeaderToken.id", "metadata", "metadata.version", "metadata.createdAt",
       "metadata.modifiedAt"},
      {},
  };
  return schema;
}

}  // namespace ts::domain
