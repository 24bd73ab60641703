#include "api/json_body.h"

#include <boost/json/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <cctype>
#include <string>

namespace ts::api {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool HasJsonContentType(const http::HttpRequest& request) {
  auto header = request.Header("Content-Type");
  if (!header) return false;
  std::string media = Lower(header->substr(0, header->find(';')));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.pop_back();
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.erase(0, 1);
  if (media == "application/json") return true;
  return media.rfind("application/", 0) == 0 && media.size() > 5 &&
         media.compare(media.size() - 5, 5, "+json") == 0;
}

Result<std::optional<boost::json::value>> ParseJsonBody(const http::HttpRequest& request) {
  if (request.body.empty()) return std::optional<boost::json::value>{};
  if (!HasJsonContentType(request)) {
    return Error{ErrorCode::kUnsupportedMediaType,
                 "The request body must be JSON with Content-Type: application/json",
                 {},
                 {},
                 {}};
  }
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(request.body, ec, {}, options);
  if (ec == boost::json::error::too_deep) {
    return Error::InvalidField("body", "tooDeep", "JSON nested deeper than 64 levels");
  }
  if (ec) {
    return Error::InvalidField("body", "invalidJson", "The request body is not valid JSON");
  }
  return std::optional<boost::json::value>{std::move(value)};
}

Result<std::int64_t> PositiveInteger(const boost::json::value& v, std::string_view field) {
  std::int64_t n = 0;
  if (v.is_int64()) {
    n = v.as_int64();
  } else if (v.is_uint64()) {
    return Error::InvalidField(std::string(field), "range",
                               std::string(field) + " is too large");
  } else {
    return Error::InvalidField(std::string(field), "type",
                               std::string(field) + " must be an integer");
  }
  if (n < 1) {
    return Error::InvalidField(std::string(field), "range",
                               std::string(field) + " must be at least 1");
  }
  return n;
}

std::string_view JsonKindName(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "number";
    case boost::json::kind::string: return "string";
    case boost::json::kind::array: return "array";
    case boost::json::kind::object: return "object";
  }
  return "value";
}

}  // namespace ts::api
