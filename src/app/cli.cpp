#include "app/cli.h"

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "app/client_command.h"
#include "app/dev_files.h"
#include "app/keys_command.h"
#include "app/serve.h"
#include "auth/token_verifier.h"
#include "common/clock.h"
#include "config/serve_config.h"

namespace ts::app {
namespace {

constexpr const char* kUsage =
    "token-service: a multi-tenant token store for AI agents (Emporix AI Service Token API)\n"
    "\n"
    "Usage:\n"
    "  token-service serve [OPTIONS]      run the HTTP service (see `serve --help`)\n"
    "  token-service dev-token OPTIONS    print a signed HS256 bearer token for testing\n"
    "      --tenant T                     tenant claim (required)\n"
    "      --scope \"S1 S2\"                scopes (default: \"ai.agent_read ai.agent_manage\")\n"
    "      --ttl DURATION                 lifetime, e.g. 30m, 1h, 7d (default: 1h)\n"
    "      --subject SUB                  sub claim (default: dev)\n"
    "      --jwt-secret-file FILE         the secret; else TOKEN_SERVICE_JWT_SECRET, else\n"
    "                                     <data-dir>/dev-jwt-secret\n"
    "      --data-dir DIR                 (default: ./data)\n"
    "      --jwt-issuer ISS, --jwt-audience AUD   add iss / aud claims\n"
    "  token-service config check FILE    validate a configuration file (and the\n"
    "                                     TOKEN_SERVICE_* environment) as serve would, without\n"
    "                                     starting; print the effective configuration\n"
    "  token-service keys init FILE       create a master key file (mode 0600) for\n"
    "                                     --master-key-file; never overwrites a file\n"
    "  token-service keys status|rotate|retire --master-key-file FILE [--data-dir DIR] ...\n"
    "                                     key management on a live service (see `keys --help`)\n";
// `client add`, from app/client_command, goes between the two.
constexpr const char* kUsageTail =
    "  token-service --help               this text\n"
    "  token-service --version            the version\n";

int Usage(int code) {
  (code == 0 ? std::cout : std::cerr) << kUsage << kClientUsage << kUsageTail;
  return code;
}

int Fail(const std::string& message) {
  std::cerr << "token-service: " << message << "\n";
  return 2;
}

int DevToken(const std::vector<std::string>& args) {
  std::string tenant, scope = "ai.agent_read ai.agent_manage", ttl = "1h", subject = "dev";
  std::string secret_file, data_dir = "./data";
  std::optional<std::string> issuer, audience;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--help" || flag == "-h") return Usage(0);
    if (i + 1 >= args.size()) return Fail(flag + " needs a value (see --help)");
    const std::string& value = args[++i];
    if (flag == "--tenant") tenant = value;
    else if (flag == "--scope") scope = value;
    else if (flag == "--ttl") ttl = value;
    else if (flag == "--subject") subject = value;
    else if (flag == "--jwt-secret-file") secret_file = value;
    else if (flag == "--data-dir") data_dir = value;
    else if (flag == "--jwt-issuer") issuer = value;
    else if (flag == "--jwt-audience") audience = value;
    else return Fail("unknown option " + flag + " for dev-token (see --help)");
  }
  if (tenant.empty()) return Fail("dev-token needs --tenant");
  auto seconds = config::ParseDuration(ttl);
  if (!seconds) return Fail("--ttl: expected a duration such as 30m, 1h or 7d, got '" + ttl + "'");
  std::string secret;
  if (secret_file.empty()) {
    if (const char* env = std::getenv("TOKEN_SERVICE_JWT_SECRET"); env != nullptr && *env) {
      secret = env;
    } else {
      secret_file = data_dir + "/dev-jwt-secret";
    }
  }
  if (secret.empty()) {
    auto read = ReadJwtSecretFile(secret_file);
    if (!read) return Fail(read.error().message);
    secret = std::move(read).value();
  }
  SystemClock clock;
  auto token = auth::MintHs256Token(secret, tenant, scope, subject, clock.NowSeconds(), *seconds,
                                    issuer, audience);
  if (!token) return Fail(token.error().message);
  std::cout << *token << "\n";
  return 0;
}

constexpr const char* kConfigUsage =
    "Usage: token-service config check FILE\n"
    "  Validates FILE (JSON; see docs/configuration.md) together with the TOKEN_SERVICE_*\n"
    "  environment exactly as `serve --config FILE` would, without starting anything.\n"
    "  Prints \"ok\" and the effective value and source of every option (secrets redacted)\n"
    "  and exits 0; otherwise prints what is wrong and exits 2.\n";

int ConfigCommand(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      std::cout << kConfigUsage;
      return 0;
    }
  }
  if (args.size() != 2 || args[0] != "check" || args[1].rfind("--", 0) == 0) {
    std::cerr << kConfigUsage;
    return 2;
  }
  auto effective =
      config::CheckServeConfig(args[1], config::ProcessEnv(), config::ProcessEnvNames());
  if (!effective) return Fail(effective.error().message);
  std::size_t width = 0;
  for (const config::EffectiveOption& o : *effective) width = std::max(width, o.name.size());
  std::cout << "ok: " << args[1] << " is a valid configuration\n";
  for (const config::EffectiveOption& o : *effective) {
    std::cout << "  " << o.name << std::string(width - o.name.size() + 2, ' ') << o.value << "  ("
              << o.source << ")\n";
  }
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return Usage(2);
  const std::string command = args.front();
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "--help" || command == "-h" || command == "help") return Usage(0);
  if (command == "--version" || command == "version") {
    std::cout << "token-service " << TS_VERSION << "\n";
    return 0;
  }
  if (command == "serve") {
    for (const std::string& a : rest) {
      if (a == "--help" || a == "-h") {
        std::cout << config::ServeUsage();
        return 0;
      }
    }
    auto config = config::ParseServeConfig(rest, config::ProcessEnv(), config::ProcessEnvNames());
    if (!config) return Fail(config.error().message);
    return Serve(*config);
  }
  if (command == "dev-token") return DevToken(rest);
  if (command == "keys") return RunKeysCommand(rest);
  if (command == "config") return ConfigCommand(rest);
  if (command == "client") return RunClientCommand(rest);
  std::cerr << "token-service: unknown command '" << command << "'\n\n";
  return Usage(2);
}

}  // namespace ts::app
