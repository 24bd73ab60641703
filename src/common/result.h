// Error values and Result<T>: how every module reports failure without throwing.
// An Error carries a canonical code (mapped to an HTTP status in exactly one place,
// src/api/error_mapping), a public message that is safe to show to a client, optional
// per-field details, and an internal message that only goes to logs (never to a client).
// Value types; safe to copy between threads.
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace ts {

enum class ErrorCode {
  kInvalidArgument,     // 400: bad input (syntax, validation)
  kUnauthenticated,     // 401: missing/invalid bearer token
  kTokenExpired,        // 401: bearer token expired
  kPermissionDenied,    // 403: scope or tenant mismatch
  kNotFound,            // 404: resource absent
  kRouteNotFound,       // 404: no such route
  kMethodNotAllowed,    // 405
  kConflict,            // 409: optimistic lock lost, or create raced
  kPreconditionFailed,  // 412: If-Match failed
  kPayloadTooLarge,     // 413
  kUnsupportedMediaType,  // 415
  kUnavailable,         // 503: store unreachable
  kInternal,            // 500
};

struct ErrorDetail {
  std::string field;
  std::string type;
  std::string message;
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;                // public: shown to the client
  std::vector<ErrorDetail> details;   // public
  std::string internal;               // private: logs only
  std::string resource_id;            // for 404 bodies

  static Error Invalid(std::string message, std::vector<ErrorDetail> details = {}) {
    return Error{ErrorCode::kInvalidArgument, std::move(message), std::move(details), {}, {}};
  }
  static Error InvalidField(std::string field, std::string type, std::string message) {
    std::string top = message;
    return Error{ErrorCode::kInvalidArgument, std::move(top),
                 {ErrorDetail{std::move(field), std::move(type), std::move(message)}}, {}, {}};
  }
  static Error Internal(std::string internal_message) {
    return Error{ErrorCode::kInternal, "Internal server error", {}, std::move(internal_message),
                 {}};
  }
  static Error Unavailable(std::string internal_message) {
    return Error{ErrorCode::kUnavailable, "Service temporarily unavailable", {},
                 std::move(internal_message), {}};
  }
  static Error Conflict(std::string message) {
    return Error{ErrorCode::kConflict, std::move(message), {}, {}, {}};
  }
  static Error NotFound(std::string resource_id, std::string message) {
    return Error{ErrorCode::kNotFound, std::move(message), {}, {}, std::move(resource_id)};
  }
};

// Result<T>: either a T or an Error. Result<void> carries only success or an Error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

inline Result<void> Ok() { return {}; }

}  // namespace ts
