#include "api/json_text.h"

#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>

namespace ts::api {
namespace {

void AppendDouble(double d, std::string& out) {
  if (!std::isfinite(d)) {  // not produced by our renderers; keep Boost's spelling
    out += boost::json::serialize(boost::json::value(d));
    return;
  }
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, d);
  if (ec != std::errc{}) {
    out += boost::json::serialize(boost::json::value(d));
    return;
  }
  const std::string_view text(buffer, static_cast<std::size_t>(end - buffer));
  out += text;
  // A double stays recognizably a fraction-capable number: 1.0, not 1.
  if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}

void Append(const boost::json::value& v, std::string& out) {
  switch (v.kind()) {
    case boost::json::kind::double_:
      AppendDouble(v.get_double(), out);
      return;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const boost::json::value& item : v.get_array()) {
        if (!first) out += ',';
        first = false;
        Append(item, out);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.get_object()) {
        if (!first) out += ',';
        first = false;
        out += boost::json::serialize(boost::json::string_view(key));
        out += ':';
        Append(item, out);
      }
      out += '}';
      return;
    }
    default:
      out += boost::json::serialize(v);
      return;
  }
}

}  // namespace

std::string SerializeJson(const boost::json::value& value) {
  std::string out;
  Append(value, out);
  return out;
}

}  // namespace ts::api
