// `token-service serve`: loads configuration and keys, opens the store, and runs the HTTP
// server until SIGINT/SIGTERM. Called from the CLI on the main thread.
#pragma once

#include "config/serve_config.h"

namespace ts::app {

// Returns the process exit code.
int Serve(const config::ServeConfig& config);

}  // namespace ts::app
