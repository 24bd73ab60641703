#include "blackbox/response_log.h"

#include <strings.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>

namespace bb {
namespace {

// Request headers worth keeping: those that change what a response may be.
constexpr std::string_view kKeptRequestHeaders[] = {"Content-Type", "If-Match", "X-Request-Id",
                                                    "X-Total-Count"};

std::filesystem::path RecordDir() {
  if (const char* dir = std::getenv("TS_OPENAPI_RECORD_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
#ifdef TS_OPENAPI_RECORD_DIR_DEFAULT
  return TS_OPENAPI_RECORD_DIR_DEFAULT;
#else
  return {};
#endif
}

class RecordFile {
 public:
  void Append(const boost::json::object& line) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!opened_) Open();
    if (!out_.is_open()) return;
    out_ << boost::json::serialize(line) << '\n';
    out_.flush();
  }

 private:
  void Open() {
    opened_ = true;
    const std::filesystem::path dir = RecordDir();
    std::error_code ec;
    if (dir.empty() || !std::filesystem::is_directory(dir, ec)) return;
    out_.open(dir / ("responses-" + std::to_string(::getpid()) + ".jsonl"), std::ios::app);
  }

  std::mutex mutex_;
  bool opened_ = false;
  std::ofstream out_;
};

RecordFile& File() {
  static RecordFile file;
  return file;
}

boost::json::object ResponseJson(const HttpResponse& response) {
  boost::json::array headers;
  for (const auto& [name, value] : response.headers) {
    headers.push_back(boost::json::array{name, value});
  }
  return {{"status", response.status}, {"headers", headers}, {"body", response.body}};
}

}  // namespace

void RecordExchange(const HttpRequest& request, const HttpResponse& response) {
  boost::json::array kept;
  for (const auto& [name, value] : request.headers) {
    for (std::string_view wanted : kKeptRequestHeaders) {
      if (name.size() == wanted.size() &&
          ::strncasecmp(name.data(), wanted.data(), name.size()) == 0) {
        kept.push_back(boost::json::array{name, value});
      }
    }
  }
  File().Append({{"method", request.method},
                 {"target", request.target},
                 {"request_headers", kept},
                 {"response", ResponseJson(response)}});
}

void RecordRawExchange(std::string_view bytes, const HttpResponse& response) {
  // "METHOD SP target SP HTTP/x.y" up to the first line end; anything else is not HTTP enough.
  const std::string_view line = bytes.substr(0, bytes.find_first_of("\r\n"));
  const std::size_t first = line.find(' ');
  const std::size_t last = line.rfind(' ');
  boost::json::object out{{"raw", true}, {"response", ResponseJson(response)}};
  if (first != std::string_view::npos && last > first + 1 &&
      line.substr(last + 1).starts_with("HTTP/")) {
    out["method"] = line.substr(0, first);
    out["target"] = line.substr(first + 1, last - first - 1);
  }
  File().Append(out);
}

}  // namespace bb
