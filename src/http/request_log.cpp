#include "http/request_log.h"

#include <array>
#include <cstdio>

#include "common/log.h"

namespace ts::http {
namespace {

// A method is a token (Beast checked its characters) but may be long; the log needs no more.
constexpr std::size_t kMaxLoggedMethod = 16;

}  // namespace

void LogRequest(const RequestRecord& record) {
  if (!log::Enabled(log::Level::kInfo)) return;
  char status[16];
  std::snprintf(status, sizeof(status), "%d", record.status);
  char duration_ms[32];
  std::snprintf(duration_ms, sizeof(duration_ms), "%.3f",
                static_cast<double>(record.duration.count()) / 1e6);
  std::array<log::Field, 8> fields;
  std::size_t n = 0;
  fields[n++] = {"request_id", record.request_id};
  fields[n++] = {"method", record.method.substr(0, kMaxLoggedMethod)};
  fields[n++] = {"route", record.route.empty() ? std::string_view("unmatched") : record.route};
  fields[n++] = {"status", status, true};
  fields[n++] = {"duration_ms", duration_ms, true};
  if (!record.tenant.empty()) fields[n++] = {"tenant", record.tenant};
  if (!record.subject.empty()) fields[n++] = {"subject", record.subject};
  if (!record.written) fields[n++] = {"written", "false", true};
  log::Write(log::Level::kInfo, "http.request", std::span<const log::Field>(fields.data(), n));
}

}  // namespace ts::http
