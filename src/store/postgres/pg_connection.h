// PgConnection: one libpq connection with its prepared statements, plus what every PostgreSQL
// call site needs: typed binary parameters (PgParam), an owning result with binary column
// accessors (PgResult), and PgError (libpq failure -> ts::Error; the server's text stays in
// Error::internal). Every call waits for its answer with a deadline (the server's
// statement_timeout plus a grace period), so a server that vanished without closing the socket
// turns into kUnavailable instead of a hung request; the connection is then marked broken and
// must be discarded.
// Not thread-safe: a connection is used by one thread at a time (the pool lends it out).
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"

namespace ts::store::postgres {

// Type OIDs of the built-in types we bind (fixed by PostgreSQL's catalog).
inline constexpr Oid kByteaOid = 17;
inline constexpr Oid kInt8Oid = 20;
inline constexpr Oid kTextOid = 25;

// A parameter in binary format: raw bytes for text and bytea, 8 bytes big-endian for int8.
struct PgParam {
  Oid type = kTextOid;
  std::string bytes;
  bool null = false;  // SQL NULL (bytes ignored)

  static PgParam Text(std::string_view text);
  static PgParam Bytea(std::span<const std::uint8_t> bytes);
  static PgParam Bytea(std::string_view bytes);
  static PgParam Int8(std::int64_t value);
  // Text, or SQL NULL for nullopt: how optional fields are stored.
  static PgParam OptionalText(const std::optional<std::string>& text);
};

// A successful result (binary format). Accessors throw std::runtime_error on a column of an
// unexpected size; store entry points turn that into kInternal.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result) {}
  int rows() const { return PQntuples(result_.get()); }
  // Rows changed by INSERT/UPDATE/DELETE.
  std::int64_t affected() const;
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string_view Bytes(int row, int column) const;
  std::string Text(int row, int column) const { return std::string(Bytes(row, column)); }
  std::vector<std::uint8_t> Blob(int row, int column) const;
  std::int64_t Int8(int row, int column) const;

 private:
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> result_;
};

struct PgConnectOptions {
  std::string url;  // a libpq URL (postgresql://…); its own parameters override our defaults
  std::chrono::seconds connect_timeout{5};
  // Server-side limit of one statement (0: none). Calls wait at most this plus kGrace.
  std::chrono::milliseconds statement_timeout{10000};
  std::string application_name = "token-service";
};

class PgConnection {
 public:
  // How much longer than statement_timeout a call waits for the server's answer: the server
  // cancels the statement itself first, so this only fires when the server is unreachable.
  static constexpr std::chrono::seconds kGrace{5};

  // Connects (TCP keepalives on, UTF-8 client encoding) and applies the session settings.
  // kUnavailable when the server cannot be reached or refuses us.
  static Result<std::unique_ptr<PgConnection>> Connect(const PgConnectOptions& options);

  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection();

  // Runs one statement with binary parameters and binary results. With `prepare`, the
  // statement is prepared on this connection on first use and reused after (only for SQL from
  // a fixed set: every distinct text stays prepared for the connection's life); otherwise it
  // goes through the unnamed statement.
  Result<PgResult> Exec(std::string_view sql, std::span<const PgParam> params, bool prepare);
  // Trusted constant SQL without parameters (may hold several statements).
  Result<void> ExecScript(const char* sql, std::string_view what);

  // Best-effort ROLLBACK of an open transaction; keeps last_sqlstate() of the failure that
  // caused it. A connection that cannot roll back is broken().
  void Rollback();

  // Changes statement_timeout for the session (0: none) and the client-side wait with it.
  Result<void> SetStatementTimeout(std::chrono::milliseconds timeout);

  // The connection must not be used again (I/O failed, the deadline passed, or it is inside a
  // transaction nobody finished).
  bool broken() const;
  // Best effort, without a round trip: false if the server has closed an idle connection
  // (e.g. it restarted) or sent it an error.
  bool LooksAlive();
  // SQLSTATE of the last failed call ("" if none or not from the server).
  const std::string& last_sqlstate() const { return last_sqlstate_; }

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  Result<void> AwaitIdle(std::chrono::steady_clock::time_point deadline, std::string_view what);
  Result<PgResult> Collect(std::chrono::steady_clock::time_point deadline, std::string_view what);
  Error Failed(std::string_view what, const PGresult* result);

  PGconn* conn_;
  std::chrono::milliseconds wait_limit_{PgConnection::kGrace};
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
  std::string last_sqlstate_;
  bool broken_ = false;
};

// True for SQLSTATEs that mean "try again later" (connection loss, shutdown, overload,
// timeouts, serialization failures, a read-only standby): the store answers kUnavailable.
bool IsTransientSqlState(std::string_view sqlstate);
// 40001 and 40P01: the transaction did not happen and may simply be run again.
bool IsRetryableSqlState(std::string_view sqlstate);

}  // namespace ts::store::postgres
