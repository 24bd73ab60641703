#include "store/postgres/pg_connection.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <utility>

namespace ts::store::postgres {
namespace {

using Clock = std::chrono::steady_clock;

std::string TrimmedMessage(const char* text) {
  std::string message = text == nullptr ? "" : text;
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  return message;
}

// Waits until the socket is ready for `events` or the deadline passes. Returns the revents, 0
// on timeout, -1 on error.
int PollUntil(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return 0;
    pollfd pfd{fd, events, 0};
    const int timeout = static_cast<int>(std::min<std::int64_t>(left.count() + 1, 60'000));
    const int r = ::poll(&pfd, 1, timeout);
    if (r > 0) return pfd.revents;
    if (r < 0 && errno != EINTR) return -1;
  }
}

}  // namespace

PgParam PgParam::Text(std::string_view text) { return PgParam{kTextOid, std::string(text)}; }

PgParam PgParam::Bytea(std::span<const std::uint8_t> bytes) {
  return PgParam{kByteaOid, std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size())};
}

PgParam PgParam::Bytea(std::string_view bytes) { return PgParam{kByteaOid, std::string(bytes)}; }

PgParam PgParam::OptionalText(const std::optional<std::string>& text) {
  if (text) return Text(*text);
  return PgParam{kTextOid, std::string(), true};
}

PgParam PgParam::Int8(std::int64_t value) {
  std::string bytes(8, '\0');
  auto u = static_cast<std::uint64_t>(value);
  for (int i = 7; i >= 0; --i) {
    bytes[static_cast<std::size_t>(i)] = static_cast<char>(u & 0xFF);
    u >>= 8;
  }
  return PgParam{kInt8Oid, std::move(bytes)};
}

std::int64_t PgResult::affected() const {
  const char* tuples = PQcmdTuples(result_.get());
  return tuples == nullptr || *tuples == '\0' ? 0 : std::strtoll(tuples, nullptr, 10);
}

std::string_view PgResult::Bytes(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  const int length = PQgetlength(result_.get(), row, column);
  if (value == nullptr || length < 0) throw std::runtime_error("postgres: no such value");
  return {value, static_cast<std::size_t>(length)};
}

std::vector<std::uint8_t> PgResult::Blob(int row, int column) const {
  const std::string_view bytes = Bytes(row, column);
  return {bytes.begin(), bytes.end()};
}

std::int64_t PgResult::Int8(int row, int column) const {
  const std::string_view bytes = Bytes(row, column);
  if (bytes.size() != 8) throw std::runtime_error("postgres: expected an int8 column");
  std::uint64_t u = 0;
  for (char c : bytes) u = (u << 8) | static_cast<unsigned char>(c);
  return static_cast<std::int64_t>(u);
}

bool IsTransientSqlState(std::string_view s) {
  if (s.size() != 5) return false;
  return s.starts_with("08") ||  // connection exception
         s.starts_with("53") ||  // insufficient resources (too many connections, disk full)
         s.starts_with("40") ||  // serialization failure, deadlock: nothing was committed
         s == "57P01" || s == "57P02" || s == "57P03" ||  // shutting down / starting up
         s == "57014" ||                                  // statement_timeout
         s == "55P03" ||                                  // lock not available
         s == "25006";  // read-only transaction: we are talking to a standby after a failover
}

bool IsRetryableSqlState(std::string_view s) { return s == "40001" || s == "40P01"; }

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const PgConnectOptions& options) {
  const std::string connect_timeout = std::to_string(options.connect_timeout.count());
  // Entries before "dbname" are defaults the URL may override; libpq expands the URL in place.
  // Keepalives find a peer that vanished without a FIN (a failed-over host, a cut cable)
  // while a connection sits in the pool.
  const char* keywords[] = {"connect_timeout",     "keepalives",       "keepalives_idle",
                            "keepalives_interval", "keepalives_count", "application_name",
                            "client_encoding",     "dbname",           nullptr};
  const char* values[] = {
      connect_timeout.c_str(), "1",    "10", "5", "3", options.application_name.c_str(), "UTF8",
      options.url.c_str(),     nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Error::Unavailable("postgres connect: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    // libpq's message names host and port, never the password.
    Error error = Error::Unavailable("postgres connect: " + TrimmedMessage(PQerrorMessage(conn)));
    PQfinish(conn);
    return error;
  }
  std::unique_ptr<PgConnection> connection(new PgConnection(conn));
  // Non-blocking sends, so that a full socket buffer cannot stall a call past its deadline.
  if (PQsetnonblocking(conn, 1) != 0) {
    return Error::Unavailable("postgres connect: cannot switch to non-blocking mode");
  }
  if (auto set = connection->SetStatementTimeout(options.statement_timeout); !set.ok()) {
    return std::move(set).error();
  }
  return connection;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::broken() const {
  return broken_ || PQstatus(conn_) != CONNECTION_OK || PQtransactionStatus(conn_) != PQTRANS_IDLE;
}

bool PgConnection::LooksAlive() {
  if (broken()) return false;
  // An idle connection has nothing to read. If it has, the server closed it (restart,
  // pg_terminate_backend, idle timeout) or sent an error; reading it lets libpq notice.
  for (int round = 0; round < 4; ++round) {
    pollfd pfd{PQsocket(conn_), POLLIN, 0};
    const int r = ::poll(&pfd, 1, 0);
    if (r == 0) return true;
    if (r < 0) return errno == EINTR;
    if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) return false;
    // A notice or parameter change is harmless; an error message means the end is near.
    if (PQisBusy(conn_) != 0) return false;
    if (PGresult* stray = PQgetResult(conn_); stray != nullptr) {
      PQclear(stray);
      return false;
    }
  }
  return true;
}

void PgConnection::Rollback() {
  std::string sqlstate = std::move(last_sqlstate_);
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE) (void)ExecScript("ROLLBACK", "rollback");
  last_sqlstate_ = std::move(sqlstate);
}

Result<void> PgConnection::SetStatementTimeout(std::chrono::milliseconds timeout) {
  // Also bounds a transaction left open by a client that died holding row locks.
  const std::string ms = std::to_string(timeout.count());
  const std::string sql = "SET statement_timeout = " + ms +
                          "; SET idle_in_transaction_session_timeout = " +
                          std::to_string(timeout.count() == 0 ? 0 : timeout.count() * 2);
  // The client-side wait follows the server's limit (a day stands for "none").
  wait_limit_ = timeout.count() == 0 ? std::chrono::hours(24) : timeout + kGrace;
  return ExecScript(sql.c_str(), "session settings");
}

Error PgConnection::Failed(std::string_view what, const PGresult* result) {
  const char* state = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  last_sqlstate_ = state == nullptr ? "" : state;
  std::string message = TrimmedMessage(result != nullptr ? PQresultErrorMessage(result) : "");
  if (message.empty()) message = TrimmedMessage(PQerrorMessage(conn_));
  std::string internal = "postgres " + std::string(what) + ": " + message;
  if (!last_sqlstate_.empty()) internal += " (SQLSTATE " + last_sqlstate_ + ")";
  if (PQstatus(conn_) != CONNECTION_OK) broken_ = true;
  if (broken_ || IsTransientSqlState(last_sqlstate_)) {
    return Error::Unavailable(std::move(internal));
  }
  return Error::Internal(std::move(internal));
}

Result<void> PgConnection::AwaitIdle(Clock::time_point deadline, std::string_view what) {
  const int fd = PQsocket(conn_);
  // Send everything first (non-blocking mode may leave some of it queued).
  for (;;) {
    const int flushed = PQflush(conn_);
    if (flushed == 0) break;
    if (flushed < 0) {
      broken_ = true;
      return Failed(what, nullptr);
    }
    const int ready = PollUntil(fd, POLLOUT | POLLIN, deadline);
    if (ready <= 0) {
      broken_ = true;
      return Error::Unavailable("postgres " + std::string(what) +
                                ": no answer before the deadline");
    }
    if ((ready & POLLIN) != 0 && PQconsumeInput(conn_) == 0) {
      broken_ = true;
      return Failed(what, nullptr);
    }
  }
  while (PQisBusy(conn_) != 0) {
    const int ready = PollUntil(fd, POLLIN, deadline);
    if (ready <= 0) {
      // The server did not cancel the statement itself: it is gone or unreachable. The
      // connection is in an unknown state and is thrown away.
      broken_ = true;
      return Error::Unavailable("postgres " + std::string(what) +
                                ": no answer before the deadline");
    }
    if (PQconsumeInput(conn_) == 0) break;  // the failure surfaces as a result below
  }
  return Ok();
}

Result<PgResult> PgConnection::Collect(Clock::time_point deadline, std::string_view what) {
  PGresult* kept = nullptr;
  std::optional<Error> failure;
  for (;;) {
    if (auto idle = AwaitIdle(deadline, what); !idle.ok()) {
      PQclear(kept);
      return std::move(idle).error();
    }
    PGresult* result = PQgetResult(conn_);
    if (result == nullptr) break;
    const ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      if (kept == nullptr && !failure) {
        kept = result;
        continue;
      }
    } else if (!failure) {
      failure = Failed(what, result);
    }
    PQclear(result);
    if (PQstatus(conn_) != CONNECTION_OK) break;  // no end-of-results marker will come
  }
  if (failure) {
    PQclear(kept);
    return std::move(*failure);
  }
  if (kept == nullptr) {
    broken_ = broken_ || PQstatus(conn_) != CONNECTION_OK;
    return Failed(what, nullptr);
  }
  last_sqlstate_.clear();
  return PgResult(kept);
}

Result<PgResult> PgConnection::Exec(std::string_view sql, std::span<const PgParam> params,
                                    bool prepare) {
  if (broken_) return Error::Unavailable("postgres: connection is broken");
  const auto deadline = Clock::now() + wait_limit_;
  std::vector<Oid> types;
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  for (const PgParam& param : params) {
    types.push_back(param.type);
    values.push_back(param.null ? nullptr : param.bytes.data());
    lengths.push_back(static_cast<int>(param.bytes.size()));
    formats.push_back(1);
  }
  const int n = static_cast<int>(params.size());
  if (!prepare) {
    const std::string text(sql);
    if (PQsendQueryParams(conn_, text.c_str(), n, types.data(), values.data(), lengths.data(),
                          formats.data(), /*resultFormat=*/1) == 0) {
      return Failed("send", nullptr);
    }
    return Collect(deadline, "query");
  }
  std::string key(sql);
  auto it = prepared_.find(key);
  if (it == prepared_.end()) {
    std::string name = "ts";
    name += std::to_string(prepared_.size() + 1);
    if (PQsendPrepare(conn_, name.c_str(), key.c_str(), n, types.data()) == 0) {
      return Failed("prepare", nullptr);
    }
    auto prepared = Collect(deadline, "prepare");
    if (!prepared.ok()) return std::move(prepared).error();
    it = prepared_.emplace(std::move(key), name).first;
  }
  if (PQsendQueryPrepared(conn_, it->second.c_str(), n, values.data(), lengths.data(),
                          formats.data(), /*resultFormat=*/1) == 0) {
    return Failed("send", nullptr);
  }
  return Collect(deadline, "query");
}

Result<void> PgConnection::ExecScript(const char* sql, std::string_view what) {
  if (broken_) return Error::Unavailable("postgres: connection is broken");
  const auto deadline = Clock::now() + wait_limit_;
  if (PQsendQuery(conn_, sql) == 0) return Failed(what, nullptr);
  auto result = Collect(deadline, what);
  if (!result.ok()) return std::move(result).error();
  return Ok();
}

}  // namespace ts::store::postgres
