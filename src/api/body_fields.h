// Field-by-field decoding of the JSON PUT bodies of the referencing resources (MCP servers,
// agents): every wrong field is collected and named, not just the first, and the answer is
// one 400 with at most 20 details. Helpers for the shapes both resources share: strings,
// booleans, references `{"id": …}` (a read's expanded object sent back is read as its id),
// the body `id` against the path id, and `metadata`. Pure functions; a BodyProblems belongs to
// one decoding call (not shared between threads).
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ts::api {

// 400 naming `field`: "<field> must be <expected>, not <JSON kind>".
Error TypeError(const std::string& field, std::string_view expected, const boost::json::value& v);

class BodyProblems {
 public:
  void Add(Error error);
  void Add(std::string field, std::string type, std::string message);
  // `prefix` is the path of the enclosing object with its trailing '.', e.g. "config.".
  void Unknown(const std::string& prefix, std::string_view key);
  void Required(const std::string& field);
  // Ok, or one kInvalidArgument error carrying every problem (at most 20, then a count).
  Result<void> Finish() &&;

 private:
  std::vector<ErrorDetail> details_;
};

// A string field; null counts as absent. Returns whether a string was stored in `out`.
bool ReadString(const boost::json::value& v, const std::string& field, std::string& out,
                BodyProblems& problems);
// An optional string field: null leaves `out` absent.
void ReadOptionalString(const boost::json::value& v, const std::string& field,
                        std::optional<std::string>& out, BodyProblems& problems);
// A boolean field; null leaves `out` unchanged (its default).
void ReadBool(const boost::json::value& v, const std::string& field, bool& out,
              BodyProblems& problems);

// The parts of an expanded token besides its id (`expand=token` renders id, name, metadata).
inline constexpr std::string_view kExpandedTokenParts[] = {"name", "metadata"};

// A reference `{"id": …}` at `field`; null is absent. Keys in `read_only` are the other parts
// of the expanded object a read renders there: ignored, so a client can send back what it read.
// Any other key is unknown. Returns the id, nullopt when absent or wrong.
std::optional<std::string> ReadReference(const boost::json::value& v, const std::string& field,
                                         std::span<const std::string_view> read_only,
                                         BodyProblems& problems);

// The body's `id`, when present, must equal the id in the path.
void CheckBodyId(const boost::json::value& v, const std::string& path_id, BodyProblems& problems);

// `metadata`: `version` (an integer ≥ 1) into `expected_version`; `createdAt`, `modifiedAt`
// ignored (read-only, sent back from a read); anything else unknown.
void ReadMetadata(const boost::json::value& v, std::optional<std::int64_t>& expected_version,
                  BodyProblems& problems);

}  // namespace ts::api
