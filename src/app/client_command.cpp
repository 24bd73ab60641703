#include "app/client_command.h"

#include <iostream>

#include "config/serve_config.h"
#include "oauth/client_file.h"
#include "oauth/client_secret.h"

namespace ts::app {

const char* const kClientUsage =
    "  token-service client add --tenant T [--scope \"S1 S2\"] [--id ID] [--ttl DURATION]\n"
    "                                     declare a client of POST /oauth/token (client\n"
    "                                     credentials): prints the entry for the\n"
    "                                     --oauth-clients-file file and, once, the generated\n"
    "                                     secret (stored nowhere; only its Argon2id hash is)\n"
    "      --tenant T                     the tenant its tokens are for (required)\n"
    "      --scope \"S1 S2\"                its scopes (default: \"ai.agent_read "
    "ai.agent_manage\")\n"
    "      --id ID                        client_id (default: T- and 8 random hex digits)\n"
    "      --ttl DURATION                 lifetime of its tokens, 1m to 24h (default: 1h)\n";

namespace {

int Fail(const std::string& message) {
  std::cerr << "token-service client: " << message << "\n";
  return 2;
}

int Add(const std::vector<std::string>& args) {
  oauth::OAuthClient client;
  std::string scope = "ai.agent_read ai.agent_manage";
  std::string ttl = "1h";
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (i + 1 >= args.size()) return Fail(flag + " needs a value (see token-service --help)");
    const std::string& value = args[++i];
    if (flag == "--tenant")
      client.tenant = value;
    else if (flag == "--scope")
      scope = value;
    else if (flag == "--id")
      client.client_id = value;
    else if (flag == "--ttl")
      ttl = value;
    else
      return Fail("unknown option " + flag + " for client add (see token-service --help)");
  }
  if (client.tenant.empty()) return Fail("client add needs --tenant");
  auto seconds = config::ParseDuration(ttl);
  if (!seconds || *seconds < oauth::kMinTokenTtlSeconds || *seconds > oauth::kMaxTokenTtlSeconds) {
    return Fail("--ttl: expected a duration from 1m to 24h such as 30m or 1h, got '" + ttl + "'");
  }
  client.token_ttl_seconds = *seconds;
  auto scopes = oauth::ParseScopeList(scope);
  if (!scopes) return Fail("--scope: " + scopes.error().message);
  client.scopes = std::move(scopes).value();
  if (client.client_id.empty()) client.client_id = oauth::NewClientId(client.tenant);

  std::string secret = oauth::GenerateClientSecret();
  auto hash = oauth::HashClientSecret(secret);
  if (!hash) return Fail(hash.error().internal);
  client.secret_hash = std::move(hash).value();
  // The same checks as the service's at start-up, so the printed entry is one it accepts.
  if (auto valid = oauth::ValidateClient(client); !valid) return Fail(valid.error().message);

  std::cout << "Add this entry to the JSON array of the --oauth-clients-file file (mode 0600),\n"
               "then restart the service:\n\n"
            << oauth::RenderClientEntry(client) << "\n\n"
            << "One-time client secret of client_id " << client.client_id
            << " (shown only now and stored nowhere; hand it to the client):\n\n"
            << "client_secret: " << secret << "\n";
  std::cout.flush();
  return 0;
}

}  // namespace

int RunClientCommand(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h" || a == "help") {
      std::cout << "Usage:\n" << kClientUsage;
      return 0;
    }
  }
  if (args.empty() || args.front() != "add") {
    std::cerr << "Usage:\n" << kClientUsage;
    return 2;
  }
  return Add(std::vector<std::string>(args.begin() + 1, args.end()));
}

}  // namespace ts::app
