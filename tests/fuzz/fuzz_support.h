// Shared helpers for the libFuzzer harnesses in tests/fuzz: an invariant check that aborts
// (libFuzzer then saves the input as a crash), and the cheap checks every harness applies to an
// Error (bounded, valid-UTF-8 public text). Header-only; each harness is single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/result.h"

// Aborts with a message when an invariant does not hold, so libFuzzer records a crash.
#define FUZZ_CHECK(condition, what)                                                     \
  do {                                                                                  \
    if (!(condition)) {                                                                 \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s (%s)\n", __FILE__, __LINE__, \
                   #condition, std::string(what).c_str());                              \
      std::abort();                                                                     \
    }                                                                                   \
  } while (false)

namespace ts::fuzz {

// A public message quotes at most 100 characters of input (up to 4 bytes each) a few times;
// anything near this size means input is echoed without a bound.
inline constexpr std::size_t kMaxPublicMessageBytes = 1024;

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
inline bool IsValidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
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
      return false;
    }
    if (i + len > text.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// Every public text of an Error is bounded and valid UTF-8 (it ends up in a JSON body).
inline void CheckPublicError(const Error& error) {
  FUZZ_CHECK(!error.message.empty(), "an error has a public message");
  FUZZ_CHECK(error.message.size() <= kMaxPublicMessageBytes,
             "public message of " + std::to_string(error.message.size()) + " bytes");
  FUZZ_CHECK(IsValidUtf8(error.message), "public message is not UTF-8");
  for (const ErrorDetail& detail : error.details) {
    FUZZ_CHECK(detail.field.size() <= kMaxPublicMessageBytes, "detail field too long");
    FUZZ_CHECK(detail.message.size() <= kMaxPublicMessageBytes, "detail message too long");
    FUZZ_CHECK(IsValidUtf8(detail.field) && IsValidUtf8(detail.message) && IsValidUtf8(detail.type),
               "detail is not UTF-8");
  }
}

inline std::string_view AsText(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace ts::fuzz
