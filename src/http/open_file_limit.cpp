#include "http/open_file_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

namespace ts::http {
namespace {

Error LimitError(const char* what) {
  std::string text = std::string(what) + " RLIMIT_NOFILE: " + std::strerror(errno);
  return Error{ErrorCode::kInternal, text, {}, text, {}};
}

OpenFileLimit ToLimit(const rlimit& limit) {
  auto value = [](rlim_t v) -> std::uint64_t {
    return v == RLIM_INFINITY ? UINT64_MAX : static_cast<std::uint64_t>(v);
  };
  return OpenFileLimit{value(limit.rlim_cur), value(limit.rlim_max)};
}

// Linux refuses a descriptor limit above fs.nr_open, even when the hard limit is unlimited.
rlim_t KernelCeiling() {
  std::ifstream in("/proc/sys/fs/nr_open");
  unsigned long long ceiling = 0;
  if (in >> ceiling && ceiling > 0) return static_cast<rlim_t>(ceiling);
  return 1 << 20;
}

}  // namespace

Result<OpenFileLimit> CurrentOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return LimitError("cannot read");
  return ToLimit(limit);
}

Result<OpenFileLimit> RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return LimitError("cannot read");
  const rlim_t target = limit.rlim_max == RLIM_INFINITY ? KernelCeiling() : limit.rlim_max;
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= target) return ToLimit(limit);
  rlimit raised = limit;
  raised.rlim_cur = target;
  if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) return LimitError("cannot raise");
  return ToLimit(raised);
}

}  // namespace ts::http
