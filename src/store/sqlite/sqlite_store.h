// SQLite implementation of Store (tokens and MCP servers): WAL mode, versioned migrations, one
// transaction per write, synchronous=FULL by default. Regular expressions are evaluated by a
// registered SQL function backed by RE2, so they behave exactly as the q parser validated them.
// Thread-safe: one writer connection (writes queue for it, and SQLite's write lock serializes
// writers of other processes) plus a pool of `read_connections` reader connections, each used by
// one thread at a time; reads run in parallel with each other and with the writer (WAL).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/result.h"
#include "store/mcp_server_store.h"

namespace ts::store {

struct SqliteOptions {
  std::string path;  // database file; created with mode 0600 if absent; its directory must exist
  std::string synchronous = "FULL";  // FULL or NORMAL (case-insensitive); else kInvalidArgument
  // How long a call waits for a lock (SQLite's busy handler, the writer connection, a free
  // reader) before it fails with kUnavailable. 0 .. INT_MAX ms.
  std::chrono::milliseconds busy_timeout{5000};
  int read_connections = 4;  // 1 .. 64
};

// Opens (creating if needed) and migrates the database. kInvalidArgument for bad options;
// kInternal when the file cannot be opened, or its schema is newer than this binary knows.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

}  // namespace ts::store
