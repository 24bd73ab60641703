// Process-wide hardening applied at start-up by every command that handles token values or
// master keys (`serve`, `keys ...`): the core-dump policy. A core dump would hold decrypted
// values and master keys, so by default the process is made non-dumpable
// (prctl(PR_SET_DUMPABLE, 0), which also keeps other processes of the same user from attaching
// with ptrace or reading /proc/<pid>/mem) and its core size limit is set to 0.
// Thread-safety: both settings are process-wide; call on the main thread during start-up.
#pragma once

#include "common/result.h"

namespace ts::app {

// With `allow_core_dumps` false: makes the process non-dumpable and sets RLIMIT_CORE to 0.
// With true: leaves both as the environment set them. Fails (kInternal) only if the kernel
// refuses the change.
Result<void> ApplyCoreDumpPolicy(bool allow_core_dumps);

}  // namespace ts::app
