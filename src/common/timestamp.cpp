#include "common/timestamp.h"

#include <charconv>
#include <chrono>
#include <cstdio>

namespace ts {
namespace {

bool ReadDigits(std::string_view text, std::size_t pos, std::size_t count, int* out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *out = value;
  return true;
}

}  // namespace

std::optional<std::int64_t> ParseTimestamp(std::string_view text) {
  using namespace std::chrono;
  int y = 0, mo = 0, d = 0;
  if (!ReadDigits(text, 0, 4, &y) || text.size() < 10 || text[4] != '-' ||
      !ReadDigits(text, 5, 2, &mo) || text[7] != '-' || !ReadDigits(text, 8, 2, &d)) {
    return std::nullopt;
  }
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  std::int64_t ms = duration_cast<milliseconds>(sys_days{ymd}.time_since_epoch()).count();
  if (text.size() == 10) return ms;

  int h = 0, mi = 0, s = 0;
  if (text[10] != 'T' || !ReadDigits(text, 11, 2, &h) || text.size() < 19 || text[13] != ':' ||
      !ReadDigits(text, 14, 2, &mi) || text[16] != ':' || !ReadDigits(text, 17, 2, &s) ||
      h > 23 || mi > 59 || s > 59) {
    return std::nullopt;
  }
  ms += (static_cast<std::int64_t>(h) * 3600 + mi * 60 + s) * 1000;
  std::size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    int millis = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return std::nullopt;
    for (std::size_t i = digits; i < 3; ++i) millis *= 10;
    ms += millis;
  }
  if (pos >= text.size()) return std::nullopt;  // a zone is required
  if (text[pos] == 'Z' && pos + 1 == text.size()) return ms;
  if ((text[pos] == '+' || text[pos] == '-') && pos + 6 == text.size() && text[pos + 3] == ':') {
    int oh = 0, om = 0;
    if (!ReadDigits(text, pos + 1, 2, &oh) || !ReadDigits(text, pos + 4, 2, &om) || oh > 23 ||
        om > 59) {
      return std::nullopt;
    }
    std::int64_t offset = (static_cast<std::int64_t>(oh) * 60 + om) * 60 * 1000;
    return text[pos] == '+' ? ms - offset : ms + offset;
  }
  return std::nullopt;
}

std::string FormatTimestamp(std::int64_t epoch_ms) {
  using namespace std::chrono;
  sys_time<milliseconds> tp{milliseconds{epoch_ms}};
  auto day_point = floor<days>(tp);
  year_month_day ymd{day_point};
  hh_mm_ss<milliseconds> tod{tp - day_point};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ", year,
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long>(tod.hours().count()), static_cast<long>(tod.minutes().count()),
                  static_cast<long>(tod.seconds().count()),
                  static_cast<long>(tod.subseconds().count()));
    return buf;
  }
  // Fixed-width digits: every list page renders two of these per item, and snprintf's format
  // interpretation was a third of the rendering time (docs/benchmarks.md).
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&out](std::size_t end, unsigned value) {
    for (std::size_t i = end; value != 0; --i) {
      out[i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(3, static_cast<unsigned>(year));
  put(6, static_cast<unsigned>(ymd.month()));
  put(9, static_cast<unsigned>(ymd.day()));
  put(12, static_cast<unsigned>(tod.hours().count()));
  put(15, static_cast<unsigned>(tod.minutes().count()));
  put(18, static_cast<unsigned>(tod.seconds().count()));
  put(22, static_cast<unsigned>(tod.subseconds().count()));
  return out;
}

}  // namespace ts
