#include "query/error_text.h"

#include <cstdint>

namespace ts::query::internal {
namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

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

std::string Truncate(std::string_view text) {
  // Cut on a character boundary so a quote never ends in half a UTF-8 sequence, and replace
  // ill-formed bytes so a message is always valid UTF-8 (it ends up in a JSON body).
  std::size_t end = OffsetOfChar(text, kMaxQuotedChars);
  std::string_view kept = text.substr(0, end);
  std::string out;
  while (!kept.empty()) {
    std::size_t bad = FindInvalidUtf8(kept);
    out.append(kept.substr(0, bad));
    if (bad == std::string_view::npos) break;
    out += "\xEF\xBF\xBD";  // U+FFFD
    kept.remove_prefix(bad + 1);
  }
  if (end < text.size()) out += "...";
  return out;
}

std::string Quote(std::string_view text) { return "'" + Truncate(text) + "'"; }

std::size_t FindInvalidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
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
      return i;
    }
    if (i + len > text.size()) return i;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      if (!IsContinuation(cc)) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
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
