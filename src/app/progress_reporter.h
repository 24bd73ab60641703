// Progress of a long command-line job (every bulk command: `keys rotate`, the scan of `keys
// retire`): done/total, percentage, rate and time left, on stderr so that results on stdout stay
// clean. On a terminal it is one line rewritten in place (\r), at most ten times a second; on
// anything else (a log file, CI, a pipe) it is plain lines: one each time another tenth of the
// work is done, or 10,000 items or 5 seconds after the previous line, whichever comes first.
// Either way the line for the finished job is always printed.
// Not thread-safe: one reporter per job, called from the thread doing the work.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace ts::app {

class ProgressReporter {
 public:
  // Where the lines go and how time is read (tests fake both).
  struct Output {
    std::FILE* stream = stderr;
    bool terminal = false;
    // A monotonic clock in nanoseconds (fine enough that the first batch has a rate).
    std::function<std::int64_t()> now_ns;
  };
  // Output to stderr, a terminal if stderr is one, the steady clock.
  static Output Stderr();

  // `what` starts every line ("re-wrapping under key id 2"), `unit` names the items ("rows").
  ProgressReporter(std::string what, std::string unit, Output output = Stderr());

  // `done` of `total` items are done (total may grow while the job runs). Prints if due.
  void Update(std::int64_t done, std::int64_t total);
  // Ends an unfinished rewritten line, e.g. before an error message.
  void Close();

  // "45 s", "3 min 5 s", "2 h 10 min".
  static std::string Duration(double seconds);

 private:
  std::string Line(std::int64_t done, std::int64_t total, std::int64_t now_ns) const;

  const std::string what_;
  const std::string unit_;
  const Output output_;
  const std::int64_t start_ns_;
  bool printed_ = false;
  std::int64_t last_print_ns_ = 0;
  std::int64_t last_done_ = 0;
  bool printed_final_ = false;
  bool line_open_ = false;  // terminal: a rewritten line without its newline yet
};

}  // namespace ts::app
