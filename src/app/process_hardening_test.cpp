// Proves the core-dump policy in a forked child (the policy is process-wide and one-way, so the
// test runner itself must not be changed): by default the process is non-dumpable and its core
// limit is 0; with allow_core_dumps it keeps what it inherited.
#include "app/process_hardening.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

namespace ts::app {
namespace {

// Runs `check` in a forked child; returns the child's exit code (0 when every check held).
int InChild(const std::function<int()>& check) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(check());
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

// Dumpable, with a non-zero soft core limit where the hard limit allows one.
bool MakeDumpable() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_CORE, &limit) != 0) return false;
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY || limit.rlim_max > (1 << 20) ? rlim_t{1 << 20}
                                                                                 : limit.rlim_max;
  return ::setrlimit(RLIMIT_CORE, &limit) == 0 && ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0;
}

TEST(CoreDumpPolicyTest, RefusedByDefault) {
  const int code = InChild([] {
    // Start from a dumpable process with a core limit, so the test shows the policy's effect.
    if (!MakeDumpable()) return 10;
    if (::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1) return 11;
    if (!ApplyCoreDumpPolicy(false).ok()) return 12;
    if (::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) return 13;
    struct rlimit now {};
    if (::getrlimit(RLIMIT_CORE, &now) != 0 || now.rlim_cur != 0 || now.rlim_max != 0) return 14;
    return 0;
  });
  EXPECT_EQ(code, 0) << "10: setup, 11: not dumpable before, 12: policy failed, "
                        "13: still dumpable, 14: core limit not 0";
}

TEST(CoreDumpPolicyTest, AllowedOnRequestLeavesTheProcessAlone) {
  const int code = InChild([] {
    if (!MakeDumpable()) return 10;
    struct rlimit before {};
    if (::getrlimit(RLIMIT_CORE, &before) != 0) return 10;
    if (!ApplyCoreDumpPolicy(true).ok()) return 12;
    if (::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1) return 13;
    struct rlimit now {};
    if (::getrlimit(RLIMIT_CORE, &now) != 0 || now.rlim_cur != before.rlim_cur) return 14;
    return 0;
  });
  EXPECT_EQ(code, 0) << "10: setup, 12: policy failed, 13: made non-dumpable, 14: limit changed";
}

}  // namespace
}  // namespace ts::app
