#include "http/message.h"

#include <algorithm>

namespace ts::http {
namespace {

bool NameEquals(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace

std::optional<std::string_view> HttpRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (NameEquals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

void HttpResponse::SetHeader(std::string name, std::string value) {
  // "Set" replaces: the first match keeps its position, later duplicates go, so a response
  // never carries two contradicting values for one field.
  auto first = std::find_if(headers.begin(), headers.end(),
                            [&](const auto& header) { return NameEquals(header.first, name); });
  if (first == headers.end()) {
    headers.emplace_back(std::move(name), std::move(value));
    return;
  }
  first->second = std::move(value);
  headers.erase(std::remove_if(std::next(first), headers.end(),
                               [&](const auto& header) { return NameEquals(header.first, name); }),
                headers.end());
}

}  // namespace ts::http
