// Proofs about values at rest and master keys, against the real binary (issue 3, point 4):
//   - the database files (main file and WAL) hold none of the values written;
//   - a flipped ciphertext byte, or a ciphertext moved to another row or tenant, fails with a
//     clean 500 that names no internals and never returns or accepts the wrong value;
//   - after `keys rotate` (with a restart, and while the server keeps serving, without one)
//     every token still accepts its own value and rejects any other;
//   - a start with another master key file is refused with a clear message;
//   - `keys status` and `keys retire` report and guard what depends on each key;
//   - an interrupted rotation is finished by `keys rotate --resume` without another key;
//   - `keys rotate` shows its progress (done/total, rate, time left) as plain lines when stderr
//     is not a terminal and as one rewritten line on a terminal (issue 7, point 8).
// The database is tampered with through the SQLite C API while the server is stopped. These
// tests are SQLite-specific (they read and edit the database file), so they are not
// parameterized over Backends().
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>
#include <vector>

#include "auth/token_verifier.h"
#include "blackbox/harness.h"
#include "blackbox/http_client.h"

namespace bb {
namespace {
namespace fs = std::filesystem;

constexpr const char* kScopes = "ai.agent_read ai.agent_manage";

// Words that would reveal how values are stored; a 500 about a stored value names none of them.
const char* const kInternalWords[] = {"sqlite", "tsv1",   "xchacha", "sodium", "nonce",
                                      "key id", "master", "wrap",    "tag",    "authenticat",
                                      "cipher", "aead",   "ring",    "header", "format"};

struct TokenSpec {
  std::string tenant;
  std::string id;
  std::string name;
  std::string value;
};

// A distinctive 40-character value.
std::string DistinctiveValue() { return "sk-" + RandomHex(18) + "Z"; }

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Reads and edits sealed values behind the (stopped) server's back.
class RawDatabase {
 public:
  explicit RawDatabase(const fs::path& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK)
        << path;
  }
  ~RawDatabase() { sqlite3_close_v2(db_); }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;

  std::vector<std::uint8_t> Sealed(const std::string& tenant, const std::string& id) {
    sqlite3_stmt* stmt = Prepare("SELECT sealed_value FROM tokens WHERE tenant = ? AND id = ?");
    sqlite3_bind_text(stmt, 1, tenant.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, id.c_str(), -1, SQLITE_TRANSIENT);
    std::vector<std::uint8_t> out;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, 0));
      out.assign(data, data + sqlite3_column_bytes(stmt, 0));
    } else {
      ADD_FAILURE() << "no row " << tenant << "/" << id;
    }
    sqlite3_finalize(stmt);
    return out;
  }

  void SetSealed(const std::string& tenant, const std::string& id,
                 const std::vector<std::uint8_t>& sealed) {
    sqlite3_stmt* stmt = Prepare("UPDATE tokens SET sealed_value = ? WHERE tenant = ? AND id = ?");
    sqlite3_bind_blob(stmt, 1, sealed.data(), static_cast<int>(sealed.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, tenant.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 3, id.c_str(), -1, SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db_);
    EXPECT_EQ(sqlite3_changes(db_), 1);
    sqlite3_finalize(stmt);
  }

 private:
  sqlite3_stmt* Prepare(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    return stmt;
  }

  sqlite3* db_ = nullptr;
};

class KeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = ServerProcess::Start(ServerConfig{}, &error);
    ASSERT_NE(server_, nullptr) << "cannot start token-service: " << error;
  }

  ServerProcess& server() { return *server_; }
  fs::path database() const { return server_->data_dir() / "tokens.db"; }

  std::string Item(const TokenSpec& t) const {
    return "/ai-service/" + t.tenant + "/agentic/tokens/" + t.id;
  }

  // `subject` names the caller; the server slows down callers that repeat value mismatches,
  // so mismatch probes each use a fresh subject and never wait.
  HttpResponse Put(const TokenSpec& t, const std::string& value,
                   const std::string& subject = "keys-test") {
    const std::string body =
        boost::json::serialize(boost::json::object{{"name", t.name}, {"value", value}});
    HttpRequest request{"PUT", Item(t), {}, body};
    auto bearer = ts::auth::MintHs256Token(server_->jwt_secret(), t.tenant, kScopes, subject,
                                           NowSeconds(), 3600);
    EXPECT_TRUE(bearer.ok());
    request.headers.emplace_back("Authorization", "Bearer " + bearer.value());
    request.headers.emplace_back("Content-Type", "application/json");
    ExchangeResult r = Send(server_->port(), request);
    EXPECT_TRUE(r.ok) << "PUT " << Item(t) << ": " << r.error;
    return r.response;
  }

  HttpResponse Get(const TokenSpec& t) {
    HttpRequest request{"GET", Item(t), {}, std::nullopt};
    request.headers.emplace_back("Authorization",
                                 "Bearer " + MintToken(server_->jwt_secret(), t.tenant, kScopes));
    ExchangeResult r = Send(server_->port(), request);
    EXPECT_TRUE(r.ok) << "GET " << Item(t) << ": " << r.error;
    return r.response;
  }

  // `count` tokens spread over `tenants` tenants, created (201) on the running server.
  std::vector<TokenSpec> CreateTokens(int count, int tenants = 2) {
    std::vector<TokenSpec> tokens;
    const std::string run = RandomHex(3);
    for (int i = 0; i < count; ++i) {
      TokenSpec t{"tenant-" + run + "-" + std::to_string(i % tenants), "tok-" + std::to_string(i),
                  "name-" + RandomHex(10), DistinctiveValue()};
      HttpResponse r = Put(t, t.value);
      EXPECT_EQ(r.status, 201) << r.Dump();
      tokens.push_back(std::move(t));
    }
    return tokens;
  }

  // Every token accepts its own value (204) and refuses another one (400).
  void ExpectOwnValuesOnly(const std::vector<TokenSpec>& tokens, const std::string& when) {
    for (const TokenSpec& t : tokens) {
      EXPECT_EQ(Put(t, t.value).status, 204) << when << ": " << t.tenant << "/" << t.id;
      EXPECT_EQ(Put(t, DistinctiveValue(), "prober-" + RandomHex(6)).status, 400)
          << when << ": " << t.tenant << "/" << t.id;
    }
  }

  // A clean 500: JSON, the fixed public message, no internals and no value.
  void ExpectCleanServerError(const HttpResponse& r, const std::vector<std::string>& values,
                              const std::string& what) {
    EXPECT_EQ(r.status, 500) << what << "\n" << r.Dump();
    auto type = r.Header("Content-Type");
    EXPECT_TRUE(type && type->rfind("application/json", 0) == 0) << what << "\n" << r.Dump();
    const std::string dump = Lower(r.Dump());
    for (const char* word : kInternalWords) {
      EXPECT_EQ(dump.find(word), std::string::npos) << what << ": names '" << word << "'\n" << dump;
    }
    for (const std::string& value : values) {
      EXPECT_EQ(r.Dump().find(value), std::string::npos) << what << ": a value leaked";
    }
  }

  CommandResult Keys(const std::string& command, std::vector<std::string> extra = {},
                     const std::map<std::string, std::string>& env = {},
                     const fs::path& key_file = {}) {
    std::vector<std::string> args = {"keys",
                                     command,
                                     "--master-key-file",
                                     (key_file.empty() ? server_->key_file() : key_file).string(),
                                     "--data-dir",
                                     server_->data_dir().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunBinary(args, server_->dir(), std::chrono::seconds(60), env);
  }

  // The serve command line the harness uses, with another key file (for refused starts).
  CommandResult ServeWith(const std::vector<std::string>& key_args) {
    std::vector<std::string> args = {"serve",
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--data-dir",
                                     server_->data_dir().string(),
                                     "--jwt-secret-file",
                                     server_->secret_file().string(),
                                     "--audit-log",
                                     server_->audit_log_file().string()};
    args.insert(args.end(), key_args.begin(), key_args.end());
    return RunBinary(args, server_->dir(), std::chrono::seconds(20));
  }

  void Restart() {
    std::string error;
    ASSERT_TRUE(server_->Restart(&error)) << error;
  }

  std::unique_ptr<ServerProcess> server_;
};

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------------------------------------
// (a) No plaintext at rest

TEST_F(KeysTest, DatabaseFilesHoldNoValueWhileRunningOrAfterStop) {
  const std::vector<TokenSpec> tokens = CreateTokens(20, 3);
  auto check = [&](const std::string& when, bool expect_wal) {
    const std::string main_file = ReadFile(database());
    const std::string wal = ReadFile(fs::path(database().string() + "-wal"));
    ASSERT_FALSE(main_file.empty()) << when;
    if (expect_wal) {
      ASSERT_FALSE(wal.empty()) << when << ": the writes should be in the WAL";
    }
    const std::string both = main_file + wal;
    for (const TokenSpec& t : tokens) {
      // The names are stored in clear: finding them proves these are the bytes that were written.
      EXPECT_TRUE(Contains(both, t.name)) << when << ": name of " << t.id << " not found";
      for (const std::string& piece :
           {t.value, t.value.substr(0, 20), t.value.substr(20), t.value.substr(10, 20)}) {
        EXPECT_FALSE(Contains(main_file, piece)) << when << ": tokens.db holds " << piece;
        EXPECT_FALSE(Contains(wal, piece)) << when << ": tokens.db-wal holds " << piece;
      }
    }
  };
  check("while running", true);
  ASSERT_EQ(server().Stop(), 0);
  check("after stop", false);
  const std::string output = server().AllOutput();
  for (const TokenSpec& t : tokens) EXPECT_FALSE(Contains(output, t.value)) << "logs hold a value";
}

// ---------------------------------------------------------------------------------------------
// (b), (c) Tampered or moved ciphertext

TEST_F(KeysTest, AFlippedCiphertextByteAnswersACleanServerError) {
  const std::vector<TokenSpec> tokens = CreateTokens(6, 1);
  ASSERT_EQ(server().Stop(), 0);
  // One byte in each part of the sealed layout (value_barrier.h): key id, wrap nonce, wrapped
  // data key, value nonce, value ciphertext, tag. tokens[5] stays intact.
  const std::size_t offsets[] = {7, 10, 40, 90, 110, 0};
  {
    RawDatabase db(database());
    for (int i = 0; i < 5; ++i) {
      std::vector<std::uint8_t> sealed = db.Sealed(tokens[i].tenant, tokens[i].id);
      ASSERT_GT(sealed.size(), offsets[4]);
      const std::size_t at = i == 4 ? sealed.size() - 1 : offsets[i];
      sealed[at] ^= 0x01;
      db.SetSealed(tokens[i].tenant, tokens[i].id, sealed);
    }
  }
  Restart();
  std::vector<std::string> values;
  for (const TokenSpec& t : tokens) values.push_back(t.value);
  for (int i = 0; i < 5; ++i) {
    const std::string what = "byte " + std::to_string(offsets[i]) + " flipped";
    ExpectCleanServerError(Put(tokens[i], tokens[i].value), values, what + ", own value");
    ExpectCleanServerError(Put(tokens[i], DistinctiveValue(), "prober-" + RandomHex(6)), values,
                           what + ", other value");
    EXPECT_EQ(Get(tokens[i]).status, 200) << what << ": metadata stays readable";
  }
  EXPECT_EQ(Put(tokens[5], tokens[5].value).status, 204) << "an intact neighbour still works";
  std::string status;
  EXPECT_TRUE(server().Running(&status)) << status;
  for (const std::string& value : values) {
    EXPECT_FALSE(Contains(server().AllOutput(), value)) << "logs hold a value";
  }
}

TEST_F(KeysTest, ACiphertextMovedToAnotherRowOrTenantFailsAndNeverLeaks) {
  const std::string run = RandomHex(3);
  const TokenSpec source{"tenant-a-" + run, "source", "n", DistinctiveValue()};
  const TokenSpec neighbour{"tenant-a-" + run, "neighbour", "n", DistinctiveValue()};
  const TokenSpec other_tenant{"tenant-b-" + run, "source", "n", DistinctiveValue()};
  for (const TokenSpec* t : {&source, &neighbour, &other_tenant}) {
    ASSERT_EQ(Put(*t, t->value).status, 201);
  }
  ASSERT_EQ(server().Stop(), 0);
  {
    RawDatabase db(database());
    const std::vector<std::uint8_t> sealed = db.Sealed(source.tenant, source.id);
    db.SetSealed(neighbour.tenant, neighbour.id, sealed);        // another row, same tenant
    db.SetSealed(other_tenant.tenant, other_tenant.id, sealed);  // same id, another tenant
  }
  Restart();
  const std::vector<std::string> values = {source.value, neighbour.value, other_tenant.value};
  for (const TokenSpec* moved : {&neighbour, &other_tenant}) {
    const std::string what = "moved to " + moved->tenant + "/" + moved->id;
    // The moved ciphertext must not make the source's value acceptable at its new place...
    ExpectCleanServerError(Put(*moved, source.value), values, what + ", source value");
    // ...nor is the row's own former value accepted (it is gone, not readable).
    ExpectCleanServerError(Put(*moved, moved->value), values, what + ", own value");
  }
  EXPECT_EQ(Put(source, source.value).status, 204) << "the source row is untouched";
  EXPECT_EQ(Put(source, neighbour.value, "prober-" + RandomHex(6)).status, 400);
}

// ---------------------------------------------------------------------------------------------
// (d) Rotation

TEST_F(KeysTest, AfterRotateAndRestartEveryTokenAcceptsOnlyItsOwnValue) {
  const std::vector<TokenSpec> tokens = CreateTokens(30, 3);
  ASSERT_EQ(server().Stop(), 0);
  CommandResult rotated = Keys("rotate", {"--settle-seconds", "0"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.out << rotated.err;
  EXPECT_TRUE(Contains(rotated.out, "added master key id 2")) << rotated.out;
  EXPECT_TRUE(Contains(rotated.out, "re-wrapped 30 stored value(s) under master key id 2"))
      << rotated.out;
  EXPECT_TRUE(Contains(rotated.err, "30/30 (100%)")) << "progress: " << rotated.err;

  CommandResult status = Keys("status");
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_TRUE(Contains(status.out, "key id 1: 0 value(s)\n")) << status.out;
  EXPECT_TRUE(Contains(status.out, "key id 2 (active): 30 value(s), and the key check\n"))
      << status.out;

  Restart();
  ExpectOwnValuesOnly(tokens, "after rotate and restart");
}

TEST_F(KeysTest, RotationWhileServingNeedsNoRestartAndNoRequestFails) {
  std::vector<TokenSpec> tokens = CreateTokens(40, 4);
  std::atomic<bool> stop{false};
  std::atomic<int> requests{0};
  std::vector<std::string> unexpected;  // written by the load thread only
  std::vector<TokenSpec> created;       // written by the load thread only
  std::thread load([&] {
    for (int i = 0; !stop.load(); ++i) {
      const TokenSpec& t = tokens[static_cast<std::size_t>(i) % tokens.size()];
      HttpResponse own = Put(t, t.value);
      if (own.status != 204) unexpected.push_back("own value: " + own.Dump());
      if (i % 5 == 0 && created.size() < 40) {
        TokenSpec fresh{t.tenant, "during-" + std::to_string(i), "n", DistinctiveValue()};
        HttpResponse r = Put(fresh, fresh.value);
        if (r.status != 201) unexpected.push_back("create: " + r.Dump());
        created.push_back(std::move(fresh));
      }
      requests.fetch_add(1);
    }
  });
  // Longer than the server's 5 s key file poll, so the last pass also catches values the
  // server sealed under the old key before it noticed the new one.
  CommandResult rotated = Keys("rotate", {"--batch-size", "5", "--settle-seconds", "6"});
  stop.store(true);
  load.join();
  ASSERT_EQ(rotated.exit_code, 0) << rotated.out << rotated.err;
  EXPECT_GT(requests.load(), 0);
  EXPECT_TRUE(unexpected.empty()) << unexpected.size() << " unexpected answers, first: "
                                  << (unexpected.empty() ? "" : unexpected.front());

  std::string status_text;
  ASSERT_TRUE(server().Running(&status_text)) << status_text;
  tokens.insert(tokens.end(), created.begin(), created.end());
  ExpectOwnValuesOnly(tokens, "after rotation, same process");

  CommandResult status = Keys("status");
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_TRUE(Contains(status.out, "key id 1: 0 value(s)\n")) << status.out;
  // Nothing needs key 1 any more: it can go, and the server keeps serving without it.
  CommandResult retired = Keys("retire", {"--key-id", "1", "--settle-seconds", "0"});
  ASSERT_EQ(retired.exit_code, 0) << retired.out << retired.err;
  TokenSpec after{tokens[0].tenant, "after-retire", "n", DistinctiveValue()};
  EXPECT_EQ(Put(after, after.value).status, 201);
  tokens.push_back(after);
  ExpectOwnValuesOnly(tokens, "after retiring key 1, same process");
  ASSERT_TRUE(server().Running(&status_text)) << status_text;
}

TEST_F(KeysTest, ARunningServerMeetingAnUnknownKeyReloadsTheKeyFileAtOnce) {
  const std::vector<TokenSpec> tokens = CreateTokens(4, 1);
  CommandResult rotated = Keys("rotate", {"--settle-seconds", "0"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.out << rotated.err;
  // Straight away, well within the server's 5 s poll: reading a re-wrapped value makes it
  // reload the key file, and new values are then sealed under the new key.
  ExpectOwnValuesOnly(tokens, "right after rotate");
  TokenSpec fresh{tokens[0].tenant, "fresh", "n", DistinctiveValue()};
  ASSERT_EQ(Put(fresh, fresh.value).status, 201);
  CommandResult status = Keys("status");
  EXPECT_TRUE(Contains(status.out, "key id 1: 0 value(s)\n")) << status.out;
  EXPECT_TRUE(Contains(status.out, "key id 2 (active): 5 value(s)")) << status.out;
}

// ---------------------------------------------------------------------------------------------
// (e) The wrong key stops start-up

TEST_F(KeysTest, AStartWithAnotherKeyFileIsRefusedWithAClearMessage) {
  const std::vector<TokenSpec> tokens = CreateTokens(2, 1);
  ASSERT_EQ(server().Stop(), 0);
  const fs::path other = server().dir() / "other.keys";
  ASSERT_EQ(RunBinary({"keys", "init", other.string()}, server().dir()).exit_code, 0);
  const std::string other_before = ReadFile(other);

  CommandResult wrong = ServeWith({"--master-key-file", other.string()});
  EXPECT_FALSE(wrong.timed_out) << "serve must refuse to start, not serve";
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
  EXPECT_TRUE(
      Contains(wrong.err, "the master key file " + other.string() + " does not match the database"))
      << wrong.err;
  EXPECT_TRUE(Contains(wrong.err, "master key id 1")) << wrong.err;

  CommandResult missing = ServeWith({"--master-key-file", (server().dir() / "gone.keys").string()});
  EXPECT_FALSE(missing.timed_out);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(Contains(missing.err, "gone.keys: does not exist")) << missing.err;

  // --dev must not invent a key for a database that exists.
  CommandResult dev = ServeWith({"--dev"});
  EXPECT_FALSE(dev.timed_out);
  EXPECT_EQ(dev.exit_code, 2);
  EXPECT_TRUE(Contains(dev.err, "refusing to create a new key for an existing store")) << dev.err;
  EXPECT_FALSE(fs::exists(server().data_dir() / "dev-master.key"));

  // Key commands refuse the wrong file too, and leave it alone.
  CommandResult rotate = Keys("rotate", {"--settle-seconds", "0"}, {}, other);
  EXPECT_EQ(rotate.exit_code, 2) << rotate.out << rotate.err;
  EXPECT_TRUE(Contains(rotate.err, "does not match the database")) << rotate.err;
  EXPECT_EQ(ReadFile(other), other_before) << "a key was added to the wrong file";

  // None of this damaged anything: the right key still starts and reads every value.
  Restart();
  ExpectOwnValuesOnly(tokens, "after refused starts");
}

// ---------------------------------------------------------------------------------------------
// (f) keys status and keys retire, (g) resume after a crash

TEST_F(KeysTest, StatusAndRetireGuardWhatDependsOnAKey) {
  const std::vector<TokenSpec> tokens = CreateTokens(5, 1);
  ASSERT_EQ(server().Stop(), 0);
  CommandResult status = Keys("status");
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(Contains(status.out, "key id 1 (active): 5 value(s), and the key check\n"))
      << status.out;
  EXPECT_TRUE(Contains(status.out, "key check: opens with this key file")) << status.out;

  CommandResult active = Keys("retire", {"--key-id", "1", "--settle-seconds", "0"});
  EXPECT_EQ(active.exit_code, 2);
  EXPECT_TRUE(Contains(active.err, "is the active key")) << active.err;
  CommandResult absent = Keys("retire", {"--key-id", "9", "--settle-seconds", "0"});
  EXPECT_EQ(absent.exit_code, 2);
  EXPECT_TRUE(Contains(absent.err, "key id 9 is not in")) << absent.err;

  // A rotation that stopped after 2 rows: key 1 still protects 3 values.
  CommandResult partial = Keys("rotate", {"--batch-size", "1", "--settle-seconds", "0"},
                               {{"TOKEN_SERVICE_TEST_ROTATE_STOP_AFTER", "2"}});
  ASSERT_EQ(partial.exit_code, 3) << partial.out << partial.err;
  CommandResult in_use = Keys("retire", {"--key-id", "1", "--settle-seconds", "0"});
  EXPECT_EQ(in_use.exit_code, 1) << in_use.err;
  EXPECT_TRUE(Contains(in_use.err, "3 stored value(s) still depend on it")) << in_use.err;
  EXPECT_TRUE(Contains(ReadFile(server().key_file()), "tsk1 1 ")) << "key 1 was removed";

  // Removing key 1 by hand (what retire refuses to do) leaves values that cannot be read, and
  // status says so and fails.
  const std::string full_ring = ReadFile(server().key_file());
  std::string without_one;
  for (std::size_t start = 0; start < full_ring.size();) {
    std::size_t end = full_ring.find('\n', start);
    end = end == std::string::npos ? full_ring.size() : end + 1;
    const std::string line = full_ring.substr(start, end - start);
    if (line.rfind("tsk1 1 ", 0) != 0) without_one += line;
    start = end;
  }
  ASSERT_TRUE(WriteFile(server().key_file(), without_one));
  CommandResult broken = Keys("status");
  EXPECT_EQ(broken.exit_code, 1) << broken.out;
  EXPECT_TRUE(
      Contains(broken.out, "key id 1 (NOT IN THE KEY FILE): 3 value(s) cannot be decrypted"))
      << broken.out;
  ASSERT_TRUE(WriteFile(server().key_file(), full_ring));

  CommandResult resumed = Keys("rotate", {"--resume", "--settle-seconds", "0"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  CommandResult retired = Keys("retire", {"--key-id", "1", "--settle-seconds", "0"});
  ASSERT_EQ(retired.exit_code, 0) << retired.out << retired.err;
  EXPECT_TRUE(Contains(retired.out, "retired key id 1")) << retired.out;
  EXPECT_FALSE(Contains(ReadFile(server().key_file()), "tsk1 1 "));
  CommandResult after = Keys("status");
  EXPECT_EQ(after.exit_code, 0) << after.out;
  EXPECT_FALSE(Contains(after.out, "key id 1")) << after.out;
  EXPECT_TRUE(Contains(after.out, "key id 2 (active): 5 value(s), and the key check\n"))
      << after.out;
  Restart();
  ExpectOwnValuesOnly(tokens, "after retiring key 1");
}

TEST_F(KeysTest, RotateResumeFinishesAnInterruptedRotationWithoutAnotherKey) {
  const std::vector<TokenSpec> tokens = CreateTokens(12, 2);
  ASSERT_EQ(server().Stop(), 0);
  CommandResult crashed = Keys("rotate", {"--batch-size", "2", "--settle-seconds", "0"},
                               {{"TOKEN_SERVICE_TEST_ROTATE_STOP_AFTER", "5"}});
  ASSERT_EQ(crashed.exit_code, 3) << crashed.out << crashed.err;
  EXPECT_TRUE(Contains(crashed.out, "added master key id 2")) << crashed.out;

  CommandResult status = Keys("status");
  EXPECT_EQ(status.exit_code, 0) << status.out;
  EXPECT_TRUE(Contains(status.out, "key id 1: 7 value(s)\n")) << status.out;
  EXPECT_TRUE(Contains(status.out, "key id 2 (active): 5 value(s), and the key check\n"))
      << status.out;
  EXPECT_TRUE(Contains(status.out, "keys rotate --resume")) << status.out;

  // Half-rotated is a consistent state: the service reads every value.
  Restart();
  ExpectOwnValuesOnly(tokens, "half rotated");
  ASSERT_EQ(server().Stop(), 0);

  CommandResult resumed = Keys("rotate", {"--resume", "--settle-seconds", "0"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_TRUE(Contains(resumed.out, "resuming")) << resumed.out;
  EXPECT_TRUE(Contains(resumed.out, "re-wrapped 7 stored value(s) under master key id 2"))
      << resumed.out;
  const std::string ring = ReadFile(server().key_file());
  EXPECT_TRUE(Contains(ring, "tsk1 1 ") && Contains(ring, "tsk1 2 ") && !Contains(ring, "tsk1 3 "))
      << "--resume must not add a key";

  CommandResult done = Keys("status");
  EXPECT_TRUE(Contains(done.out, "key id 1: 0 value(s)\n")) << done.out;
  EXPECT_TRUE(Contains(done.out, "key id 2 (active): 12 value(s)")) << done.out;
  Restart();
  ExpectOwnValuesOnly(tokens, "after resume");
}

// ---------------------------------------------------------------------------------------------
// (h) progress of `keys rotate`

// The progress lines of a rotation to key 2 in `err`, split at '\n' (and at '\r' when
// `on_terminal`).
std::vector<std::string> ProgressLines(const std::string& err) {
  std::vector<std::string> lines;
  std::string line;
  for (char c : err) {
    if (c == '\n' || c == '\r') {
      if (line.rfind("re-wrapping under key id 2: ", 0) == 0) lines.push_back(line);
      line.clear();
    } else {
      line += c;
    }
  }
  return lines;
}

TEST_F(KeysTest, RotateProgressIsPlainLinesWhenStderrIsNotATerminal) {
  CreateTokens(30, 3);
  ASSERT_EQ(server().Stop(), 0);
  // The total before the first batch, then ten batches of three rows: each batch is another
  // tenth, and each tenth gets a line.
  CommandResult rotated = Keys("rotate", {"--batch-size", "3", "--settle-seconds", "0"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.out << rotated.err;
  EXPECT_EQ(rotated.err.find('\r'), std::string::npos) << rotated.err;
  const std::vector<std::string> lines = ProgressLines(rotated.err);
  ASSERT_EQ(lines.size(), 11u) << rotated.err;
  EXPECT_EQ(lines[0], "re-wrapping under key id 2: 0/30 (0%)");
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const int done = static_cast<int>(i) * 3;
    const std::string counts =
        ": " + std::to_string(done) + "/30 (" + std::to_string(done * 100 / 30) + "%), ";
    EXPECT_TRUE(Contains(lines[i], counts)) << lines[i];
    EXPECT_TRUE(Contains(lines[i], " rows/s")) << lines[i];
    EXPECT_EQ(Contains(lines[i], " left"), done < 30) << lines[i];
  }
}

// Runs `token-service args...` with stderr on a pseudo-terminal; returns what it wrote there.
// The child's stdout is appended to `out_file`. Reads while the child runs, so it never blocks on a
// full terminal buffer.
std::string RunWithTerminalStderr(const std::vector<std::string>& args, const fs::path& work_dir,
                                  const fs::path& out_file, int* exit_code) {
  *exit_code = -1;
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
    ADD_FAILURE() << "no pseudo-terminal: " << std::strerror(errno);
    if (master >= 0) ::close(master);
    return "";
  }
  const std::string slave = ::ptsname(master);
  std::string error;
  const pid_t pid = SpawnBinary(args, work_dir, out_file, slave, {}, &error);
  if (pid < 0) {
    ADD_FAILURE() << error;
    ::close(master);
    return "";
  }
  std::string output;
  bool exited = false;
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 50) > 0 && (p.revents & POLLIN) != 0) {
      char buffer[4096];
      const ssize_t n = ::read(master, buffer, sizeof buffer);
      if (n > 0) {
        output.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
    }
    // Nothing more to read now: done once the child has exited (its output was read above,
    // or the terminal reports the hang-up).
    if (exited) break;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      continue;  // one more round of reading what it wrote last
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ADD_FAILURE() << "the command did not finish within 60 s";
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
  }
  ::close(master);
  if (exited && WIFEXITED(status)) *exit_code = WEXITSTATUS(status);
  return output;
}

TEST_F(KeysTest, RotateProgressIsOneRewrittenLineOnATerminal) {
  CreateTokens(30, 3);
  ASSERT_EQ(server().Stop(), 0);
  int exit_code = -1;
  const std::string terminal = RunWithTerminalStderr(
      {"keys", "rotate", "--master-key-file", server().key_file().string(), "--data-dir",
       server().data_dir().string(), "--batch-size", "3", "--settle-seconds", "0"},
      server().dir(), server().dir() / "rotate-tty.stdout", &exit_code);
  ASSERT_EQ(exit_code, 0) << terminal;
  // The start (the total, before the first batch) and the end are always shown; batches in
  // between may be skipped (at most ten updates a second), so only those two are asserted.
  const std::size_t first = terminal.find("\rre-wrapping under key id 2: 0/30 (0%) ");
  const std::size_t last = terminal.find("\rre-wrapping under key id 2: 30/30 (100%), ");
  ASSERT_NE(first, std::string::npos) << terminal;
  ASSERT_NE(last, std::string::npos) << terminal;
  ASSERT_LT(first, last) << terminal;
  // One line rewritten in place: no newline until the finished line ends.
  EXPECT_EQ(terminal.find('\n', first), terminal.find('\n', last)) << terminal;
  EXPECT_NE(terminal.find('\n', last), std::string::npos) << terminal;
  EXPECT_TRUE(Contains(ReadFile(server().dir() / "rotate-tty.stdout"),
                       "re-wrapped 30 stored value(s) under master key id 2"));
}

}  // namespace
}  // namespace bb
