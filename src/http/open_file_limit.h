// Every connection holds a file descriptor, and the usual default soft limit (1024) would
// turn a burst of idle connections into failed accepts long before the configured connection
// cap could refuse them with a clear 503. RaiseOpenFileLimit lifts the process's soft
// RLIMIT_NOFILE to its hard limit, which needs no privilege.
// Thread-safety: changes a process-wide limit; call once at start-up, before serving.
#pragma once

#include <cstdint>

#include "common/result.h"

namespace ts::http {

struct OpenFileLimit {
  std::uint64_t soft = 0;  // the limit now in effect
  std::uint64_t hard = 0;  // RLIM_INFINITY shows as UINT64_MAX
};

// Raises the soft limit to the hard one (if the hard limit is unlimited, to the kernel's
// nr_open ceiling or 1,048,576). Returns the limits in effect afterwards.
Result<OpenFileLimit> RaiseOpenFileLimit();

// The limits in effect, unchanged.
Result<OpenFileLimit> CurrentOpenFileLimit();

}  // namespace ts::http
