// Issue 7 point 6: client credentials, Emporix-style. `token-service client add` prints a
// clients-file entry and a one-time secret; a service started with --oauth-clients-file answers
// POST /oauth/token (form body or HTTP Basic) with an access token that the API accepts, so an
// Emporix client library works by changing only its host. Errors follow RFC 6749 section 5.2;
// repeated failures lock a client out (429 + Retry-After, docs/security.md). The secret never
// appears in the service's output. One server for the suite (SQLite: the endpoint does not touch
// the store); start-up refusals run their own processes.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "blackbox/harness.h"
#include "blackbox/http_client.h"

namespace bb {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;

constexpr const char* kTenant = "oauth-acme";
constexpr const char* kForm = "application/x-www-form-urlencoded";

struct AddedClient {
  std::string id;
  std::string secret;
  std::string entry;   // the JSON line to put in the clients file
  std::string output;  // everything `client add` printed
};

AddedClient ClientAdd(const fs::path& dir, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"client", "add", "--tenant", kTenant};
  args.insert(args.end(), extra.begin(), extra.end());
  CommandResult r = RunBinary(args, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  AddedClient added;
  added.output = r.out;
  std::size_t line_start = 0;
  while (line_start < r.out.size()) {
    std::size_t end = r.out.find('\n', line_start);
    if (end == std::string::npos) end = r.out.size();
    const std::string line = r.out.substr(line_start, end - line_start);
    if (line.rfind("{", 0) == 0) added.entry = line;
    if (line.rfind("client_secret: ", 0) == 0) added.secret = line.substr(15);
    line_start = end + 1;
  }
  EXPECT_FALSE(added.entry.empty()) << r.out;
  EXPECT_FALSE(added.secret.empty()) << r.out;
  if (!added.entry.empty())
    added.id = json::value_to<std::string>(json::parse(added.entry).at("client_id"));
  return added;
}

// Standard base64 (with padding), for `Authorization: Basic`.
std::string Base64(std::string_view bytes) {
  std::string text = Base64Url(bytes);
  for (char& c : text) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (text.size() % 4 != 0) text += '=';
  return text;
}

std::string BasicAuth(const std::string& id, const std::string& secret) {
  return "Basic " + Base64(UrlEncode(id) + ":" + UrlEncode(secret));
}

class OAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    agent_ =
        new AddedClient(ClientAdd(dir_->path(), {"--id", "emporix-agent", "--scope",
                                                 "ai.agent_read ai.agent_manage", "--ttl", "30m"}));
    victim_ = new AddedClient(ClientAdd(dir_->path(), {"--scope", "ai.agent_read"}));
    clients_file_ = dir_->path() / "clients.json";
    ASSERT_TRUE(
        WriteFile(clients_file_, "[" + agent_->entry + ",\n" + victim_->entry + "]\n", 0600));
    ServerConfig config;
    config.extra_args = {"--oauth-clients-file", clients_file_.string()};
    std::string error;
    server_ = ServerProcess::Start(config, &error).release();
    ASSERT_NE(server_, nullptr) << error;
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      // The service never wrote a client secret anywhere (stderr is where it logs).
      const std::string output = server_->AllOutput();
      EXPECT_EQ(output.find(agent_->secret), std::string::npos);
      EXPECT_EQ(output.find(victim_->secret), std::string::npos);
    }
    delete server_;
    delete agent_;
    delete victim_;
    delete dir_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr); }

  HttpResponse Call(const std::string& method, const std::string& target,
                    const std::optional<std::string>& body, HeaderList headers = {}) {
    ExchangeResult r = Send(server_->port(), HttpRequest{method, target, std::move(headers), body});
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.response.Header("Cache-Control"), "no-store");
    EXPECT_EQ(r.response.Dump().find(agent_->secret), std::string::npos);
    return r.response;
  }
  HttpResponse TokenRequest(const std::string& form,
                            const std::optional<std::string>& authorization = std::nullopt) {
    HeaderList headers = {{"Content-Type", kForm}};
    if (authorization) headers.emplace_back("Authorization", *authorization);
    return Call("POST", "/oauth/token", form, headers);
  }
  static std::string Form(const AddedClient& client, const std::string& secret,
                          const std::string& extra = "") {
    return "grant_type=client_credentials&client_id=" + UrlEncode(client.id) +
           "&client_secret=" + UrlEncode(secret) + extra;
  }
  static json::object Body(const HttpResponse& r) {
    json::value v = json::parse(r.body);
    EXPECT_TRUE(v.is_object()) << r.body;
    return v.is_object() ? v.as_object() : json::object{};
  }
  static std::string Str(const json::object& o, const char* key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  }

  static TempDir* dir_;
  static AddedClient* agent_;
  static AddedClient* victim_;
  static fs::path clients_file_;
  static ServerProcess* server_;
};

TempDir* OAuthTest::dir_ = nullptr;
AddedClient* OAuthTest::agent_ = nullptr;
AddedClient* OAuthTest::victim_ = nullptr;
fs::path OAuthTest::clients_file_;
ServerProcess* OAuthTest::server_ = nullptr;

TEST_F(OAuthTest, ClientAddPrintsTheEntryAndTheSecretOnce) {
  json::object entry = json::parse(agent_->entry).as_object();
  EXPECT_EQ(Str(entry, "client_id"), "emporix-agent");
  EXPECT_EQ(Str(entry, "tenant"), kTenant);
  EXPECT_EQ(Str(entry, "secret_hash").rfind("$argon2id$v=19$", 0), 0u);
  EXPECT_EQ(json::serialize(entry.at("scopes")), R"(["ai.agent_read","ai.agent_manage"])");
  EXPECT_EQ(entry.at("token_ttl_seconds"), 1800);
  EXPECT_GE(agent_->secret.size(), 40u);
  EXPECT_EQ(agent_->entry.find(agent_->secret), std::string::npos);
  // Exactly once in the whole output, clearly labelled.
  const std::string& out = agent_->output;
  EXPECT_EQ(out.find(agent_->secret), out.rfind(agent_->secret));
  EXPECT_NE(out.find("One-time client secret"), std::string::npos) << out;
  // A generated id starts with the tenant; two runs give two different secrets.
  EXPECT_EQ(victim_->id.rfind(std::string(kTenant) + "-", 0), 0u);
  EXPECT_NE(victim_->secret, agent_->secret);
}

TEST_F(OAuthTest, ClientAddRefusesBadInput) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"client", "add"},
           {"client", "add", "--tenant", "Not Valid"},
           {"client", "add", "--tenant", "t", "--ttl", "2d"},
           {"client", "add", "--tenant", "t", "--scope", ""},
           {"client", "add", "--tenant", "t", "--id", "has space"},
           {"client", "add", "--tenant", "t", "--bogus", "x"},
           {"client", "remove"},
       }) {
    CommandResult r = RunBinary(args, dir_->path());
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_FALSE(r.err.empty());
    EXPECT_EQ(r.out.find("client_secret"), std::string::npos);
  }
  CommandResult help = RunBinary({"--help"}, dir_->path());
  EXPECT_NE(help.out.find("token-service client add"), std::string::npos);
}

// The Emporix flow: obtain a token with the client's credentials, then manage tokens with it.
TEST_F(OAuthTest, FormCredentialsGiveATokenThatManagesTokens) {
  HttpResponse r = TokenRequest(Form(*agent_, agent_->secret));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Pragma"), "no-cache");
  EXPECT_NE(r.Header("Content-Type").value_or("").find("application/json"), std::string::npos);
  json::object body = Body(r);
  EXPECT_EQ(Str(body, "token_type"), "Bearer");
  EXPECT_EQ(body.at("expires_in"), 1800);
  EXPECT_EQ(Str(body, "scope"), "ai.agent_read ai.agent_manage");
  const std::string bearer = "Bearer " + Str(body, "access_token");

  const std::string item = std::string("/ai-service/") + kTenant + "/agentic/tokens/" +
                           Named("oauth-", static_cast<std::int64_t>(NowSeconds()));
  HttpResponse put = Call("PUT", item, R"({"name":"via OAuth","value":"sk-oauth-flow"})",
                          {{"Authorization", bearer}, {"Content-Type", "application/json"}});
  EXPECT_EQ(put.status, 201) << put.body;
  HttpResponse get = Call("GET", item, std::nullopt, {{"Authorization", bearer}});
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(Str(Body(get), "name"), "via OAuth");
  // The token is for its tenant only.
  HttpResponse other = Call("GET", "/ai-service/other-tenant/agentic/tokens", std::nullopt,
                            {{"Authorization", bearer}});
  EXPECT_EQ(other.status, 403);
}

TEST_F(OAuthTest, BasicCredentialsWorkToo) {
  HttpResponse r =
      TokenRequest("grant_type=client_credentials", BasicAuth(agent_->id, agent_->secret));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string bearer = "Bearer " + Str(Body(r), "access_token");
  HttpResponse list = Call("GET", std::string("/ai-service/") + kTenant + "/agentic/tokens",
                           std::nullopt, {{"Authorization", bearer}});
  EXPECT_EQ(list.status, 200) << list.body;
}

TEST_F(OAuthTest, WrongSecretAndUnknownClientGetTheSameAnswer) {
  HttpResponse wrong = TokenRequest(Form(*agent_, agent_->secret + "x"));
  AddedClient ghost{"no-such-client", "", "", ""};
  HttpResponse unknown = TokenRequest(Form(ghost, agent_->secret));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.body, unknown.body);
  EXPECT_EQ(Str(Body(wrong), "error"), "invalid_client");

  // With Basic, the 401 says how to authenticate.
  HttpResponse basic =
      TokenRequest("grant_type=client_credentials", BasicAuth(agent_->id, "wrong-secret"));
  EXPECT_EQ(basic.status, 401);
  EXPECT_EQ(Str(Body(basic), "error"), "invalid_client");
  EXPECT_NE(basic.Header("WWW-Authenticate").value_or("").find("Basic"), std::string::npos);
}

TEST_F(OAuthTest, RequestErrorsAreRfc6749Errors) {
  HttpResponse grant = TokenRequest("grant_type=password&client_id=" + agent_->id +
                                    "&client_secret=" + UrlEncode(agent_->secret));
  EXPECT_EQ(grant.status, 400);
  EXPECT_EQ(Str(Body(grant), "error"), "unsupported_grant_type");

  HttpResponse json_body = Call("POST", "/oauth/token", R"({"grant_type":"client_credentials"})",
                                {{"Content-Type", "application/json"}});
  EXPECT_EQ(json_body.status, 400);
  EXPECT_EQ(Str(Body(json_body), "error"), "invalid_request");

  HttpResponse twice =
      TokenRequest(Form(*agent_, agent_->secret, "&grant_type=client_credentials"));
  EXPECT_EQ(twice.status, 400);
  EXPECT_EQ(Str(Body(twice), "error"), "invalid_request");

  HttpResponse get = Call("GET", "/oauth/token", std::nullopt);
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.Header("Allow"), "POST");
}

TEST_F(OAuthTest, ScopeNarrowsTheToken) {
  HttpResponse r = TokenRequest(Form(*agent_, agent_->secret, "&scope=ai.agent_read"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(Body(r), "scope"), "ai.agent_read");
  const std::string bearer = "Bearer " + Str(Body(r), "access_token");
  const std::string base = std::string("/ai-service/") + kTenant + "/agentic/tokens";
  EXPECT_EQ(Call("GET", base, std::nullopt, {{"Authorization", bearer}}).status, 200);
  EXPECT_EQ(Call("PUT", base + "/narrowed", R"({"name":"n","value":"v"})",
                 {{"Authorization", bearer}, {"Content-Type", "application/json"}})
                .status,
            403);

  HttpResponse wider = TokenRequest(Form(*agent_, agent_->secret, "&scope=ai.agent_read+openid"));
  EXPECT_EQ(wider.status, 400);
  EXPECT_EQ(Str(Body(wider), "error"), "invalid_scope");
}

// Documented policy (docs/security.md): 5 failed authentications in a row lock the client id
// out; while locked out, every request for it is 429 with Retry-After, even with the right
// secret. Unknown client ids behave the same.
TEST_F(OAuthTest, RepeatedFailuresLockTheClientOut) {
  AddedClient ghost{"ghost-client", "", "", ""};
  for (const AddedClient* client : {victim_, &ghost}) {
    SCOPED_TRACE(client->id);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(TokenRequest(Form(*client, "wrong-" + std::to_string(i))).status, 401);
    }
    HttpResponse locked = TokenRequest(Form(*client, victim_->secret));
    EXPECT_EQ(locked.status, 429) << locked.body;
    EXPECT_EQ(Str(Body(locked), "error"), "temporarily_unavailable");
    const std::string retry_after = locked.Header("Retry-After").value_or("");
    ASSERT_FALSE(retry_after.empty());
    EXPECT_GT(std::stoi(retry_after), 0);
  }
  // Other clients are not affected.
  EXPECT_EQ(TokenRequest(Form(*agent_, agent_->secret)).status, 200);
}

// --- start-up: the endpoint is off unless configured, and bad configurations stop it -------

// The clients file is followed while serving: a client added, removed or given a new secret
// takes effect without a restart; a broken version is logged and the clients in use stay.
TEST_F(OAuthTest, EditingTheClientsFileTakesEffectWithoutARestart) {
  const AddedClient later =
      ClientAdd(dir_->path(), {"--id", "added-later", "--scope", "ai.agent_read"});
  // Waits until the service has logged `event` `times` times (it checks the file every 5 s).
  auto wait_for_log = [&](const std::string& event, std::size_t times) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      const std::string out = server_->AllOutput();
      std::size_t count = 0;
      for (std::size_t at = out.find(event); at != std::string::npos;
           at = out.find(event, at + 1)) {
        ++count;
      }
      if (count >= times) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
  // A new version renamed into place, as editors and configuration tools write it.
  auto replace_file = [&](const std::string& text) {
    const fs::path tmp = clients_file_.string() + ".new";
    ASSERT_TRUE(WriteFile(tmp, text, 0600));
    fs::rename(tmp, clients_file_);
  };

  replace_file("[" + agent_->entry + ",\n" + victim_->entry + ",\n" + later.entry + "]\n");
  ASSERT_TRUE(wait_for_log("\"oauth.clients_reloaded\"", 1)) << server_->AllOutput();
  EXPECT_EQ(TokenRequest(Form(later, later.secret)).status, 200);

  replace_file("[" + later.entry + "]\n");
  ASSERT_TRUE(wait_for_log("\"oauth.clients_reloaded\"", 2)) << server_->AllOutput();
  HttpResponse removed = TokenRequest(Form(*agent_, agent_->secret));
  EXPECT_EQ(removed.status, 401) << removed.body;
  EXPECT_EQ(Str(Body(removed), "error"), "invalid_client");

  replace_file(R"([{"client_id": "broken"}])");
  ASSERT_TRUE(wait_for_log("\"oauth.clients_reload_refused\"", 1)) << server_->AllOutput();
  EXPECT_EQ(TokenRequest(Form(later, later.secret)).status, 200);
  EXPECT_EQ(server_->AllOutput().find(later.secret), std::string::npos);
}

TEST(OAuthConfigTest, WithoutTheOptionThereIsNoTokenEndpoint) {
  std::string error;
  auto server = ServerProcess::Start(ServerConfig{}, &error);
  ASSERT_NE(server, nullptr) << error;
  ExchangeResult r =
      Send(server->port(),
           HttpRequest{
               "POST", "/oauth/token", {{"Content-Type", kForm}}, "grant_type=client_credentials"});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.response.status, 404);
}

class OAuthStartupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = ClientAdd(dir_.path(), {});
    file_ = dir_.path() / "clients.json";
  }
  // `serve` with the clients file; the start must fail with a message containing `expected`.
  void ExpectRefused(const std::string& expected, std::vector<std::string> extra = {}) {
    ServerConfig config;
    config.extra_args = {"--oauth-clients-file", file_.string()};
    config.extra_args.insert(config.extra_args.end(), extra.begin(), extra.end());
    config.start_deadline = std::chrono::seconds(20);
    std::string error;
    auto server = ServerProcess::Start(config, &error);
    EXPECT_EQ(server, nullptr);
    EXPECT_NE(error.find(expected), std::string::npos) << error;
    EXPECT_EQ(error.find(client_.secret), std::string::npos);
  }
  TempDir dir_;
  AddedClient client_;
  fs::path file_;
};

TEST_F(OAuthStartupTest, RefusesAFileOthersCanRead) {
  ASSERT_TRUE(WriteFile(file_, "[" + client_.entry + "]", 0644));
  ExpectRefused("chmod 600");
}

TEST_F(OAuthStartupTest, RefusesAnInvalidEntryNamingIt) {
  std::string entry = client_.entry;
  entry.insert(entry.size() - 1, R"(,"colour":"blue")");
  ASSERT_TRUE(WriteFile(file_, "[" + entry + "]", 0600));
  ExpectRefused("clients[0] (client_id \"" + client_.id + "\"): unknown key \"colour\"");
}

TEST_F(OAuthStartupTest, RefusesADuplicateClientId) {
  ASSERT_TRUE(WriteFile(file_, "[" + client_.entry + "," + client_.entry + "]", 0600));
  ExpectRefused("duplicate");
}

TEST_F(OAuthStartupTest, RefusesToRunSecretChecksOnIoThreads) {
  ASSERT_TRUE(WriteFile(file_, "[" + client_.entry + "]", 0600));
  ExpectRefused("--handler-threads", {"--handler-threads", "0"});
}

TEST_F(OAuthStartupTest, NeedsTheHs256SecretToSign) {
  ASSERT_TRUE(WriteFile(file_, "[" + client_.entry + "]", 0600));
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  ASSERT_NE(key, nullptr);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio.get(), key.get()), 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  const fs::path pem = dir_.path() / "public.pem";
  ASSERT_TRUE(WriteFile(pem, std::string(data, static_cast<std::size_t>(size)), 0644));
  CommandResult keys = RunBinary({"keys", "init", (dir_.path() / "k.keys").string()}, dir_.path());
  ASSERT_EQ(keys.exit_code, 0) << keys.err;
  CommandResult r =
      RunBinary({"serve", "--listen", "127.0.0.1:0", "--data-dir", (dir_.path() / "data").string(),
                 "--master-key-file", (dir_.path() / "k.keys").string(), "--jwt-public-key-file",
                 pem.string(), "--oauth-clients-file", file_.string()},
                dir_.path(), std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--oauth-clients-file"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("HS256"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace bb
