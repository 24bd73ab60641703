// MetricsRegistry: what GET /metrics renders. Each part of the service that has something to
// report adds a collector at start-up (a function that writes its families into an
// Exposition); a scrape runs every collector in the order added. Collectors read atomics or
// cached values: a scrape never scans a table or waits for a request.
// Thread-safety: Add only before the server serves (not concurrently with Render); Render
// may run concurrently from several threads, so collectors must be thread-safe.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "metrics/exposition.h"

namespace ts::metrics {

class MetricsRegistry {
 public:
  using Collector = std::function<void(Exposition&)>;

  void Add(Collector collector) { collectors_.push_back(std::move(collector)); }
  std::string Render() const;

 private:
  std::vector<Collector> collectors_;
};

// token_service_build_info{version="…",revision="…"} 1
void RenderBuildInfo(Exposition& out, std::string_view version, std::string_view revision);

}  // namespace ts::metrics
