#include "support/pg_test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

extern char** environ;

namespace ts::pgtest {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kAdminRole = "tsadmin";
constexpr const char* kAppRole = "tsapp";

std::string RandomHex(std::size_t bytes) {
  static std::mutex mu;
  static std::mt19937_64 engine{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::lock_guard lock(mu);
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    const auto byte = static_cast<unsigned>(engine() & 0xFF);
    out += kHex[byte >> 4];
    out += kHex[byte & 0xF];
  }
  return out;
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool WriteText(const fs::path& path, const std::string& text, std::string* error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot write " + path.string() + ": " + std::strerror(errno);
    return false;
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) *error = "short write to " + path.string();
  return ok;
}

// initdb refuses to run as root, and the server must not run as root either; the
// postgresql-15 package creates this unprivileged system user.
struct ServerUser {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

std::optional<ServerUser> ResolveServerUser(std::string* error) {
  ServerUser user;
  if (::geteuid() != 0) return user;
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) {
    *error =
        "running as root, but there is no `postgres` system user to run PostgreSQL as "
        "(install postgresql-15)";
    return std::nullopt;
  }
  user.switch_user = true;
  user.uid = pw->pw_uid;
  user.gid = pw->pw_gid;
  return user;
}

bool GiveToServerUser(const fs::path& path, const ServerUser& user, std::string* error) {
  if (!user.switch_user) return true;
  if (::chown(path.c_str(), user.uid, user.gid) != 0) {
    *error = "chown " + path.string() + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

// A port that was free a moment ago. Another process may take it before PostgreSQL binds it;
// Start retries with a new one when the server fails to come up.
std::uint16_t FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

struct PgConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using ConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;

ConnPtr Connect(const std::string& url, std::string* error) {
  ConnPtr conn(PQconnectdb(url.c_str()));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    *error = conn == nullptr ? "out of memory" : PQerrorMessage(conn.get());
    return nullptr;
  }
  return conn;
}

bool ExecOn(PGconn* conn, const std::string& sql, std::string* error) {
  PGresult* result = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(result);
  const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  if (!ok) *error = "`" + sql + "`: " + PQerrorMessage(conn);
  PQclear(result);
  return ok;
}

}  // namespace

std::unique_ptr<PgTestServer> PgTestServer::Start(const PgTestServerOptions& options,
                                                  std::string* error) {
  auto user = ResolveServerUser(error);
  if (!user) return nullptr;
  std::unique_ptr<PgTestServer> server(new PgTestServer());
  server->options_ = options;
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/ts-pgtest-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    *error = std::string("mkdtemp: ") + std::strerror(errno);
    return nullptr;
  }
  server->dir_ = pattern;
  server->owned_ = true;  // from here on the destructor cleans up
  if (!GiveToServerUser(server->dir_, *user, error)) return nullptr;

  server->admin_password_ = RandomHex(16);
  server->app_password_ = RandomHex(16);
  const fs::path pwfile = server->dir_ / "admin.pw";
  if (!WriteText(pwfile, server->admin_password_ + "\n", error) ||
      !GiveToServerUser(pwfile, *user, error)) {
    return nullptr;
  }
  // --no-sync only skips flushing initdb's own files: the cluster is thrown away if the
  // machine crashes during the tests. The server itself runs with fsync=on.
  const fs::path data = server->dir_ / "data";
  if (!server->RunTool(
          "initdb",
          {"-D", data.string(), "-U", kAdminRole, "--pwfile=" + pwfile.string(), "-A",
           "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"},
          options.start_timeout, error)) {
    return nullptr;
  }
  std::error_code ignored;
  fs::remove(pwfile, ignored);

  // Settings go into postgresql.conf (not pg_ctl -o) so that StartAgain needs none.
  std::ofstream conf(data / "postgresql.conf", std::ios::app);
  conf << "\n# ts-pgtest\n"
       << "listen_addresses = '127.0.0.1'\n"
       << "unix_socket_directories = '" << server->dir_.string() << "'\n"
       << "fsync = on\n"
       << "synchronous_commit = on\n"
       << "full_page_writes = on\n"
       << "max_connections = " << options.max_connections << "\n"
       << "shared_buffers = 32MB\n"
       << "log_min_messages = warning\n"
       << "log_min_error_statement = panic\n";  // statements may carry test values
  conf.close();
  if (!conf) {
    *error = "cannot append to postgresql.conf";
    return nullptr;
  }

  std::string start_error;
  for (int attempt = 0; attempt < 5; ++attempt) {
    server->port_ = FreeLoopbackPort();
    if (server->port_ == 0) continue;
    std::ofstream port_conf(data / "postgresql.conf", std::ios::app);
    port_conf << "port = " << server->port_ << "\n";  // the last setting wins
    port_conf.close();
    if (server->StartAgain(&start_error)) break;
  }
  if (!server->running_) {
    *error = "PostgreSQL did not start: " + start_error;
    return nullptr;
  }
  ConnPtr admin = Connect(server->AdminUrl(), error);
  if (!admin || !ExecOn(admin.get(),
                        std::string("CREATE ROLE ") + kAppRole + " LOGIN PASSWORD '" +
                            server->app_password_ + "'",
                        error)) {
    return nullptr;
  }
  return server;
}

std::unique_ptr<PgTestServer> PgTestServer::Attach(const fs::path& state_file, bool take_ownership,
                                                   std::string* error) {
  std::unique_ptr<PgTestServer> server(new PgTestServer());
  std::istringstream in(ReadText(state_file));
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    const std::string value = line.substr(eq + 1);
    if (key == "port") server->port_ = static_cast<std::uint16_t>(std::atoi(value.c_str()));
    if (key == "admin_password") server->admin_password_ = value;
    if (key == "app_password") server->app_password_ = value;
    if (key == "dir") server->dir_ = value;
    if (key == "bin_dir") server->options_.bin_dir = value;
  }
  if (server->port_ == 0 || server->admin_password_.empty() || server->dir_.empty()) {
    *error = "no usable PostgreSQL test server described in " + state_file.string();
    return nullptr;
  }
  server->owned_ = take_ownership;
  server->running_ = true;
  if (!server->WaitUntilAccepting(std::chrono::seconds(10), error)) {
    *error = "the shared PostgreSQL test server (" + state_file.string() +
             ") does not accept connections: " + *error;
    if (!take_ownership) return nullptr;
  }
  return server;
}

PgTestServer::~PgTestServer() {
  if (!owned_) return;
  std::string ignored;
  if (running_) Stop(&ignored);
  std::error_code ec;
  if (!dir_.empty() && std::getenv("TS_PGTEST_KEEP_TMP") == nullptr) fs::remove_all(dir_, ec);
}

bool PgTestServer::RunTool(const std::string& tool, const std::vector<std::string>& args,
                           std::chrono::seconds timeout, std::string* error) const {
  std::string switch_error;
  auto user = ResolveServerUser(&switch_error);
  if (!user) {
    *error = switch_error;
    return false;
  }
  std::vector<std::string> argv_storage;
  if (user->switch_user) {
    argv_storage = {"/usr/sbin/runuser", "-u", "postgres", "--"};
  }
  argv_storage.push_back(options_.bin_dir + "/" + tool);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);

  // The tools' output goes to a file, never to the test's stdout: CTest waits for every
  // holder of its pipe, and the server that pg_ctl leaves behind would be one.
  const fs::path log = dir_ / "tools.log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addchdir_np(&actions, dir_.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  // A new process group: a Ctrl-C meant for the test runner must not stop the server midway.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    *error = "cannot run " + argv_storage.front() + ": " + std::strerror(rc);
    return false;
  }
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      *error = std::string("waitpid: ") + std::strerror(errno);
      return false;
    }
    if (Clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      *error =
          tool + " did not finish within " + std::to_string(timeout.count()) + " s\n" + LogTail();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *error = tool + " failed (status " + std::to_string(status) + ")\n" + LogTail();
    return false;
  }
  return true;
}

std::string PgTestServer::LogTail() const {
  std::string text = ReadText(dir_ / "tools.log") + ReadText(dir_ / "postgres.log");
  if (text.size() > 3000) text = "..." + text.substr(text.size() - 3000);
  return text;
}

bool PgTestServer::Stop(std::string* error) {
  if (!running_) return true;
  const fs::path data = dir_ / "data";
  if (!RunTool("pg_ctl", {"-D", data.string(), "-m", "fast", "-w", "-t", "60", "stop"},
               std::chrono::seconds(90), error)) {
    return false;
  }
  running_ = false;
  return true;
}

bool PgTestServer::StartAgain(std::string* error) {
  if (running_) return true;
  const fs::path data = dir_ / "data";
  const fs::path log = dir_ / "postgres.log";
  if (!RunTool("pg_ctl",
               {"-D", data.string(), "-l", log.string(), "-w", "-t",
                std::to_string(options_.start_timeout.count()), "start"},
               options_.start_timeout + std::chrono::seconds(10), error)) {
    return false;
  }
  running_ = true;
  // pg_ctl -w already waited for "ready"; a connection proves the TCP listener and the
  // passwords too.
  return WaitUntilAccepting(std::chrono::seconds(30), error);
}

bool PgTestServer::WaitUntilAccepting(std::chrono::seconds timeout, std::string* error) const {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (Connect(AdminUrl() + "?connect_timeout=5", error)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string PgTestServer::AppUrl(const std::string& database) const {
  return std::string("postgresql://") + kAppRole + ":" + app_password_ +
         "@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PgTestServer::AdminUrl(const std::string& database) const {
  return std::string("postgresql://") + kAdminRole + ":" + admin_password_ +
         "@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PgTestServer::CreateDatabase(std::string* error) {
  ConnPtr admin = Connect(AdminUrl(), error);
  if (!admin) return {};
  const std::string name = "ts_" + RandomHex(8);
  if (!ExecOn(admin.get(), "CREATE DATABASE " + name + " OWNER " + kAppRole, error)) return {};
  return name;
}

bool PgTestServer::DropDatabase(const std::string& name, std::string* error) {
  ConnPtr admin = Connect(AdminUrl(), error);
  if (!admin) return false;
  return ExecOn(admin.get(), "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", error);
}

std::optional<std::vector<std::string>> PgTestServer::Query(const std::string& database,
                                                            const std::string& sql,
                                                            std::string* error) {
  ConnPtr conn = Connect(AdminUrl(database), error);
  if (!conn) return std::nullopt;
  PGresult* result = PQexec(conn.get(), sql.c_str());
  const ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    *error = "`" + sql + "`: " + PQerrorMessage(conn.get());
    PQclear(result);
    return std::nullopt;
  }
  std::vector<std::string> rows;
  for (int i = 0; status == PGRES_TUPLES_OK && i < PQntuples(result); ++i) {
    rows.emplace_back(PQgetvalue(result, i, 0),
                      static_cast<std::size_t>(PQgetlength(result, i, 0)));
  }
  PQclear(result);
  return rows;
}

bool PgTestServer::WriteStateFile(const fs::path& path, std::string* error) const {
  const std::string text = "port=" + std::to_string(port_) + "\nadmin_password=" + admin_password_ +
                           "\napp_password=" + app_password_ + "\ndir=" + dir_.string() +
                           "\nbin_dir=" + options_.bin_dir + "\n";
  const fs::path temp = path.string() + ".tmp";
  if (!WriteText(temp, text, error)) return false;
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) {
    *error = "rename " + temp.string() + ": " + ec.message();
    return false;
  }
  return true;
}

PgTestServer* SharedPgTestServer(std::string* error) {
  static std::mutex mu;
  // Destroyed at exit, which stops a server this process started.
  static std::unique_ptr<PgTestServer> server;
  static std::string failure;
  static bool tried = false;
  std::lock_guard lock(mu);
  if (!tried) {
    tried = true;
    const char* shared = std::getenv("TS_PGTEST_SHARED");
    if (shared != nullptr && *shared != '\0') {
      server = PgTestServer::Attach(shared, /*take_ownership=*/false, &failure);
    } else {
      server = PgTestServer::Start(PgTestServerOptions{}, &failure);
    }
  }
  if (!server) *error = failure;
  return server.get();
}

ScopedTestDatabase::ScopedTestDatabase() {
  server_ = SharedPgTestServer(&error_);
  if (server_ == nullptr) return;
  name_ = server_->CreateDatabase(&error_);
  if (!name_.empty()) url_ = server_->AppUrl(name_);
}

ScopedTestDatabase::~ScopedTestDatabase() {
  if (server_ == nullptr || name_.empty()) return;
  std::string ignored;
  server_->DropDatabase(name_, &ignored);
}

}  // namespace ts::pgtest
