#include "api/body_fields.h"

#include <algorithm>

#include "api/error_mapping.h"
#include "api/json_body.h"

namespace ts::api {
namespace {

// As for tokens: a hostile body with many unknown keys still gets a small answer.
constexpr std::size_t kMaxDetails = 20;

}  // namespace

Error TypeError(const std::string& field, std::string_view expected, const boost::json::value& v) {
  return Error::InvalidField(
      field, "type",
      field + " must be " + std::string(expected) + ", not " + std::string(JsonKindName(v)));
}

void BodyProblems::Add(Error error) {
  for (ErrorDetail& d : error.details) details_.push_back(std::move(d));
}

void BodyProblems::Add(std::string field, std::string type, std::string message) {
  details_.push_back({std::move(field), std::move(type), std::move(message)});
}

void BodyProblems::Unknown(const std::string& prefix, std::string_view key) {
  const std::string field = prefix + Quote(key);
  Add(field, "unknown", "Unknown field " + field);
}

void BodyProblems::Required(const std::string& field) {
  Add(field, "required", field + " is required");
}

Result<void> BodyProblems::Finish() && {
  if (details_.empty()) return Ok();
  if (details_.size() > kMaxDetails) {
    const std::size_t more = details_.size() - kMaxDetails;
    details_.resize(kMaxDetails);
    details_.push_back({"body", "truncated", std::to_string(more) + " more problems not listed"});
  }
  std::string message = details_.size() == 1
                            ? details_.front().message
                            : "Validation problem with request body: " + details_.front().message;
  return Error::Invalid(std::move(message), std::move(details_));
}

bool ReadString(const boost::json::value& v, const std::string& field, std::string& out,
                BodyProblems& problems) {
  if (v.is_null()) return false;
  if (!v.is_string()) {
    problems.Add(TypeError(field, "a string", v));
    return false;
  }
  out = std::string(v.as_string());
  return true;
}

void ReadOptionalString(const boost::json::value& v, const std::string& field,
                        std::optional<std::string>& out, BodyProblems& problems) {
  std::string text;
  if (ReadString(v, field, text, problems)) out = std::move(text);
}

void ReadBool(const boost::json::value& v, const std::string& field, bool& out,
              BodyProblems& problems) {
  if (v.is_null()) return;
  if (!v.is_bool()) {
    problems.Add(TypeError(field, "a boolean", v));
    return;
  }
  out = v.as_bool();
}

std::optional<std::string> ReadReference(const boost::json::value& v, const std::string& field,
                                         std::span<const std::string_view> read_only,
                                         BodyProblems& problems) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_object()) {
    problems.Add(TypeError(field, "an object", v));
    return std::nullopt;
  }
  std::string id;
  bool has_id = false;
  bool id_present = false;
  for (const auto& [key, value] : v.as_object()) {
    const std::string_view k = key;
    if (k == "id") {
      id_present = !value.is_null();  // a value of the wrong type is reported as such
      has_id = ReadString(value, field + ".id", id, problems);
    } else if (std::find(read_only.begin(), read_only.end(), k) == read_only.end()) {
      problems.Unknown(field + ".", k);
    }
  }
  if (!id_present) problems.Required(field + ".id");
  if (!has_id) return std::nullopt;
  return id;
}

void CheckBodyId(const boost::json::value& v, const std::string& path_id, BodyProblems& problems) {
  std::string id;
  if (ReadString(v, "id", id, problems) && id != path_id) {
    problems.Add("id", "mismatch", "id in the body must equal the id in the path");
  }
}

void ReadMetadata(const boost::json::value& v, std::optional<std::int64_t>& expected_version,
                  BodyProblems& problems) {
  if (v.is_null()) return;
  if (!v.is_object()) {
    problems.Add(TypeError("metadata", "an object", v));
    return;
  }
  for (const auto& [key, value] : v.as_object()) {
    const std::string_view k = key;
    if (k == "version") {
      if (value.is_null()) continue;
      auto version = PositiveInteger(value, "metadata.version");
      if (!version) {
        problems.Add(version.error());
      } else {
        expected_version = *version;
      }
    } else if (k == "createdAt" || k == "modifiedAt") {
      // Read-only: accepted and ignored so a client can send back what it read.
    } else {
      problems.Unknown("metadata.", k);
    }
  }
}

}  // namespace ts::api
