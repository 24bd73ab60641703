#include "oauth/clients_file_watcher.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "oauth/client_file.h"
#include "oauth/client_secret.h"

namespace ts::oauth {
namespace {

OAuthClient Client(const std::string& id, const std::string& secret) {
  return OAuthClient{
      id, HashClientSecret(secret, Argon2idCost{1, 8192}).value(), "acme", {"ai.agent_read"}, 600};
}

TokenRequest Request(const std::string& id, const std::string& secret) {
  TokenRequest r;
  r.grant_type = "client_credentials";
  r.client_id = id;
  r.client_secret = secret;
  return r;
}

bool Issued(ClientCredentialsIssuer& issuer, const std::string& id, const std::string& secret) {
  return std::holds_alternative<IssuedToken>(issuer.Issue(Request(id, secret)));
}

class ClientsFileWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/ts-clients-watch-XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr);
    dir_ = name;
    path_ = dir_ + "/clients.json";
    Write({Client("first", "s1")}, 0600);
    auto clients = LoadClientsFile(path_);
    ASSERT_TRUE(clients.ok()) << clients.error().message;
    IssuerOptions options;
    options.signing_secret = std::string(32, 'k');
    auto issuer = ClientCredentialsIssuer::Create(std::move(clients).value(), options, clock_);
    ASSERT_TRUE(issuer.ok()) << issuer.error().message;
    issuer_ = std::move(issuer).value();
  }
  void TearDown() override {
    std::remove(path_.c_str());
    std::remove((path_ + ".new").c_str());
    ::rmdir(dir_.c_str());
  }
  // Writes a new version of the file the way an operator's tooling does: a new file renamed
  // into place (a new inode, so the watcher sees the change whatever the clock's resolution).
  void Write(const std::vector<OAuthClient>& clients, mode_t mode, std::string text = "") {
    if (text.empty()) {
      text = "[";
      for (const OAuthClient& c : clients) text += (text == "[" ? "" : ",") + RenderClientEntry(c);
      text += "]";
    }
    const std::string tmp = path_ + ".new";
    std::ofstream(tmp) << text;
    ASSERT_EQ(::chmod(tmp.c_str(), mode), 0);
    ASSERT_EQ(std::rename(tmp.c_str(), path_.c_str()), 0);
  }

  FakeClock clock_{1'700'000'000'000};
  std::string dir_;
  std::string path_;
  std::unique_ptr<ClientCredentialsIssuer> issuer_;
};

TEST_F(ClientsFileWatcherTest, ANewVersionReplacesTheClientsAndABadOneIsIgnored) {
  ClientsFileWatcher watcher(path_, *issuer_);
  EXPECT_FALSE(watcher.CheckNow());  // the version loaded at start-up
  EXPECT_TRUE(Issued(*issuer_, "first", "s1"));

  Write({Client("first", "s1"), Client("second", "s2")}, 0600);
  EXPECT_TRUE(watcher.CheckNow());
  EXPECT_FALSE(watcher.CheckNow());  // nothing changed since
  EXPECT_EQ(watcher.reloads(), 1u);
  EXPECT_TRUE(Issued(*issuer_, "second", "s2"));

  // Invalid versions leave the clients in use: a broken entry, an empty list, a file others
  // may read, no file at all.
  Write({}, 0600, R"([{"client_id": "x"}])");
  EXPECT_FALSE(watcher.CheckNow());
  Write({}, 0600, "[]");
  EXPECT_FALSE(watcher.CheckNow());
  Write({Client("third", "s3")}, 0644);
  EXPECT_FALSE(watcher.CheckNow());
  std::remove(path_.c_str());
  EXPECT_FALSE(watcher.CheckNow());
  EXPECT_EQ(issuer_->client_count(), 2u);
  EXPECT_TRUE(Issued(*issuer_, "second", "s2"));
  EXPECT_FALSE(Issued(*issuer_, "third", "s3"));

  Write({Client("third", "s3")}, 0600);
  EXPECT_TRUE(watcher.CheckNow());
  EXPECT_EQ(issuer_->client_count(), 1u);
  EXPECT_TRUE(Issued(*issuer_, "third", "s3"));
  EXPECT_FALSE(Issued(*issuer_, "first", "s1"));
  EXPECT_EQ(watcher.reloads(), 2u);
}

TEST_F(ClientsFileWatcherTest, TheBackgroundCheckPicksUpAChange) {
  ClientsFileWatcher watcher(path_, *issuer_, std::chrono::milliseconds(5));
  watcher.Start();
  Write({Client("second", "s2")}, 0600);
  // Waits for the thread's reload, however long the machine takes (bounded by the test timeout).
  while (watcher.reloads() == 0) ::usleep(1000);
  EXPECT_TRUE(Issued(*issuer_, "second", "s2"));
}

}  // namespace
}  // namespace ts::oauth
