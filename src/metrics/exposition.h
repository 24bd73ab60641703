// Exposition: writes metrics in the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): a `# HELP` and a `# TYPE`
// line per family, then its samples. Label values are escaped (backslash, double quote, line
// feed); numbers use the shortest text that reads back exactly, and +Inf/-Inf/NaN as the
// format spells them. The caller keeps every sample of a family together, after Family().
// Not thread-safe: one Exposition per scrape.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "metrics/latency_histogram.h"

namespace ts::metrics {

inline constexpr std::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

using Label = std::pair<std::string_view, std::string_view>;
using Labels = std::initializer_list<Label>;

class Exposition {
 public:
  // type: "counter", "gauge" or "histogram".
  void Family(std::string_view name, std::string_view type, std::string_view help);
  void Sample(std::string_view name, Labels labels, double value);
  void Sample(std::string_view name, Labels labels, std::uint64_t value);
  void Sample(std::string_view name, Labels labels, std::int64_t value);
  // A family of one unlabelled sample.
  template <typename Value>
  void Single(std::string_view name, std::string_view type, std::string_view help, Value value) {
    Family(name, type, help);
    Sample(name, {}, value);
  }
  // name_bucket{…,le="…"} for every bucket, then name_sum and name_count.
  void Histogram(std::string_view name, Labels labels, const LatencyHistogram::Snapshot& snapshot);

  const std::string& text() const { return text_; }
  std::string Take() { return std::move(text_); }

 private:
  void BeginSample(std::string_view name, Labels labels, const Label* extra = nullptr);
  std::string text_;
};

// A number as the format writes it ("+Inf", "NaN", "0.005", "12").
std::string FormatValue(double value);

}  // namespace ts::metrics
