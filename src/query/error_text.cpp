#include "query/error_text.h"

#include <cstdint>

namespace ts::query::internal {
namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the well-formed UTF-8 sequence that starts at text[i], or 0 if it is ill-formed.
std::size_t SequenceLength(std::string_view text, std::size_t i) {
  auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  std::uint32_t cp = 0;
  std::uint32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    auto cc = static_cast<unsigned char>(text[i + k]);
    if (!IsContinuation(cc)) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

std::size_t CountChars(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) {
    if (!IsContinuation(static_cast<unsigned char>(c))) ++n;
  }
  return n;
}

std::size_t CharPosition(std::string_view text, std::size_t byte_offset) {
  if (byte_offset > text.size()) byte_offset = text.size();
  return CountChars(text.substr(0, byte_offset)) + 1;
}

std::size_t OffsetOfChar(std::string_view text, std::size_t index) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!IsContinuation(static_cast<unsigned char>(text[i])) && seen++ == index) return i;
  }
  return text.size();
}

std::string Truncate(std::string_view text, std::size_t max_chars) {
  // Cut on a character boundary so a quote never ends in half a UTF-8 sequence, and replace
  // ill-formed bytes so a message is always valid UTF-8 (it ends up in a JSON body). Each
  // ill-formed byte counts as one character (it becomes one U+FFFD): counting only lead bytes
  // would let a run of stray continuation bytes through uncounted, unbounded in size.
  std::string out;
  std::size_t i = 0;
  for (std::size_t chars = 0; i < text.size() && chars < max_chars; ++chars) {
    if (std::size_t len = SequenceLength(text, i); len > 0) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    }
  }
  if (i < text.size()) out += "...";
  return out;
}

std::string Quote(std::string_view text, std::size_t max_chars) {
  // Appending (rather than operator+ on temporaries) also sidesteps a GCC 12 -Wrestrict false
  // positive at -O2.
  std::string out = "'";
  out += Truncate(text, max_chars);
  out += '\'';
  return out;
}

std::size_t FindInvalidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t len = SequenceLength(text, i);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view TrimSpace(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

Error QueryError(std::string_view q, std::size_t byte_offset, std::string_view type,
                 std::string_view what) {
  std::string message = "Invalid q at position ";
  message += std::to_string(CharPosition(q, byte_offset));
  message += ": ";
  message.append(what);
  return Error::Invalid(message, {ErrorDetail{"q", std::string(type), message}});
}

}  // namespace ts::query::internal
