#include "http/request_checks.h"

#include <algorithm>
#include <cstdint>
#include <random>

namespace ts::http {
namespace {

constexpr std::size_t kMaxRequestIdLength = 64;

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return LowerAscii(x) == LowerAscii(y);
         });
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::string GenerateRequestId() {
  // Seeded once per thread so concurrent sessions never share generator state.
  thread_local std::mt19937_64 generator{[] {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
  }()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t bits = generator();
  std::string id(16, '0');
  for (char& c : id) {
    c = kHex[bits & 0xF];
    bits >>= 4;
  }
  return id;
}

OversizedHeader ClassifyOversizedHeader(std::string_view buffered, std::size_t max_url_bytes) {
  const std::size_t eol = buffered.find('\n');
  std::string_view line = buffered.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // request-line = method SP request-target SP HTTP-version. Without a line end yet, the
  // target runs to the end of what was buffered (and is longer still on the wire).
  const std::size_t first_space = line.find(' ');
  std::string_view target =
      first_space == std::string_view::npos ? line : line.substr(first_space + 1);
  if (eol != std::string_view::npos) {
    const std::size_t last_space = target.rfind(' ');
    if (last_space != std::string_view::npos) target = target.substr(0, last_space);
  }
  return target.size() > max_url_bytes ? OversizedHeader::kUrlTooLong
                                       : OversizedHeader::kFieldsTooLarge;
}

bool HeaderListHasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    if (EqualsIgnoreCase(TrimSpaces(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace ts::http
