#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>

#include "common/timestamp.h"

namespace ts::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

// JSON string escaping in place (no temporary per field: this runs for every request line).
// Bytes >= 0x80 pass through; callers log UTF-8 or ASCII.
void AppendQuoted(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  out += '"';
}
}  // namespace

void SetLevel(Level level) { g_level.store(static_cast<int>(level)); }

bool ParseLevel(std::string_view text, Level* out) {
  if (text == "debug") *out = Level::kDebug;
  else if (text == "info") *out = Level::kInfo;
  else if (text == "warn") *out = Level::kWarn;
  else if (text == "error") *out = Level::kError;
  else return false;
  return true;
}

bool Enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

void Write(Level level, std::string_view event, std::span<const Field> fields) {
  if (!Enabled(level)) return;
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  std::string line;
  line.reserve(256);
  line += "{\"time\":\"";
  line += FormatTimestamp(now);
  line += "\",\"level\":\"";
  line += LevelName(level);
  line += "\",\"event\":";
  AppendQuoted(line, event);
  for (const Field& field : fields) {
    line += ',';
    AppendQuoted(line, field.key);
    line += ':';
    if (field.number) {
      line += field.value;
    } else {
      AppendQuoted(line, field.value);
    }
  }
  line += "}\n";
  // One write(2) per line, no lock: on a pipe a line up to PIPE_BUF (4 KiB) is atomic, and on
  // a file Linux serializes writes to one description, so concurrent lines never interleave.
  // Only a partial write (a longer line on a pipe) continues in a second call.
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to log to
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace ts::log
