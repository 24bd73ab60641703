// `token-service keys init|rotate|status|retire`: master key management from the command line,
// safe to run while the service is serving the same key file and database (see
// docs/security.md, "Key management runbook"). Progress goes to stderr (an updating line on a
// terminal, plain lines otherwise); results go to stdout.
//
// Test hook (documented here and in docs/security.md, for tests only): when the environment
// variable TOKEN_SERVICE_TEST_ROTATE_STOP_AFTER=N is set, `keys rotate` stops abruptly
// (_exit(3), no clean-up, like a crash) once N rows were re-wrapped, so the black-box tests can
// prove `keys rotate --resume` without timing luck.
// Called from main() only (main thread).
#pragma once

#include <string>
#include <vector>

namespace ts::app {

// `args` follow the word "keys". Returns the process exit code: 0 success, 1 the command ran
// but found a problem it reports (values that cannot be read or re-wrapped), 2 usage or
// start-up errors (bad options, wrong key file, unusable database).
int RunKeysCommand(const std::vector<std::string>& args);

}  // namespace ts::app
