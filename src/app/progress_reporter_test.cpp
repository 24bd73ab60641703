#include "app/progress_reporter.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace ts::app {
namespace {

// Captures what a reporter writes, with a clock the test moves.
class Capture {
 public:
  Capture() { stream_ = ::open_memstream(&buffer_, &size_); }
  ~Capture() {
    std::fclose(stream_);
    std::free(buffer_);
  }
  ProgressReporter::Output Output(bool terminal) {
    return {stream_, terminal, [this] { return now_ms_ * 1'000'000; }};
  }
  std::string Text() {
    std::fflush(stream_);
    return std::string(buffer_, size_);
  }
  std::vector<std::string> Lines() {
    std::vector<std::string> lines;
    std::string text = Text();
    for (std::size_t start = 0; start < text.size();) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      lines.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    return lines;
  }
  void Advance(std::int64_t ms) { now_ms_ += ms; }

 private:
  std::FILE* stream_ = nullptr;
  char* buffer_ = nullptr;
  std::size_t size_ = 0;
  std::int64_t now_ms_ = 1'000'000;
};

TEST(ProgressReporterTest, PlainLinesShowDoneTotalRateAndTimeLeftAtEveryTenth) {
  Capture out;
  ProgressReporter progress("re-wrapping", "rows", out.Output(false));
  for (int done = 1; done <= 100; ++done) {
    out.Advance(10);  // 100 rows/s
    progress.Update(done, 100);
  }
  const std::vector<std::string> lines = out.Lines();
  EXPECT_EQ(out.Text().find('\r'), std::string::npos);
  ASSERT_EQ(lines.size(), 11u) << out.Text();  // the first update, each tenth, and the end
  EXPECT_EQ(lines[0], "re-wrapping: 1/100 (1%), 100 rows/s, about 1 s left");
  EXPECT_EQ(lines[1], "re-wrapping: 10/100 (10%), 100 rows/s, about 1 s left");
  EXPECT_EQ(lines[5], "re-wrapping: 50/100 (50%), 100 rows/s, about 1 s left");
  EXPECT_EQ(lines[10], "re-wrapping: 100/100 (100%), 100 rows/s");
}

TEST(ProgressReporterTest, PlainLinesAlsoEveryFiveSecondsOnASlowJob) {
  Capture out;
  ProgressReporter progress("scanning", "values", out.Output(false));
  progress.Update(1, 1000);  // first line
  out.Advance(4000);
  progress.Update(2, 1000);  // not yet 5 s, not a tenth: silent
  out.Advance(1000);
  progress.Update(3, 1000);  // 5 s since the last line
  const std::vector<std::string> lines = out.Lines();
  ASSERT_EQ(lines.size(), 2u) << out.Text();
  EXPECT_EQ(lines[1], "scanning: 3/1000 (0%), 0.6 values/s, about 27 min 42 s left");
}

TEST(ProgressReporterTest, TerminalRewritesOneLineAtMostTenTimesASecond) {
  Capture out;
  ProgressReporter progress("re-wrapping", "rows", out.Output(true));
  out.Advance(1000);
  progress.Update(10, 40);  // printed: the first
  out.Advance(50);
  progress.Update(20, 40);  // within 100 ms: skipped
  out.Advance(950);
  progress.Update(30, 40);  // printed
  out.Advance(1000);
  progress.Update(40, 40);  // the end: printed, then a newline
  progress.Close();         // nothing more: the line is finished
  const std::string text = out.Text();
  const std::string pad(78, ' ');
  auto padded = [&](const std::string& line) { return "\r" + (line + pad).substr(0, 78); };
  EXPECT_EQ(text, padded("re-wrapping: 10/40 (25%), 10 rows/s, about 3 s left") +
                      padded("re-wrapping: 30/40 (75%), 15 rows/s, about 1 s left") +
                      padded("re-wrapping: 40/40 (100%), 13 rows/s") + "\n");
}

TEST(ProgressReporterTest, CloseEndsAnUnfinishedTerminalLineOnly) {
  Capture terminal;
  ProgressReporter unfinished("re-wrapping", "rows", terminal.Output(true));
  unfinished.Update(1, 2);
  unfinished.Close();
  EXPECT_EQ(terminal.Text().back(), '\n');
  EXPECT_EQ(terminal.Text().find('\n'), terminal.Text().size() - 1);

  Capture plain;
  ProgressReporter lines("re-wrapping", "rows", plain.Output(false));
  lines.Update(1, 2);
  lines.Close();
  EXPECT_EQ(plain.Lines().size(), 1u);
  // Nothing to do: no line at all.
  Capture empty;
  ProgressReporter nothing("re-wrapping", "rows", empty.Output(true));
  nothing.Update(0, 0);
  nothing.Close();
  EXPECT_EQ(empty.Text(), "");
}

TEST(ProgressReporterTest, NoRateBeforeTimeHasPassed) {
  Capture out;
  ProgressReporter progress("re-wrapping", "rows", out.Output(false));
  progress.Update(5, 5);
  EXPECT_EQ(out.Text(), "re-wrapping: 5/5 (100%)\n");
}

TEST(ProgressReporterTest, DurationsReadNaturally) {
  EXPECT_EQ(ProgressReporter::Duration(44.6), "45 s");
  EXPECT_EQ(ProgressReporter::Duration(185), "3 min 5 s");
  EXPECT_EQ(ProgressReporter::Duration(7800), "2 h 10 min");
}

}  // namespace
}  // namespace ts::app
