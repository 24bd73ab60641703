// ISO-8601 instants as the API shows and accepts them. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ts {

// "2026-01-01T00:00:00Z", with an optional fraction (1–9 digits, truncated to milliseconds)
// and `Z` or ±HH:MM, or a bare date "2026-01-01" (midnight UTC) → milliseconds since the epoch.
std::optional<std::int64_t> ParseTimestamp(std::string_view text);

// Milliseconds since the epoch → "2026-11-29T03:30:00.123Z".
std::string FormatTimestamp(std::int64_t epoch_ms);

}  // namespace ts
