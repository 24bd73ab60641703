// The command line: `serve`, `dev-token`, `keys ...`, `config check`, `--help`. The only place
// that knows every part of the service and wires them together. Called from main() only.
#pragma once

namespace ts::app {

int RunCli(int argc, char** argv);

}  // namespace ts::app
