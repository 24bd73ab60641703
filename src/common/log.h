// Structured logging: one JSON object per line on stderr: {"time","level","event",…fields}.
// Callers pass an event name and key/value fields; values are escaped as JSON strings, or
// written as they are when marked as numbers. Never pass a request body, an Authorization
// header or a token value. Thread-safe and lock-free: one formatted line, one write(2).
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace ts::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLevel(Level level);
bool ParseLevel(std::string_view text, Level* out);
bool Enabled(Level level);

struct Field {
  std::string_view key;
  std::string_view value;
  bool number = false;  // value is a JSON number's text (e.g. "200", "1.25"): no quotes
};
void Write(Level level, std::string_view event, std::span<const Field> fields);
inline void Write(Level level, std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(level, event, std::span<const Field>(fields.begin(), fields.size()));
}

inline void Debug(std::string_view e, std::initializer_list<Field> f = {}) { Write(Level::kDebug, e, f); }
inline void Info(std::string_view e, std::initializer_list<Field> f = {}) { Write(Level::kInfo, e, f); }
inline void Warn(std::string_view e, std::initializer_list<Field> f = {}) { Write(Level::kWarn, e, f); }
inline void Error(std::string_view e, std::initializer_list<Field> f = {}) { Write(Level::kError, e, f); }

}  // namespace ts::log
