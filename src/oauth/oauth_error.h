// The errors of the OAuth 2.0 token endpoint (RFC 6749 section 5.2) as values. They are a
// protocol of their own (an `error` name instead of the service's error body), so they do not
// go through ts::Error; api/oauth_token_handler.cpp is the one place that turns them into
// statuses and bodies. Value types; safe to copy between threads.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace ts::oauth {

enum class OAuthErrorCode {
  kInvalidRequest,        // 400 invalid_request: malformed request
  kInvalidClient,         // 401 invalid_client: unknown client, wrong secret, no credentials
  kUnsupportedGrantType,  // 400 unsupported_grant_type
  kInvalidScope,          // 400 invalid_scope: a scope the client does not have
  kTooManyAttempts,       // 429 (Retry-After): the client is locked out after failed attempts
  kBusy,                  // 503 (Retry-After): every secret verification slot is taken
  kServerError,           // 500 server_error
};

struct OAuthError {
  OAuthErrorCode code = OAuthErrorCode::kServerError;
  std::string description;               // public: safe to show to the client
  std::int64_t retry_after_seconds = 0;  // kTooManyAttempts and kBusy
};

// Either a T or an OAuthError.
template <typename T>
using OAuthOutcome = std::variant<T, OAuthError>;

inline OAuthError InvalidRequest(std::string description) {
  return {OAuthErrorCode::kInvalidRequest, std::move(description), 0};
}
inline OAuthError InvalidClient() {
  return {OAuthErrorCode::kInvalidClient, "Client authentication failed", 0};
}

}  // namespace ts::oauth
