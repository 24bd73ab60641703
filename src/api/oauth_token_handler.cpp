#include "api/oauth_token_handler.h"

#include <sodium.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/encoding_opts.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/pct_string_view.hpp>
#include <vector>

#include "http/request_checks.h"

namespace ts::api {
namespace {

using http::EqualsIgnoreCase;
using http::TrimSpaces;
using oauth::OAuthError;
using oauth::OAuthErrorCode;

constexpr std::string_view kFormType = "application/x-www-form-urlencoded";
constexpr std::string_view kRealm = "Basic realm=\"token-service\", charset=\"UTF-8\"";

// "application/x-www-form-urlencoded; charset=UTF-8" → true; parameters are ignored.
bool IsForm(std::optional<std::string_view> content_type) {
  if (!content_type) return false;
  return EqualsIgnoreCase(TrimSpaces(content_type->substr(0, content_type->find(';'))), kFormType);
}

// Percent-decodes one form-encoded part ('+' is a space) of Basic credentials.
std::optional<std::string> FormDecode(std::string_view text) {
  auto pct = boost::urls::make_pct_string_view(text);
  if (!pct) return std::nullopt;
  return pct->decode(boost::urls::encoding_opts(/*space_as_plus=*/true));
}

void Wipe(std::string& text) {
  if (!text.empty()) sodium_memzero(text.data(), text.size());
}

// `Authorization: Basic base64(form(client_id) ":" form(client_secret))` (RFC 6749 2.3.1).
oauth::OAuthOutcome<bool> ReadBasicCredentials(std::string_view header,
                                               oauth::TokenRequest& request) {
  header = TrimSpaces(header);
  const std::size_t space = header.find(' ');
  if (space == std::string_view::npos || !EqualsIgnoreCase(header.substr(0, space), "Basic")) {
    OAuthError error = oauth::InvalidClient();
    error.description = "Only HTTP Basic client authentication is supported";
    return error;
  }
  const std::string_view encoded = TrimSpaces(header.substr(space + 1));
  std::string decoded(encoded.size(), '\0');
  std::size_t decoded_size = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(),
                        encoded.data(), encoded.size(), nullptr, &decoded_size, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    Wipe(decoded);
    return oauth::InvalidRequest("The Basic credentials are not valid base64");
  }
  decoded.resize(decoded_size);
  const std::size_t colon = decoded.find(':');
  std::optional<std::string> id;
  std::optional<std::string> secret;
  if (colon != std::string::npos) {
    id = FormDecode(std::string_view(decoded).substr(0, colon));
    secret = FormDecode(std::string_view(decoded).substr(colon + 1));
  }
  Wipe(decoded);
  if (!id || !secret) {
    if (secret) Wipe(*secret);
    return oauth::InvalidRequest(
        "The Basic credentials must be client_id:client_secret, each form-urlencoded");
  }
  request.client_id = std::move(*id);
  request.client_secret = std::move(*secret);
  request.basic_auth = true;
  return true;
}

http::HttpResponse OAuthJson(int status, std::string body) {
  http::HttpResponse response;
  response.status = status;
  response.SetHeader("Content-Type", "application/json;charset=UTF-8");
  // The server adds `Cache-Control: no-store` to every response; RFC 6749 5.1 also asks for
  // Pragma, for HTTP/1.0 caches.
  response.SetHeader("Pragma", "no-cache");
  response.body = std::move(body);
  return response;
}

struct OAuthStatus {
  int status;
  std::string_view error;  // the RFC 6749 `error` value
};

OAuthStatus StatusOf(OAuthErrorCode code) {
  switch (code) {
    case OAuthErrorCode::kInvalidRequest: return {400, "invalid_request"};
    case OAuthErrorCode::kInvalidClient: return {401, "invalid_client"};
    case OAuthErrorCode::kUnsupportedGrantType: return {400, "unsupported_grant_type"};
    case OAuthErrorCode::kInvalidScope: return {400, "invalid_scope"};
    case OAuthErrorCode::kTooManyAttempts: return {429, "temporarily_unavailable"};
    case OAuthErrorCode::kBusy: return {503, "temporarily_unavailable"};
    case OAuthErrorCode::kServerError: break;
  }
  return {500, "server_error"};
}

http::HttpResponse RenderOAuthError(const OAuthError& error, bool basic_auth) {
  const auto [status, name] = StatusOf(error.code);
  boost::json::object body;
  body["error"] = name;
  body["error_description"] = error.description;
  http::HttpResponse response = OAuthJson(status, boost::json::serialize(body));
  if (status == 401 && basic_auth) response.SetHeader("WWW-Authenticate", std::string(kRealm));
  if (error.retry_after_seconds > 0) {
    response.SetHeader("Retry-After", std::to_string(error.retry_after_seconds));
  }
  return response;
}

}  // namespace

oauth::OAuthOutcome<oauth::TokenRequest> ParseTokenRequest(
    std::optional<std::string_view> content_type, std::optional<std::string_view> authorization,
    std::string_view body) {
  if (!IsForm(content_type)) {
    return oauth::InvalidRequest("Content-Type must be application/x-www-form-urlencoded");
  }
  auto query = boost::urls::parse_query(body);
  if (!query) return oauth::InvalidRequest("The form body is not valid form-urlencoded data");
  // Validated above, so this constructor (the one libboost_url 1.81 exports) cannot throw.
  oauth::TokenRequest request;
  bool form_secret = false;
  bool form_id = false;
  std::vector<std::string> seen;
  for (auto param : boost::urls::params_view(body, boost::urls::encoding_opts(true))) {
    std::string key = param.key;
    if (key.empty()) continue;
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      // RFC 6749 section 3.2: parameters must not be included more than once.
      if (key == "client_secret") Wipe(param.value);
      return oauth::InvalidRequest("The parameter " + key + " is given more than once");
    }
    seen.push_back(key);
    if (key == "grant_type") {
      request.grant_type = std::move(param.value);
    } else if (key == "client_id") {
      request.client_id = std::move(param.value);
      form_id = true;
    } else if (key == "client_secret") {
      request.client_secret = std::move(param.value);
      form_secret = true;
    } else if (key == "scope") {
      request.scope = std::move(param.value);
    }
    // Other parameters are ignored (RFC 6749 section 3.2).
    Wipe(param.value);
  }
  if (authorization) {
    if (form_secret) {
      return oauth::InvalidRequest(
          "Send the client credentials either in the Authorization header or in the body, not "
          "both");
    }
    const std::string form_client_id = std::move(request.client_id);
    auto basic = ReadBasicCredentials(*authorization, request);
    if (auto* error = std::get_if<OAuthError>(&basic)) return std::move(*error);
    if (form_id && form_client_id != request.client_id) {
      return oauth::InvalidRequest("client_id in the body differs from the Basic credentials");
    }
  }
  return request;
}

http::HttpResponse OAuthTokenHandler::Handle(const http::HttpRequest& request) {
  auto parsed = ParseTokenRequest(request.Header("Content-Type"), request.Header("Authorization"),
                                  request.body);
  if (auto* error = std::get_if<OAuthError>(&parsed)) {
    return RenderOAuthError(*error, request.Header("Authorization").has_value());
  }
  const oauth::TokenRequest& token_request = std::get<oauth::TokenRequest>(parsed);
  auto issued = issuer_.Issue(token_request);
  if (auto* error = std::get_if<OAuthError>(&issued)) {
    return RenderOAuthError(*error, token_request.basic_auth);
  }
  auto& token = std::get<oauth::IssuedToken>(issued);
  boost::json::object body;
  body["access_token"] = token.access_token;
  body["token_type"] = "Bearer";
  body["expires_in"] = token.expires_in;
  body["scope"] = token.scope;
  return OAuthJson(200, boost::json::serialize(body));
}

}  // namespace ts::api
