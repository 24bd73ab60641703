#include "app/progress_reporter.h"

#include <unistd.h>

#include <chrono>
#include <utility>

namespace ts::app {
namespace {

constexpr std::int64_t kTerminalIntervalNs = 100'000'000;  // 0.1 s
constexpr std::int64_t kPlainIntervalNs = 5'000'000'000;   // 5 s
constexpr std::int64_t kPlainIntervalItems = 10'000;

std::int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Rate(double per_second) {
  // One decimal below 10/s, so a slow job does not read as "0 rows/s".
  if (per_second >= 10) return std::to_string(static_cast<std::int64_t>(per_second + 0.5));
  const auto tenths = static_cast<std::int64_t>(per_second * 10 + 0.5);
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
}

}  // namespace

ProgressReporter::Output ProgressReporter::Stderr() {
  return Output{stderr, ::isatty(STDERR_FILENO) == 1, SteadyNanos};
}

ProgressReporter::ProgressReporter(std::string what, std::string unit, Output output)
    : what_(std::move(what)),
      unit_(std::move(unit)),
      output_(std::move(output)),
      start_ns_(output_.now_ns()) {}

std::string ProgressReporter::Duration(double seconds) {
  const auto s = static_cast<std::int64_t>(seconds + 0.5);
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
  return std::to_string(s / 3600) + " h " + std::to_string((s % 3600) / 60) + " min";
}

std::string ProgressReporter::Line(std::int64_t done, std::int64_t total,
                                   std::int64_t now_ns) const {
  std::string line = what_ + ": " + std::to_string(done) + "/" + std::to_string(total) + " (" +
                     std::to_string(done * 100 / total) + "%)";
  const double elapsed = static_cast<double>(now_ns - start_ns_) / 1e9;
  // No rate before any time has passed (a rate from 0 ms would be meaningless).
  if (elapsed > 0 && done > 0) {
    const double rate = static_cast<double>(done) / elapsed;
    line += ", " + Rate(rate) + " " + unit_ + "/s";
    if (done < total) {
      line += ", about " + Duration(static_cast<double>(total - done) / rate) + " left";
    }
  }
  return line;
}

void ProgressReporter::Update(std::int64_t done, std::int64_t total) {
  if (total <= 0) return;
  const std::int64_t now = output_.now_ns();
  const bool finished = done >= total;
  if (finished && printed_final_) return;
  if (!finished && printed_) {
    const std::int64_t since = now - last_print_ns_;
    if (output_.terminal) {
      if (since < kTerminalIntervalNs) return;
    } else {
      const bool next_tenth = done * 10 / total > last_done_ * 10 / total;
      if (!next_tenth && done - last_done_ < kPlainIntervalItems && since < kPlainIntervalNs) {
        return;
      }
    }
  }
  printed_ = true;
  last_print_ns_ = now;
  last_done_ = done;
  printed_final_ = finished;
  const std::string line = Line(done, total, now);
  if (output_.terminal) {
    // Pad over the remains of a longer previous line.
    std::fprintf(output_.stream, "\r%-78s", line.c_str());
    line_open_ = !finished;
    if (finished) std::fputc('\n', output_.stream);
  } else {
    std::fprintf(output_.stream, "%s\n", line.c_str());
  }
  std::fflush(output_.stream);
}

void ProgressReporter::Close() {
  if (!line_open_) return;
  std::fputc('\n', output_.stream);
  std::fflush(output_.stream);
  line_open_ = false;
}

}  // namespace ts::app
