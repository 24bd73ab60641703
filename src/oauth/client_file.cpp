#include "oauth/client_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "domain/token.h"
#include "oauth/client_secret.h"

namespace ts::oauth {
namespace {

namespace json = boost::json;

constexpr std::int64_t kMaxFileBytes = 4 << 20;

// RFC 6749 appendix A.4: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
bool IsScopeTokenChar(char c) {
  return c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

// Client ids go into URLs (Basic credentials are form-encoded), logs and the `sub` claim: a
// conservative character set keeps them unambiguous everywhere.
bool IsClientIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

Error EntryError(std::string_view source, std::size_t index, const std::string& client_id,
                 const std::string& message) {
  std::string where = std::string(source) + ": clients[" + std::to_string(index) + "]";
  if (!client_id.empty()) where += " (client_id \"" + client_id + "\")";
  return Error::Invalid(where + ": " + message);
}

Result<std::vector<std::string>> ScopesFrom(const json::value& value) {
  if (value.is_string()) return ParseScopeList(value.get_string());
  if (!value.is_array()) return Error::Invalid("scopes: expected an array of strings or a string");
  std::string joined;
  for (const json::value& scope : value.get_array()) {
    if (!scope.is_string()) return Error::Invalid("scopes: expected an array of strings");
    const std::string_view text = scope.get_string();
    if (text.empty() || text.find(' ') != std::string_view::npos) {
      return Error::Invalid("scopes: each scope must be one non-empty scope token");
    }
    joined += std::string(text) + " ";
  }
  return ParseScopeList(joined);
}

Result<OAuthClient> ClientFrom(const json::value& entry, std::string_view source,
                               std::size_t index) {
  if (!entry.is_object()) return EntryError(source, index, "", "expected a JSON object");
  const json::object& object = entry.as_object();
  OAuthClient client;
  if (const json::value* id = object.if_contains("client_id"); id && id->is_string()) {
    client.client_id = std::string(id->get_string());
  }
  auto fail = [&](const std::string& message) {
    return EntryError(source, index, client.client_id, message);
  };
  for (const auto& [key, value] : object) {
    if (key == "client_id" || key == "secret_hash" || key == "tenant") {
      if (!value.is_string()) return fail(std::string(key) + ": expected a string");
      if (key == "secret_hash") client.secret_hash = std::string(value.get_string());
      if (key == "tenant") client.tenant = std::string(value.get_string());
    } else if (key == "scopes") {
      auto scopes = ScopesFrom(value);
      if (!scopes) return fail(scopes.error().message);
      client.scopes = std::move(scopes).value();
    } else if (key == "token_ttl_seconds") {
      if (!value.is_int64() && !value.is_uint64()) {
        return fail("token_ttl_seconds: expected a whole number of seconds");
      }
      client.token_ttl_seconds = value.is_int64() ? value.get_int64() : -1;
    } else {
      return fail("unknown key \"" + std::string(key) +
                  "\" (allowed: client_id, secret_hash, tenant, scopes, token_ttl_seconds)");
    }
  }
  for (const char* required : {"client_id", "secret_hash", "tenant", "scopes"}) {
    if (!object.contains(required)) return fail(std::string(required) + ": required");
  }
  if (auto valid = ValidateClient(client); !valid) return fail(valid.error().message);
  return client;
}

std::string ModeText(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

Result<std::vector<std::string>> ParseScopeList(std::string_view text) {
  std::vector<std::string> scopes;
  std::set<std::string, std::less<>> seen;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    std::size_t end = text.find(' ', i);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view scope = text.substr(i, end - i);
    for (char c : scope) {
      if (!IsScopeTokenChar(c)) {
        return Error::Invalid(
            "scopes: a scope may only hold printable ASCII characters other "
            "than space, '\"' and '\\'");
      }
    }
    if (seen.insert(std::string(scope)).second) scopes.emplace_back(scope);
    i = end;
  }
  if (scopes.empty()) return Error::Invalid("scopes: at least one scope is required");
  return scopes;
}

Result<void> ValidateClient(const OAuthClient& client) {
  if (client.client_id.empty() || client.client_id.size() > kMaxClientIdBytes) {
    return Error::Invalid("client_id: expected 1 to " + std::to_string(kMaxClientIdBytes) +
                          " characters");
  }
  for (char c : client.client_id) {
    if (!IsClientIdChar(c)) {
      return Error::Invalid("client_id: only letters, digits, '-', '_', '.' and '~' are allowed");
    }
  }
  if (auto tenant = domain::ValidateTenant(client.tenant); !tenant) {
    return Error::Invalid("tenant: " + tenant.error().message);
  }
  if (auto cost = Argon2idCostOf(client.secret_hash); !cost) {
    return Error::Invalid("secret_hash: " + cost.error().message);
  }
  if (client.scopes.empty()) return Error::Invalid("scopes: at least one scope is required");
  if (client.token_ttl_seconds < kMinTokenTtlSeconds ||
      client.token_ttl_seconds > kMaxTokenTtlSeconds) {
    return Error::Invalid("token_ttl_seconds: expected " + std::to_string(kMinTokenTtlSeconds) +
                          " to " + std::to_string(kMaxTokenTtlSeconds));
  }
  return Ok();
}

Result<std::vector<OAuthClient>> ParseClientsFile(std::string_view text, std::string_view source) {
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) return Error::Invalid(std::string(source) + ": not valid JSON (" + ec.message() + ")");
  const json::value* entries = &root;
  if (root.is_object()) {
    for (const auto& [key, value] : root.as_object()) {
      if (key != "clients") {
        return Error::Invalid(std::string(source) + ": unknown key \"" + std::string(key) +
                              "\" (allowed: clients)");
      }
    }
    entries = root.as_object().if_contains("clients");
  }
  if (entries == nullptr || !entries->is_array()) {
    return Error::Invalid(std::string(source) +
                          ": expected an array of clients, or an object {\"clients\": [...]}");
  }
  std::vector<OAuthClient> clients;
  std::set<std::string, std::less<>> ids;
  for (std::size_t i = 0; i < entries->as_array().size(); ++i) {
    auto client = ClientFrom(entries->as_array()[i], source, i);
    if (!client) return std::move(client).error();
    if (!ids.insert(client->client_id).second) {
      return EntryError(source, i, client->client_id,
                        "client_id: duplicate (each client_id may be declared once)");
    }
    clients.push_back(std::move(client).value());
  }
  if (clients.empty()) return Error::Invalid(std::string(source) + ": declares no client");
  return clients;
}

Result<std::vector<OAuthClient>> LoadClientsFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return Error::Invalid("clients file " + path + ": cannot open: " + std::strerror(errno));
  }
  struct stat st {};
  std::string text;
  std::string problem;
  if (::fstat(fd, &st) != 0) {
    problem = std::string("cannot be inspected: ") + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    problem = "is not a regular file";
  } else if ((st.st_mode & 077) != 0) {
    // Hashes are not secrets, but whoever can change the file can add a client of any tenant.
    problem = "is accessible by group or others (mode " + ModeText(st.st_mode) +
              "); restrict it with: chmod 600 " + path;
  } else if (st.st_size > kMaxFileBytes) {
    problem = "is larger than 4 MiB";
  } else {
    text.resize(static_cast<std::size_t>(st.st_size));
    std::size_t filled = 0;
    while (filled < text.size() && problem.empty()) {
      const ssize_t n = ::read(fd, text.data() + filled, text.size() - filled);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) problem = "could not be read whole";
      filled += n > 0 ? static_cast<std::size_t>(n) : 0;
    }
  }
  ::close(fd);
  if (!problem.empty()) return Error::Invalid("clients file " + path + " " + problem);
  return ParseClientsFile(text, "clients file " + path);
}

std::string RenderClientEntry(const OAuthClient& client) {
  json::array scopes;
  for (const std::string& scope : client.scopes) scopes.emplace_back(scope);
  json::object entry;
  entry["client_id"] = client.client_id;
  entry["secret_hash"] = client.secret_hash;
  entry["tenant"] = client.tenant;
  entry["scopes"] = std::move(scopes);
  entry["token_ttl_seconds"] = client.token_ttl_seconds;
  return json::serialize(entry);
}

}  // namespace ts::oauth
