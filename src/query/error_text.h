// Internal to src/query: how the parsers of q, sort, fields and paging describe a fault —
// character positions, bounded quotes of the input, UTF-8 checks and the Error they return.
// Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ts::query::internal {

// The most characters of client input any message quotes.
inline constexpr std::size_t kMaxQuotedChars = 100;

// 1-based Unicode character position of the byte at `byte_offset` in `text`.
std::size_t CharPosition(std::string_view text, std::size_t byte_offset);

// Number of Unicode characters in `text` (each byte that does not continue a sequence).
std::size_t CountChars(std::string_view text);

// Byte offset of the character with 0-based index `index`, or text.size() if there are fewer.
std::size_t OffsetOfChar(std::string_view text, std::size_t index);

// `text` cut to `max_chars` characters ("..." marks a cut). A message that quotes the input
// twice gives each quote half of kMaxQuotedChars, so that it never quotes more in all.
std::string Truncate(std::string_view text, std::size_t max_chars = kMaxQuotedChars);

// Truncate(text, max_chars) in single quotes.
std::string Quote(std::string_view text, std::size_t max_chars = kMaxQuotedChars);

// Byte offset of the first byte that is not part of well-formed UTF-8, or npos.
std::size_t FindInvalidUtf8(std::string_view text);

bool IsSpace(char c);
std::string_view TrimSpace(std::string_view text);

// kInvalidArgument for `q`: "Invalid q at position N: <what>", with the detail
// {field: "q", type, message}.
Error QueryError(std::string_view q, std::size_t byte_offset, std::string_view type,
                 std::string_view what);

}  // namespace ts::query::internal
