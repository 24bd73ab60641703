// pgtest_server: the CTest fixture around PgTestServer, so that one throwaway PostgreSQL serves
// a whole `ctest` run instead of one initdb per test process.
//   pgtest_server start STATE_FILE   start a server, describe it in STATE_FILE (tests find it
//                                    through TS_PGTEST_SHARED=STATE_FILE)
//   pgtest_server stop STATE_FILE    stop that server and remove its directory
// A server left behind by an interrupted run is stopped by the next `start`.
#include <filesystem>
#include <iostream>
#include <string>

#include "support/pg_test_server.h"

namespace {

namespace fs = std::filesystem;
using ts::pgtest::PgTestServer;

int StopDescribed(const fs::path& state_file) {
  if (!fs::exists(state_file)) return 0;
  std::string error;
  {
    auto server = PgTestServer::Attach(state_file, /*take_ownership=*/true, &error);
    if (!server) std::cerr << "pgtest_server: " << error << "\n";
    // Destroying the owning object stops the server and removes its directory.
  }
  std::error_code ignored;
  fs::remove(state_file, ignored);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: pgtest_server start|stop STATE_FILE\n";
    return 2;
  }
  const std::string command = argv[1];
  const fs::path state_file = argv[2];
  if (command == "stop") return StopDescribed(state_file);
  if (command != "start") {
    std::cerr << "pgtest_server: unknown command " << command << "\n";
    return 2;
  }
  StopDescribed(state_file);
  std::error_code ignored;
  fs::create_directories(state_file.parent_path(), ignored);
  std::string error;
  auto server = PgTestServer::Start(ts::pgtest::PgTestServerOptions{}, &error);
  if (!server) {
    std::cerr << "pgtest_server: " << error << "\n";
    return 1;
  }
  if (!server->WriteStateFile(state_file, &error)) {
    std::cerr << "pgtest_server: " << error << "\n";
    return 1;
  }
  std::cout << "PostgreSQL test server on 127.0.0.1:" << server->port() << " ("
            << server->dir().string() << ")\n";
  // The server keeps running for the tests; the fixture's cleanup step stops it.
  server->Disown();
  return 0;
}
