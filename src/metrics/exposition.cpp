#include "metrics/exposition.h"

#include <charconv>
#include <cmath>

namespace ts::metrics {
namespace {

void AppendEscapedLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

// HELP text escapes backslash and line feed (not quotes).
void AppendEscapedHelp(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (ec != std::errc()) return "NaN";
  return std::string(buffer, end);
}

void Exposition::Family(std::string_view name, std::string_view type, std::string_view help) {
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  AppendEscapedHelp(text_, help);
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type;
  text_ += '\n';
}

void Exposition::BeginSample(std::string_view name, Labels labels, const Label* extra) {
  text_ += name;
  if (labels.size() == 0 && extra == nullptr) {
    text_ += ' ';
    return;
  }
  text_ += '{';
  bool first = true;
  auto add = [&](const Label& label) {
    if (!first) text_ += ',';
    first = false;
    text_ += label.first;
    text_ += "=\"";
    AppendEscapedLabelValue(text_, label.second);
    text_ += '"';
  };
  for (const Label& label : labels) add(label);
  if (extra != nullptr) add(*extra);
  text_ += "} ";
}

void Exposition::Sample(std::string_view name, Labels labels, double value) {
  BeginSample(name, labels);
  text_ += FormatValue(value);
  text_ += '\n';
}

void Exposition::Sample(std::string_view name, Labels labels, std::uint64_t value) {
  BeginSample(name, labels);
  text_ += std::to_string(value);
  text_ += '\n';
}

void Exposition::Sample(std::string_view name, Labels labels, std::int64_t value) {
  BeginSample(name, labels);
  text_ += std::to_string(value);
  text_ += '\n';
}

void Exposition::Histogram(std::string_view name, Labels labels,
                           const LatencyHistogram::Snapshot& snapshot) {
  const std::string bucket_name = std::string(name) + "_bucket";
  for (std::size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
    const std::string le = i < LatencyHistogram::kBoundsSeconds.size()
                               ? FormatValue(LatencyHistogram::kBoundsSeconds[i])
                               : std::string("+Inf");
    const Label extra{"le", le};
    BeginSample(bucket_name, labels, &extra);
    text_ += std::to_string(snapshot.cumulative[i]);
    text_ += '\n';
  }
  Sample(std::string(name) + "_sum", labels, snapshot.sum_seconds);
  Sample(std::string(name) + "_count", labels, snapshot.count);
}

}  // namespace ts::metrics
