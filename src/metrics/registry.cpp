#include "metrics/registry.h"

namespace ts::metrics {

std::string MetricsRegistry::Render() const {
  Exposition out;
  for (const Collector& collector : collectors_) collector(out);
  return out.Take();
}

void RenderBuildInfo(Exposition& out, std::string_view version, std::string_view revision) {
  out.Family("token_service_build_info", "gauge",
             "Always 1; the labels say which build of token-service is running.");
  out.Sample("token_service_build_info", {{"version", version}, {"revision", revision}},
             std::int64_t{1});
}

}  // namespace ts::metrics
