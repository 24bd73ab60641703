// POST /oauth/token: the client credentials grant for clients declared with
// --oauth-clients-file (docs/security.md, "Client credentials"). Parses the request
// (`application/x-www-form-urlencoded` body, parsed with Boost.URL; client credentials in the
// body or in `Authorization: Basic`, RFC 6749 section 2.3.1), hands it to
// oauth::ClientCredentialsIssuer and renders the RFC 6749 answer: 200
// {"access_token","token_type":"Bearer","expires_in","scope"} or an error body
// {"error","error_description"} (section 5.2); this file is the one place that maps OAuth
// errors to statuses. Every answer carries `Pragma: no-cache` (and, from the server,
// `Cache-Control: no-store`).
// Never echoes or logs the secret. Handle blocks for one secret verification: the server must
// run it on a handler thread.
// Thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "http/message.h"
#include "oauth/client_credentials.h"
#include "oauth/oauth_error.h"

namespace ts::api {

// The form body and the Authorization header → a token request. invalid_request for a wrong
// Content-Type, a malformed body, a parameter given twice, undecodable Basic credentials, or
// credentials given both ways; invalid_client for an Authorization scheme other than Basic.
oauth::OAuthOutcome<oauth::TokenRequest> ParseTokenRequest(
    std::optional<std::string_view> content_type, std::optional<std::string_view> authorization,
    std::string_view body);

class OAuthTokenHandler {
 public:
  explicit OAuthTokenHandler(oauth::ClientCredentialsIssuer& issuer) : issuer_(issuer) {}
  http::HttpResponse Handle(const http::HttpRequest& request);

 private:
  oauth::ClientCredentialsIssuer& issuer_;
};

}  // namespace ts::api
