#include "app/keys_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "app/process_hardening.h"
#include "app/progress_reporter.h"
#include "config/serve_config.h"
#include "crypto/key_ring.h"
#include "crypto/key_ring_watcher.h"
#include "crypto/value_barrier.h"
#include "service/key_check.h"
#include "service/key_rotation.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"

namespace ts::app {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kStopAfterVariable = "TOKEN_SERVICE_TEST_ROTATE_STOP_AFTER";
// After the settle time, passes repeat only while they still find old-key rows; a service that
// never picks up the new key must not keep the command running forever.
constexpr int kMaxExtraPasses = 20;
// Rows per read of `keys retire`'s scan of every sealed value.
constexpr std::size_t kScanBatchSize = 1000;

int Fail(const std::string& message) {
  std::cerr << "token-service: " << message << "\n";
  return 2;
}

int Fail(const Error& error) {
  std::string message = error.message;
  if (!error.internal.empty() && error.internal != error.message) {
    message += " (" + error.internal + ")";
  }
  return Fail(message);
}

// Everything a key command works on: the key file's ring behind a barrier, and the service's
// existing database.
struct KeysContext {
  std::string database;
  std::unique_ptr<crypto::ValueBarrier> barrier;
  std::unique_ptr<store::TokenStore> store;
};

Result<KeysContext> OpenContext(const config::KeysConfig& config) {
  if (auto policy = ApplyCoreDumpPolicy(false); !policy) return std::move(policy).error();
  if (auto init = crypto::InitCrypto(); !init) return std::move(init).error();
  KeysContext context;
  auto ring = crypto::LoadKeyRingFile(config.master_key_file);
  if (!ring) return std::move(ring).error();
  context.barrier = std::make_unique<crypto::ValueBarrier>(std::move(ring).value());
  if (!config.database_url.empty()) {
    context.database = store::RedactDatabaseUrl(config.database_url);
    store::PostgresOptions options;
    options.url = config.database_url;
    options.pool_size = 1;
    options.statement_timeout = std::chrono::milliseconds(config.database_timeout_ms);
    auto opened = store::OpenPostgresStore(options);
    if (!opened) return std::move(opened).error();
    context.store = std::move(opened).value();
    return context;
  }
  context.database = config.data_dir + "/tokens.db";
  // Opening a path that does not exist would create an empty database there, and a typo in
  // --data-dir would then "succeed" on nothing.
  struct stat st {};
  if (::stat(context.database.c_str(), &st) != 0) {
    return Error::Invalid("no database at " + context.database +
                          " (is --data-dir the data dir of the service?)");
  }
  store::SqliteOptions options;
  options.path = context.database;
  options.synchronous = config.sqlite_synchronous;
  options.read_connections = 1;
  auto opened = store::OpenSqliteStore(options);
  if (!opened) return std::move(opened).error();
  context.store = std::move(opened).value();
  return context;
}

// The store options of a suggested follow-up command. A database URL may hold a password, so
// it is never printed: the hint refers to the environment variable instead.
std::string StoreArgs(const config::KeysConfig& config) {
  if (!config.database_url.empty()) return " --database-url \"$TOKEN_SERVICE_DATABASE_URL\"";
  return " --data-dir " + config.data_dir;
}

Error Mismatch(const config::KeysConfig& config, const KeysContext& context, const Error& e) {
  if (e.code != ErrorCode::kInvalidArgument) return e;
  return Error::Invalid("the master key file " + config.master_key_file +
                        " does not match the database " + context.database + ": " + e.message);
}

Result<std::optional<std::int64_t>> TestStopAfter() {
  const char* text = std::getenv(kStopAfterVariable);
  if (text == nullptr || *text == '\0') return std::optional<std::int64_t>();
  char* end = nullptr;
  const long long n = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || n < 1) {
    return Error::Invalid(std::string(kStopAfterVariable) + " must be a whole number >= 1");
  }
  return std::optional<std::int64_t>(n);
}

void PrintFailedRows(const service::RewrapReport& report) {
  std::cerr << "token-service: " << report.failed
            << " stored value(s) do not open and were not re-wrapped (altered, or under a key "
               "missing from the key file); they keep their old key:\n";
  for (const store::SealedValueKey& row : report.failed_rows) {
    std::cerr << "  tenant " << row.tenant << ", token " << row.id << "\n";
  }
  if (report.failed > static_cast<std::int64_t>(report.failed_rows.size())) {
    std::cerr << "  ...\n";
  }
}

// Which keys of the ring nothing depends on any more (retire candidates), for the hints.
std::vector<std::uint32_t> Retirable(const crypto::KeyRing& ring, const service::KeyUsage& usage) {
  std::vector<std::uint32_t> ids;
  for (std::uint32_t id : ring.ids()) {
    if (id == ring.active_id() || usage.key_check_key == id) continue;
    auto it = usage.values_by_key.find(id);
    if (it == usage.values_by_key.end() || it->second == 0) ids.push_back(id);
  }
  return ids;
}

int Rotate(const config::KeysConfig& config) {
  auto stop_after = TestStopAfter();
  if (!stop_after) return Fail(stop_after.error());
  auto context = OpenContext(config);
  if (!context) return Fail(context.error());
  store::TokenStore& store = *context->store;
  crypto::ValueBarrier& barrier = *context->barrier;
  // Never add a key to a file that does not belong to this database.
  if (auto checked = service::VerifyOrCreateKeyCheck(store, barrier); !checked) {
    return Fail(Mismatch(config, *context, checked.error()));
  }

  const auto started = Clock::now();
  if (!config.resume) {
    auto added = crypto::AddKeyToRingFile(config.master_key_file);
    if (!added) return Fail(added.error());
    auto ring = crypto::LoadKeyRingFile(config.master_key_file);
    if (!ring) return Fail(ring.error());
    barrier.ReplaceKeyRing(std::move(ring).value());
    std::cout << "added master key id " << *added << " to " << config.master_key_file
              << "; it is now the active key\n";
  } else {
    std::cout << "resuming: re-wrapping what is not yet under the active master key id "
              << barrier.ActiveKeyId() << "\n";
  }
  std::cout.flush();

  service::RewrapOptions options;
  options.batch_size = static_cast<std::size_t>(config.batch_size);
  options.stop_after = *stop_after;
  const auto settled_at = started + std::chrono::seconds(config.settle_seconds);
  std::int64_t rewrapped = 0;
  service::RewrapReport last;
  // A running service seals new values under the old key until it notices the new key file
  // (within 5 s), possibly behind the pass. So passes repeat until one that began after the
  // settle time found nothing left to move.
  for (int pass = 0;; ++pass) {
    const bool after_settle = Clock::now() >= settled_at;
    ProgressReporter progress("re-wrapping under key id " + std::to_string(barrier.ActiveKeyId()),
                              "rows");
    auto report = service::RewrapToActiveKey(
        store, barrier, options,
        [&](const service::RewrapReport& r) { progress.Update(r.done(), r.total); });
    progress.Close();
    if (!report) return Fail(Mismatch(config, *context, report.error()));
    last = std::move(report).value();
    rewrapped += last.rewrapped;
    if (last.stopped) {
      std::cerr << "token-service: " << kStopAfterVariable << " reached after " << rewrapped
                << " rows; stopping abruptly (test hook)\n";
      std::cout.flush();
      std::fflush(nullptr);
      std::_Exit(3);
    }
    if (after_settle && (last.rewrapped == 0 || pass >= kMaxExtraPasses)) break;
    if (!after_settle && last.rewrapped == 0) {
      const auto wait = settled_at - Clock::now();
      if (wait > Clock::duration::zero()) {
        std::cerr << "waiting "
                  << ProgressReporter::Duration(std::chrono::duration<double>(wait).count())
                  << " for running services to pick up the new key, then checking again\n";
        std::this_thread::sleep_for(wait);
      }
    }
    options.stop_after = std::nullopt;  // the test hook counts the first pass only
  }

  std::cout << "re-wrapped " << rewrapped << " stored value(s) under master key id "
            << barrier.ActiveKeyId() << "\n";
  auto usage = service::CountKeyUsage(store);
  if (!usage) return Fail(usage.error());
  for (std::uint32_t id : Retirable(*barrier.Keys(), *usage)) {
    std::cout << "key id " << id << " no longer protects anything; retire it with: "
              << "token-service keys retire --master-key-file " << config.master_key_file
              << StoreArgs(config) << " --key-id " << id << "\n";
  }
  if (last.failed > 0) {
    PrintFailedRows(last);
    return 1;
  }
  return 0;
}

int Status(const config::KeysConfig& config) {
  auto context = OpenContext(config);
  if (!context) return Fail(context.error());
  store::TokenStore& store = *context->store;
  const crypto::ValueBarrier& barrier = *context->barrier;
  auto usage = service::CountKeyUsage(store);
  if (!usage) return Fail(usage.error());
  const auto ring = barrier.Keys();

  std::cout << "key file: " << config.master_key_file << "\n"
            << "database: " << context->database << "\n";
  bool unreadable = false;
  std::int64_t on_old_keys = 0;
  auto count_of = [&](std::uint32_t id) {
    auto it = usage->values_by_key.find(id);
    return it == usage->values_by_key.end() ? std::int64_t{0} : it->second;
  };
  for (std::uint32_t id : ring->ids()) {
    std::cout << "key id " << id << (id == ring->active_id() ? " (active)" : "") << ": "
              << count_of(id) << " value(s)"
              << (usage->key_check_key == id ? ", and the key check" : "") << "\n";
    if (id != ring->active_id()) on_old_keys += count_of(id);
  }
  for (const auto& [id, count] : usage->values_by_key) {
    if (count == 0 || ring->Find(id) != nullptr) continue;
    unreadable = true;
    if (id == 0) {
      std::cout << "unknown format: " << count << " value(s) cannot be decrypted\n";
    } else {
      std::cout << "key id " << id << " (NOT IN THE KEY FILE): " << count
                << " value(s) cannot be decrypted\n";
    }
  }
  if (usage->key_check_key && ring->Find(*usage->key_check_key) == nullptr) {
    std::cout << "key id " << *usage->key_check_key << " (NOT IN THE KEY FILE): the key check\n";
  }
  if (!usage->key_check_key) {
    std::cout << "key check: none yet (the service writes it at its first start)\n";
  } else if (auto verified = service::VerifyKeyCheck(store, barrier); verified) {
    std::cout << "key check: opens with this key file\n";
  } else {
    unreadable = true;
    std::cout << "key check: DOES NOT OPEN with this key file: " << verified.error().message
              << "\n";
  }
  if (on_old_keys > 0) {
    std::cout << on_old_keys << " value(s) still depend on older keys; finish the rotation with: "
              << "token-service keys rotate --resume --master-key-file " << config.master_key_file
              << StoreArgs(config) << "\n";
  }
  for (std::uint32_t id : Retirable(*ring, *usage)) {
    std::cout << "key id " << id << " can be retired: token-service keys retire --master-key-file "
              << config.master_key_file << StoreArgs(config) << " --key-id " << id
              << "\n";
  }
  return unreadable ? 1 : 0;
}

int Retire(const config::KeysConfig& config) {
  const std::uint32_t id = *config.key_id;
  auto context = OpenContext(config);
  if (!context) return Fail(context.error());
  store::TokenStore& store = *context->store;
  const crypto::ValueBarrier& barrier = *context->barrier;
  const auto ring = barrier.Keys();
  if (ring->Find(id) == nullptr) {
    return Fail("key id " + std::to_string(id) + " is not in " + config.master_key_file);
  }
  if (id == ring->active_id()) {
    return Fail("key id " + std::to_string(id) +
                " is the active key; run `token-service keys rotate` first, then retire it");
  }
  if (auto verified = service::VerifyKeyCheck(store, barrier); !verified) {
    return Fail(Mismatch(config, *context, verified.error()));
  }
  // A service that has not yet reloaded the key file may still seal new values under the key
  // about to go; give it time to notice the current active key before looking.
  auto signature = crypto::SignatureOf(config.master_key_file);
  if (!signature) return Fail(signature.error());
  const auto file_age = std::chrono::system_clock::now().time_since_epoch() -
                        std::chrono::nanoseconds(signature->mtime_ns);
  const auto settle = std::chrono::seconds(config.settle_seconds);
  if (file_age < settle) {
    // A modification time in the future (clock changes) must not make the wait unbounded.
    const auto wait = std::min<std::chrono::nanoseconds>(settle - file_age, settle);
    std::cerr << "waiting "
              << ProgressReporter::Duration(std::chrono::duration<double>(wait).count())
              << " for running services to pick up the key file\n";
    std::this_thread::sleep_for(wait);
  }
  // The authoritative check reads every sealed value's own header, not the bookkeeping.
  // The bookkeeping's count (cheap) is the scan's expected total, for the progress line.
  std::int64_t expected = 0;
  if (auto counted = service::CountKeyUsage(store); counted) {
    for (const auto& [key, count] : counted->values_by_key) expected += count;
  }
  ProgressReporter progress("checking which key each stored value needs", "values");
  auto usage = service::ScanKeyUsage(store, kScanBatchSize, [&](std::int64_t scanned) {
    progress.Update(scanned, std::max(expected, scanned));
  });
  if (usage) {
    std::int64_t scanned = 0;
    for (const auto& [key, count] : usage->values_by_key) scanned += count;
    progress.Update(scanned, scanned);
  }
  progress.Close();
  if (!usage) return Fail(usage.error());
  auto it = usage->values_by_key.find(id);
  if (it != usage->values_by_key.end() && it->second > 0) {
    std::cerr << "token-service: refusing to retire key id " << id << ": " << it->second
              << " stored value(s) still depend on it; finish the rotation first with: "
              << "token-service keys rotate --resume --master-key-file " << config.master_key_file
              << StoreArgs(config) << "\n";
    return 1;
  }
  if (usage->key_check_key == id) {
    std::cerr << "token-service: refusing to retire key id " << id
              << ": the key check still depends on it; finish the rotation first with: "
              << "token-service keys rotate --resume --master-key-file " << config.master_key_file
              << StoreArgs(config) << "\n";
    return 1;
  }
  if (auto removed = crypto::RemoveKeyFromRingFile(config.master_key_file, id); !removed) {
    return Fail(removed.error());
  }
  std::cout << "retired key id " << id << ": removed it from " << config.master_key_file << "\n";
  return 0;
}

int Init(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0].rfind("--", 0) == 0) {
    return Fail("usage: token-service keys init FILE");
  }
  if (auto policy = ApplyCoreDumpPolicy(false); !policy) return Fail(policy.error());
  if (auto made = crypto::CreateKeyRingFile(args[0]); !made) return Fail(made.error().message);
  std::cout << "created master key file " << args[0]
            << " (mode 0600); back it up: without it no stored value can be read\n";
  return 0;
}

}  // namespace

int RunKeysCommand(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << config::KeysUsage();
    return 2;
  }
  const std::string& command = args.front();
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << config::KeysUsage();
    return 0;
  }
  for (const std::string& a : rest) {
    if (a == "--help" || a == "-h") {
      std::cout << config::KeysUsage();
      return 0;
    }
  }
  if (command == "init") return Init(rest);
  auto parsed = config::ParseKeysConfig(command, rest, config::ProcessEnv());
  if (!parsed) return Fail(parsed.error().message);
  if (command == "rotate") return Rotate(*parsed);
  if (command == "status") return Status(*parsed);
  return Retire(*parsed);
}

}  // namespace ts::app
