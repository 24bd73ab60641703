#include "oauth/client_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "oauth/client_secret.h"

namespace ts::oauth {
namespace {

std::string CheapHash() {
  static const std::string hash = HashClientSecret("secret", Argon2idCost{1, 8192}).value();
  return hash;
}

std::string Entry(const std::string& id, const std::string& extra = "") {
  return R"({"client_id":")" + id + R"(","secret_hash":")" + CheapHash() +
         R"(","tenant":"acme","scopes":["ai.agent_read","ai.agent_manage"])" + extra + "}";
}

// The error message, or "" when parsing succeeded.
std::string ParseError(const std::string& text) {
  auto parsed = ParseClientsFile(text, "clients.json");
  return parsed.ok() ? "" : parsed.error().message;
}

TEST(ClientFileTest, ParsesAnArrayOfClients) {
  auto clients = ParseClientsFile(
      "[" + Entry("one") + "," + R"({"client_id":"two","secret_hash":")" + CheapHash() +
          R"(","tenant":"beta","scopes":"ai.agent_read  ai.agent_read","token_ttl_seconds":600}])",
      "f");
  ASSERT_TRUE(clients.ok()) << clients.error().message;
  ASSERT_EQ(clients->size(), 2u);
  const OAuthClient& one = (*clients)[0];
  EXPECT_EQ(one.client_id, "one");
  EXPECT_EQ(one.tenant, "acme");
  EXPECT_EQ(one.scopes, (std::vector<std::string>{"ai.agent_read", "ai.agent_manage"}));
  EXPECT_EQ(one.token_ttl_seconds, kDefaultTokenTtlSeconds);
  const OAuthClient& two = (*clients)[1];
  EXPECT_EQ(two.scopes, (std::vector<std::string>{"ai.agent_read"}));  // string form, deduplicated
  EXPECT_EQ(two.token_ttl_seconds, 600);
}

TEST(ClientFileTest, AcceptsAnObjectWithClients) {
  auto clients = ParseClientsFile(R"({"clients":[)" + Entry("one") + "]}", "f");
  ASSERT_TRUE(clients.ok()) << clients.error().message;
  EXPECT_EQ(clients->size(), 1u);
}

TEST(ClientFileTest, ErrorsNameTheEntryAndTheKey) {
  std::string e = ParseError("[" + Entry("one") + "," + Entry("two", R"(,"secret":"x")") + "]");
  EXPECT_NE(e.find("clients.json"), std::string::npos) << e;
  EXPECT_NE(e.find("clients[1]"), std::string::npos) << e;
  EXPECT_NE(e.find("\"two\""), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key \"secret\""), std::string::npos) << e;

  e = ParseError("[" + Entry("one") + "," + Entry("one") + "]");
  EXPECT_NE(e.find("clients[1]"), std::string::npos) << e;
  EXPECT_NE(e.find("duplicate"), std::string::npos) << e;

  std::string bad_tenant = Entry("one");
  bad_tenant.replace(bad_tenant.find("acme"), 4, "Not A Tenant!");
  e = ParseError("[" + bad_tenant + "]");
  EXPECT_NE(e.find("clients[0]"), std::string::npos) << e;
  EXPECT_NE(e.find("tenant:"), std::string::npos) << e;

  std::string bcrypt = Entry("one");
  bcrypt.replace(bcrypt.find(CheapHash()), CheapHash().size(), "$2b$12$abc");
  e = ParseError("[" + bcrypt + "]");
  EXPECT_NE(e.find("secret_hash:"), std::string::npos) << e;
  EXPECT_NE(e.find("Argon2id"), std::string::npos) << e;
}

TEST(ClientFileTest, RefusesBadShapesAndValues) {
  const std::string hash = CheapHash();
  auto entry = [&](const std::string& body) { return "[{" + body + "}]"; };
  const std::string id = R"("client_id":"c",)";
  const std::string rest = R"("secret_hash":")" + hash + R"(","tenant":"acme",)";
  for (const std::string& text : {
           std::string("not json"),
           std::string("[]"),
           std::string("{}"),
           std::string(R"({"clients":[],"other":1})"),
           std::string("[1]"),
           entry(rest + R"("scopes":["a"])"),                // no client_id
           entry(id + R"("tenant":"acme","scopes":["a"])"),  // no secret_hash
           entry(id + rest + R"("scopes":[])"),              // no scope
           entry(id + rest + R"("scopes":"")"),
           entry(id + rest + R"("scopes":["a b"])"),
           entry(id + rest + R"("scopes":[1])"),
           entry(id + rest + R"("scopes":["a\"b"])"),
           entry(id + rest + R"("scopes":["a"],"token_ttl_seconds":0)"),
           entry(id + rest + R"("scopes":["a"],"token_ttl_seconds":999999)"),
           entry(id + rest + R"("scopes":["a"],"token_ttl_seconds":"1h")"),
           entry(R"("client_id":"has space",)" + rest + R"("scopes":["a"])"),
           entry(R"("client_id":"",)" + rest + R"("scopes":["a"])"),
           entry(R"("client_id":")" + std::string(129, 'x') + "\"," + rest + R"("scopes":["a"])"),
           entry(R"("client_id":7,)" + rest + R"("scopes":["a"])"),
       }) {
    SCOPED_TRACE(text);
    EXPECT_NE(ParseError(text), "");
  }
}

TEST(ClientFileTest, RenderedEntryParsesBack) {
  OAuthClient client{"acme-1", CheapHash(), "acme", {"ai.agent_read"}, 900};
  auto parsed = ParseClientsFile("[" + RenderClientEntry(client) + "]", "f");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ((*parsed)[0].client_id, "acme-1");
  EXPECT_EQ((*parsed)[0].secret_hash, CheapHash());
  EXPECT_EQ((*parsed)[0].token_ttl_seconds, 900);
}

class ClientFileOnDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/ts-clients-XXXXXX";
    const int fd = ::mkstemp(name);
    ASSERT_GE(fd, 0);
    ::close(fd);
    path_ = name;
    std::ofstream(path_) << "[" << Entry("one") << "]";
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
};

TEST_F(ClientFileOnDiskTest, LoadsAPrivateFile) {
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  auto clients = LoadClientsFile(path_);
  ASSERT_TRUE(clients.ok()) << clients.error().message;
  EXPECT_EQ(clients->size(), 1u);
}

TEST_F(ClientFileOnDiskTest, RefusesAFileGroupOrOthersCanAccess) {
  for (mode_t mode : {0640, 0604, 0660}) {
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
    auto clients = LoadClientsFile(path_);
    ASSERT_FALSE(clients.ok());
    EXPECT_NE(clients.error().message.find("chmod 600"), std::string::npos)
        << clients.error().message;
  }
}

TEST_F(ClientFileOnDiskTest, NamesAMissingFile) {
  auto clients = LoadClientsFile(path_ + ".missing");
  ASSERT_FALSE(clients.ok());
  EXPECT_NE(clients.error().message.find(path_ + ".missing"), std::string::npos);
}

}  // namespace
}  // namespace ts::oauth
