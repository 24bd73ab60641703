// PgTestServer: a throwaway PostgreSQL 15 server for tests (store conformance, black-box). It
// runs initdb and pg_ctl from /usr/lib/postgresql/15/bin in a fresh temporary directory, as
// the `postgres` system user when the tests run as root (initdb refuses root), listening on
// 127.0.0.1 only, on a free port, with its unix socket inside that directory and fsync=on. Two
// roles exist: an administrator (creates and drops databases) and `tsapp`, an ordinary role
// that owns the databases it is given, as a service would in production. Passwords are
// random; host connections need them (scram-sha-256).
//
// Sharing: SharedPgTestServer() is one server per test process, started on first use and
// stopped at exit. Under CTest, a fixture (pgtest_server start/stop, see tests/CMakeLists.txt)
// starts one server for the whole run and names it in TS_PGTEST_SHARED; then every test
// process attaches to that one instead of running initdb itself. Tests isolate themselves with
// their own database (CreateDatabase). A test that stops the server (fault injection) must
// start a private one with PgTestServer::Start.
//
// Thread-safety: a PgTestServer is used from one thread at a time; SharedPgTestServer() is
// thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ts::pgtest {

struct PgTestServerOptions {
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
  int max_connections = 300;
  std::chrono::seconds start_timeout{90};
};

class PgTestServer {
 public:
  // initdb + start in a new temporary directory. nullptr and *error on failure.
  static std::unique_ptr<PgTestServer> Start(const PgTestServerOptions& options,
                                             std::string* error);
  // Attaches to a server described by a state file (WriteStateFile); the attached object does
  // not stop the server unless `take_ownership`.
  static std::unique_ptr<PgTestServer> Attach(const std::filesystem::path& state_file,
                                              bool take_ownership, std::string* error);

  ~PgTestServer();  // an owning object stops the server and removes its directory
  PgTestServer(const PgTestServer&) = delete;
  PgTestServer& operator=(const PgTestServer&) = delete;

  // pg_ctl stop -m fast (committed data stays on disk), and start again with the same data
  // directory and port. For fault-injection tests.
  bool Stop(std::string* error);
  bool StartAgain(std::string* error);
  bool running() const { return running_; }
  // From now on the destructor leaves the server running (another process will stop it).
  void Disown() { owned_ = false; }

  std::uint16_t port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }
  const std::string& app_password() const { return app_password_; }

  // postgresql://tsapp:…@127.0.0.1:port/<database>
  std::string AppUrl(const std::string& database) const;
  // The administrator's URL for `database` (default: the maintenance database).
  std::string AdminUrl(const std::string& database = "postgres") const;

  // A new, empty database owned by tsapp, with a unique name; returns the name (empty and
  // *error on failure).
  std::string CreateDatabase(std::string* error);
  // Drops it, terminating remaining connections. Returns false and *error on failure.
  bool DropDatabase(const std::string& name, std::string* error);
  // Runs `sql` as the administrator in `database`; the first column of every row, as text.
  std::optional<std::vector<std::string>> Query(const std::string& database, const std::string& sql,
                                                std::string* error);

  // Writes what Attach needs (port, passwords, directory), mode 0600, atomically.
  bool WriteStateFile(const std::filesystem::path& path, std::string* error) const;

 private:
  PgTestServer() = default;
  bool RunTool(const std::string& tool, const std::vector<std::string>& args,
               std::chrono::seconds timeout, std::string* error) const;
  bool WaitUntilAccepting(std::chrono::seconds timeout, std::string* error) const;
  std::string LogTail() const;

  PgTestServerOptions options_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::string admin_password_;
  std::string app_password_;
  bool owned_ = false;
  bool running_ = false;
};

// The process's shared server (see the header comment). nullptr and *error if none could be
// started; later calls report the same failure without retrying.
PgTestServer* SharedPgTestServer(std::string* error);

// A database on the shared server that is dropped when this object is destroyed.
class ScopedTestDatabase {
 public:
  // On failure, url() is empty and error() says why.
  ScopedTestDatabase();
  ~ScopedTestDatabase();
  ScopedTestDatabase(const ScopedTestDatabase&) = delete;
  ScopedTestDatabase& operator=(const ScopedTestDatabase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& url() const { return url_; }
  const std::string& error() const { return error_; }
  PgTestServer* server() const { return server_; }

 private:
  PgTestServer* server_ = nullptr;
  std::string name_;
  std::string url_;
  std::string error_;
};

}  // namespace ts::pgtest
