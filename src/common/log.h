// Structured logging: one JSON object per line on stderr. Callers pass an event name and
// key/value fields; values are escaped as JSON strings. Never pass a request body, an
// Authorization header or a token value. Thread-safe (one write per line under a mutex).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace ts::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLevel(Level level);
bool ParseLevel(std::string_view text, Level* out);
bool Enabled(Level level);

using Field = std::pair<std::string_view, std::string_view>;
void Write(Level level, std::string_view event, std::initializer_list<Field> fields = {});

inline void Debug(std::string_view e, std::initializer_list<Field> f = {}) { Write(Level::kDebug, e, f); }
inline void Info(std::string_view e, std::initializer_list<Field> f = {}) { Write(Level::kInfo, e, f); }
inline void Warn(std::string_view e, std::initializer_list<Field> f = {}) { Write(Level::kWarn, e, f); }
inline void Error(std::string_view e, std::initializer_list<Field> f = {}) { Write(Level::kError, e, f); }

}  // namespace ts::log
