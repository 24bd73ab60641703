#include "app/process_hardening.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ts::app {

Result<void> ApplyCoreDumpPolicy(bool allow_core_dumps) {
  if (allow_core_dumps) return Ok();
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return Error::Internal(std::string("cannot make the process non-dumpable: ") +
                           std::strerror(errno));
  }
  // Belt and braces: PR_SET_DUMPABLE is reset to the default by execve of a set-user-ID binary
  // and by some credential changes; a zero core limit still holds then.
  struct rlimit none {
    0, 0
  };
  if (::setrlimit(RLIMIT_CORE, &none) != 0) {
    return Error::Internal(std::string("cannot set the core size limit to 0: ") +
                           std::strerror(errno));
  }
  return Ok();
}

}  // namespace ts::app
