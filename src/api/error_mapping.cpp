#include "api/error_mapping.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace ts::api {
namespace {

constexpr std::size_t kMaxQuoted = 100;

http::HttpResponse JsonResponse(int status, const boost::json::object& body) {
  http::HttpResponse response;
  response.status = status;
  response.SetHeader("Content-Type", "application/json");
  response.body = boost::json::serialize(body);
  return response;
}

}  // namespace

int StatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kTokenExpired: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kRouteNotFound: return 404;
    case ErrorCode::kMethodNotAllowed: return 405;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kPreconditionFailed: return 412;
    case ErrorCode::kPayloadTooLarge: return 413;
    case ErrorCode::kUnsupportedMediaType: return 415;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

std::string Quote(std::string_view input) {
  if (input.size() <= kMaxQuoted) return std::string(input);
  // Cut on a UTF-8 boundary so the message stays valid text.
  std::size_t cut = kMaxQuoted;
  while (cut > 0 && (static_cast<unsigned char>(input[cut]) & 0xC0) == 0x80) --cut;
  return std::string(input.substr(0, cut)) + "…";
}

http::HttpResponse RenderError(const Error& error) {
  const int status = StatusFor(error.code);
  if (status == 401) {
    const bool expired = error.code == ErrorCode::kTokenExpired;
    boost::json::object body{
        {"fault",
         {{"faultstring", expired ? "Access Token expired" : "Invalid access token"},
          {"detail",
           {{"errorcode", expired ? "keymanagement.service.access_token_expired"
                                  : "oauth.v2.InvalidAccessToken"}}}}}};
    return JsonResponse(401, body);
  }
  boost::json::object body;
  if (error.code == ErrorCode::kNotFound && !error.resource_id.empty()) {
    body["resourceId"] = error.resource_id;
  }
  body["code"] = status;
  body["status"] = ReasonPhrase(status);
  // 5xx never explain themselves beyond the public message (no SQL, no internals).
  body["message"] = error.message.empty() ? std::string(ReasonPhrase(status)) : error.message;
  if (!error.details.empty()) {
    boost::json::array details;
    for (const ErrorDetail& d : error.details) {
      boost::json::object item;
      item["field"] = d.field;
      if (!d.type.empty()) item["type"] = d.type;
      item["message"] = d.message;
      details.push_back(std::move(item));
    }
    body["details"] = std::move(details);
  }
  return JsonResponse(status, body);
}

http::HttpResponse RenderStatus(int status, std::string_view message) {
  boost::json::object body;
  body["code"] = status;
  body["status"] = ReasonPhrase(status);
  body["message"] = message;
  return JsonResponse(status, body);
}

}  // namespace ts::api
