#include "blackbox/harness.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "auth/token_verifier.h"
#include "blackbox/http_client.h"
#include "support/pg_test_server.h"

extern char** environ;

namespace bb {
namespace fs = std::filesystem;

Backend PostgresBackend() { return Backend{"postgres", {}, true}; }

std::vector<Backend> Backends() { return {Backend{"sqlite", {}}, PostgresBackend()}; }

std::string BinaryPath() {
  const char* path = std::getenv("TS_BINARY");
  return path == nullptr ? std::string() : std::string(path);
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/ts-blackbox-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp failed: ") + std::strerror(errno));
  }
  path_ = buffer.data();
}

TempDir::~TempDir() {
  if (std::getenv("TS_BLACKBOX_KEEP_TMP") != nullptr) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool WriteFile(const fs::path& path, const std::string& content, int mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  std::size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  return ::close(fd) == 0;
}

std::string Named(std::string_view prefix, std::int64_t n) {
  // Built by appending: GCC 12 at -O3 warns, falsely (-Wrestrict), about "literal" +
  // std::to_string(n) in some inlined contexts, and CI builds with -Werror.
  std::string text(prefix);
  text += std::to_string(n);
  return text;
}

std::string RandomHex(std::size_t bytes) {
  static thread_local std::mt19937_64 engine{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    auto byte = static_cast<unsigned>(engine() & 0xFF);
    out += kHex[byte >> 4];
    out += kHex[byte & 0xF];
  }
  return out;
}

std::int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::vector<std::string> BuildEnvironment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    std::string key = entry.substr(0, entry.find('='));
    if (key == "TOKEN_SERVICE_JWT_SECRET" || extra.count(key) != 0) continue;
    env.push_back(std::move(entry));
  }
  for (const auto& [key, value] : extra) env.push_back(key + "=" + value);
  return env;
}

// posix_spawn with stdin from /dev/null, stdout/stderr appended to files, cwd `work_dir`,
// and default signal dispositions (the test runner's own masks must not leak into the server).
pid_t Spawn(const std::vector<std::string>& args, const fs::path& work_dir,
            const fs::path& out_file, const fs::path& err_file,
            const std::map<std::string, std::string>& extra_env, std::string* error) {
  const std::string binary = BinaryPath();
  if (binary.empty()) {
    *error = "TS_BINARY is not set (run through ctest, or export TS_BINARY=path/to/token-service)";
    return -1;
  }
  std::vector<std::string> argv_storage;
  argv_storage.push_back(binary);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = BuildEnvironment(extra_env);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0600);
  posix_spawn_file_actions_addchdir_np(&actions, work_dir.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t no_signals;
  sigemptyset(&no_signals);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &no_signals);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, binary.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    *error = "posix_spawn " + binary + ": " + std::strerror(rc);
    return -1;
  }
  return pid;
}

// Polls for the child's exit until the deadline. Returns the raw status, or nullopt.
std::optional<int> WaitForExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

pid_t SpawnBinary(const std::vector<std::string>& args, const fs::path& work_dir,
                  const fs::path& out_file, const fs::path& err_file,
                  const std::map<std::string, std::string>& env, std::string* error) {
  return Spawn(args, work_dir, out_file, err_file, env, error);
}

CommandResult RunBinary(const std::vector<std::string>& args, const fs::path& work_dir,
                        std::chrono::milliseconds timeout,
                        const std::map<std::string, std::string>& env) {
  CommandResult result;
  const std::string tag = RandomHex(6);
  const fs::path out = work_dir / ("cmd-" + tag + ".stdout");
  const fs::path err = work_dir / ("cmd-" + tag + ".stderr");
  std::string error;
  pid_t pid = Spawn(args, work_dir, out, err, env, &error);
  if (pid < 0) {
    result.err = error;
    return result;
  }
  std::optional<int> status = WaitForExit(pid, timeout);
  if (!status) {
    result.timed_out = true;
    ::kill(pid, SIGKILL);
    int ignored = 0;
    ::waitpid(pid, &ignored, 0);
  } else {
    result.exit_code = DecodeWaitStatus(*status);
  }
  result.out = ReadFile(out);
  result.err = ReadFile(err);
  std::error_code ec;
  fs::remove(out, ec);
  fs::remove(err, ec);
  return result;
}

std::unique_ptr<ServerProcess> ServerProcess::Start(const ServerConfig& config,
                                                    std::string* error) {
  std::unique_ptr<ServerProcess> server(new ServerProcess(config));
  const ServerProcess* replica_of = config.replica_of;
  server->jwt_secret_ = replica_of != nullptr ? replica_of->jwt_secret() : RandomHex(32);
  if (!WriteFile(server->secret_file(), server->jwt_secret_ + "\n")) {
    *error = "cannot write " + server->secret_file().string();
    return nullptr;
  }
  if (replica_of != nullptr) {
    if (!WriteFile(server->key_file(), ReadFile(replica_of->key_file()), 0600)) {
      *error = "cannot copy the key file of the other replica";
      return nullptr;
    }
  } else {
    CommandResult keys = RunBinary({"keys", "init", server->key_file().string()}, server->dir());
    if (keys.exit_code != 0 || !fs::exists(server->key_file())) {
      *error = "`token-service keys init` failed (exit " + std::to_string(keys.exit_code) +
               "): " + keys.err + keys.out;
      return nullptr;
    }
  }
  std::error_code ec;
  fs::create_directories(server->data_dir(), ec);
  if (config.backend.postgres) {
    server->database_url_ = config.database_url;
    if (server->database_url_.empty() && replica_of != nullptr) {
      server->database_url_ = replica_of->database_url();
    }
    if (server->database_url_.empty()) {
      ts::pgtest::PgTestServer* pg = ts::pgtest::SharedPgTestServer(error);
      if (pg == nullptr) return nullptr;
      server->owned_database_ = pg->CreateDatabase(error);
      if (server->owned_database_.empty()) return nullptr;
      server->database_url_ = pg->AppUrl(server->owned_database_);
    }
  }
  if (!server->Launch(error)) return nullptr;
  return server;
}

bool ServerProcess::Launch(std::string* error) {
  std::error_code ec;
  fs::remove(port_file(), ec);
  exit_status_.reset();
  port_ = 0;
  std::vector<std::string> args = {"serve",
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--data-dir",
                                   data_dir().string(),
                                   "--port-file",
                                   port_file().string(),
                                   "--master-key-file",
                                   key_file().string(),
                                   "--audit-log",
                                   audit_log_file().string()};
  std::map<std::string, std::string> env;
  if (!database_url_.empty()) env["TOKEN_SERVICE_DATABASE_URL"] = database_url_;
  if (config_.secret_via_env) {
    env["TOKEN_SERVICE_JWT_SECRET"] = jwt_secret_;
  } else {
    args.push_back("--jwt-secret-file");
    args.push_back(secret_file().string());
  }
  if (!config_.log_level.empty()) {
    args.push_back("--log-level");
    args.push_back(config_.log_level);
  }
  if (config_.options_in_config_file) {
    // Every option above takes a value: "--name value" becomes "name": "value".
    boost::json::object file;
    for (std::size_t i = 1; i + 1 < args.size(); i += 2) {
      file[args[i].substr(2)] = args[i + 1];
    }
    if (!WriteFile(config_file(),
                   "// written by the black-box harness\n" + boost::json::serialize(file) + "\n")) {
      *error = "cannot write " + config_file().string();
      return false;
    }
    args = {"serve", "--config", config_file().string()};
  }
  args.insert(args.end(), config_.backend.serve_args.begin(), config_.backend.serve_args.end());
  args.insert(args.end(), config_.extra_args.begin(), config_.extra_args.end());
  pid_ = Spawn(args, dir(), stdout_file(), stderr_file(), env, error);
  if (pid_ < 0) return false;
  return WaitUntilReady(error);
}

bool ServerProcess::WaitUntilReady(std::string* error) {
  const auto deadline = std::chrono::steady_clock::now() + config_.start_deadline;
  auto fail = [&](const std::string& why) {
    *error = why + "\n--- server stderr (tail) ---\n" + StderrTail();
    if (Running()) {
      ::kill(pid_, SIGKILL);
      WaitForExit(pid_, std::chrono::seconds(10));
    }
    return false;
  };
  // 1. The port file appears (written atomically: temp file + rename).
  while (true) {
    std::string status;
    if (!Running(&status)) return fail("server exited before writing the port file: " + status);
    std::string content = ReadFile(port_file());
    if (!content.empty()) {
      if (content.back() != '\n') return fail("port file has no trailing newline: " + content);
      char* end = nullptr;
      long port = std::strtol(content.c_str(), &end, 10);
      if (end == nullptr || *end != '\n' || port <= 0 || port > 65535) {
        return fail("port file does not hold a port number: " + content);
      }
      port_ = static_cast<std::uint16_t>(port);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return fail("no port file within deadline");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // 2. GET /health/ready answers 200.
  ClientOptions options;
  options.timeout = std::chrono::seconds(2);
  std::string last;
  while (true) {
    std::string status;
    if (!Running(&status)) return fail("server exited before becoming ready: " + status);
    ExchangeResult r = Send(port_, HttpRequest{"GET", "/health/ready", {}, std::nullopt}, options);
    if (r.ok && r.response.status == 200) return true;
    last = r.ok ? "status " + std::to_string(r.response.status) : r.error;
    if (std::chrono::steady_clock::now() >= deadline) {
      return fail("GET /health/ready not 200 within deadline (last: " + last + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool ServerProcess::Running(std::string* status_text) {
  if (pid_ < 0) {
    if (status_text != nullptr) *status_text = "never started";
    return false;
  }
  if (!exit_status_) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == 0) return true;
    if (r == pid_) exit_status_ = status;
  }
  if (status_text != nullptr) {
    if (!exit_status_) {
      *status_text = "unknown";
    } else if (WIFEXITED(*exit_status_)) {
      *status_text = "exit code " + std::to_string(WEXITSTATUS(*exit_status_));
    } else if (WIFSIGNALED(*exit_status_)) {
      *status_text = "killed by signal " + std::to_string(WTERMSIG(*exit_status_));
    }
  }
  return false;
}

int ServerProcess::Stop(int signal, std::chrono::milliseconds deadline) {
  if (pid_ < 0) return -1;
  if (!exit_status_) {
    ::kill(pid_, signal);
    std::optional<int> status = WaitForExit(pid_, deadline);
    if (!status) {
      ::kill(pid_, SIGKILL);
      int ignored = 0;
      ::waitpid(pid_, &ignored, 0);
      exit_status_ = ignored;
      return -1;
    }
    exit_status_ = *status;
  }
  return DecodeWaitStatus(*exit_status_);
}

bool ServerProcess::Restart(std::string* error) {
  if (Running()) Stop();
  return Launch(error);
}

ServerProcess::~ServerProcess() {
  if (pid_ >= 0 && Running()) {
    ::kill(pid_, SIGKILL);
    int ignored = 0;
    ::waitpid(pid_, &ignored, 0);
  }
  if (!owned_database_.empty()) {
    std::string ignored;
    if (auto* pg = ts::pgtest::SharedPgTestServer(&ignored)) {
      pg->DropDatabase(owned_database_, &ignored);
    }
  }
}

std::string ServerProcess::AllOutput() const {
  return ReadFile(stdout_file()) + ReadFile(stderr_file()) + ReadFile(audit_log_file());
}

std::string ServerProcess::StderrTail(std::size_t max_bytes) const {
  std::string err = ReadFile(stderr_file());
  if (err.size() > max_bytes) err = "..." + err.substr(err.size() - max_bytes);
  return err;
}

std::string Base64Url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (bytes.size() - i == 1) {
    unsigned v = byte(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::string MintToken(const std::string& secret, const std::string& tenant,
                      const std::string& scope, std::int64_t ttl_seconds,
                      std::int64_t issued_at_offset_seconds) {
  auto token = ts::auth::MintHs256Token(secret, tenant, scope, "blackbox-tests",
                                        NowSeconds() + issued_at_offset_seconds, ttl_seconds);
  if (!token.ok()) {
    throw std::runtime_error("MintHs256Token failed: " + token.error().message + " " +
                             token.error().internal);
  }
  return *token;
}

std::string CraftToken(const std::string& secret, const std::string& header_json,
                       const std::string& claims_json, const std::optional<std::string>& signature,
                       const std::string& hmac_digest) {
  std::string signing_input = Base64Url(header_json) + "." + Base64Url(claims_json);
  if (signature) return signing_input + "." + *signature;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  const EVP_MD* digest = EVP_get_digestbyname(hmac_digest.c_str());
  if (digest == nullptr) throw std::runtime_error("unknown digest " + hmac_digest);
  if (HMAC(digest, secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
           &mac_len) == nullptr) {
    throw std::runtime_error("HMAC failed");
  }
  return signing_input + "." +
         Base64Url(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

}  // namespace bb
