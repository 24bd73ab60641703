// PostgreSQL implementation of TokenStore (libpq; PostgreSQL 15, and kept to SQL that
// PostgreSQL-compatible distributed databases accept, see docs/scaling.md). Several service
// processes may share one database: optimistic locking is a conditional UPDATE whose row count
// is checked, a create is decided by the primary key, and every write is one transaction.
// Migrations run at open, serialized across processes by an advisory lock.
//
// Connections: a pool of `pool_size`, opened on demand and re-opened after a failure, so the
// store recovers by itself when the database comes back. A call waits at most
// statement_timeout (plus a grace period) for the database, and at most statement_timeout for
// a free connection; an unreachable database, a broken connection or an overloaded server is
// kUnavailable (503), never a hang.
//
// Regular expressions (q `field:~pattern`) run in this process with RE2, exactly as on SQLite:
// the other clauses select candidate rows in the requested order (a server-side cursor, one
// snapshot), and the store filters, counts and pages them. Cost: every candidate row of the
// tenant crosses the network (see docs/scaling.md).
//
// Thread-safe: every method may be called from many threads at once; each call holds one
// pooled connection for its duration.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "store/mcp_server_store.h"

namespace ts::store {

struct PostgresOptions {
  // postgresql://user:password@host:port/database?param=value (libpq URL syntax; any libpq
  // parameter may be given, e.g. sslmode, connect_timeout, target_session_attrs).
  std::string url;
  int pool_size = 16;  // 1 .. 1000
  // Server-side limit of one statement; also the longest wait for a free pooled connection.
  // 1 ms .. 1 h.
  std::chrono::milliseconds statement_timeout{10000};
  // Used unless the URL sets connect_timeout. 1 .. 3600 s (libpq waits at least 2 s).
  std::chrono::seconds connect_timeout{5};
};

// Connects, checks the URL, and migrates the schema. kInvalidArgument for bad options;
// kUnavailable when the database cannot be reached; kInternal when its schema is newer than
// this binary knows.
Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options);

// True for a URL this backend takes: postgresql://… or postgres://….
bool IsPostgresUrl(std::string_view url);

// The URL with its password (user-info part, or a `password` parameter) replaced by "***",
// for logs and messages. Anything that does not parse as a URL comes back as "***".
std::string RedactDatabaseUrl(std::string_view url);

}  // namespace ts::store
