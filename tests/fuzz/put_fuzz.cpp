// Fuzzes the PUT body path the way TokenHandlers::Put runs it: ParseJsonBody → DecodeTokenPut.
// Besides memory safety it checks that an accepted command obeys the resource rules, that the
// body's value bytes are wiped once decoded, and that a value never shows up in an error: each
// object body is decoded a second time with its value replaced by a canary.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/json_body.h"
#include "api/token_json.h"
#include "domain/token.h"
#include "fuzz_support.h"
#include "http/message.h"

namespace {

using ts::fuzz::CheckPublicError;

constexpr std::string_view kPathId = "openai-key";
// Distinctive, and not something the decoder could ever produce from its own texts.
constexpr std::string_view kCanary = "CANARY-vAlUe-5d41402abc4b2a76b9719d911017c592";

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

void CheckNoLeak(const ts::Error& error, std::string_view secret) {
  FUZZ_CHECK(!Contains(error.message, secret) && !Contains(error.internal, secret),
             "an error message shows the value");
  for (const auto& d : error.details) {
    FUZZ_CHECK(!Contains(d.field, secret) && !Contains(d.message, secret),
               "an error detail shows the value");
  }
}

// Decodes `body`; returns the error when there is one (for the leak check).
std::optional<ts::Error> Decode(boost::json::value& body) {
  // What DecodeTokenPut will see as the value (the last "value" key, if a string).
  const boost::json::string* value = nullptr;
  if (body.is_object()) {
    if (auto* v = body.as_object().if_contains("value"); v != nullptr) value = v->if_string();
  }
  const std::string original_value = value != nullptr ? std::string(*value) : std::string();

  auto command = ts::api::DecodeTokenPut(body, std::string(kPathId));
  if (value != nullptr) {
    for (char c : *value) FUZZ_CHECK(c == '\0', "the value bytes are wiped from the document");
  }
  if (!command) {
    CheckPublicError(command.error());
    FUZZ_CHECK(command.error().code == ts::ErrorCode::kInvalidArgument, "a bad body is a 400");
    FUZZ_CHECK(!command.error().details.empty(), "a bad body names the culprit");
    return command.error();
  }
  FUZZ_CHECK(command->id == kPathId, "the command is for the path id");
  FUZZ_CHECK(ts::domain::ValidateName(command->name, "name").ok(), "accepted an invalid name");
  if (command->value) {
    FUZZ_CHECK(value != nullptr, "a value came from nowhere");
    FUZZ_CHECK(command->value->view() == original_value, "the value is decoded unchanged");
    FUZZ_CHECK(ts::domain::ValidateValue(command->value->view(), "value").ok(),
               "accepted an invalid value");
  }
  if (command->expected_version) FUZZ_CHECK(*command->expected_version >= 1, "version >= 1");
  FUZZ_CHECK(!command->if_match.has_value(), "If-Match comes from the header only");
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = ts::fuzz::AsText(data, size);
  ts::http::HttpRequest request;
  request.method = "PUT";
  request.target = "/ai-service/acme/agentic/tokens/openai-key";
  request.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  request.body.assign(input);

  auto body = ts::api::ParseJsonBody(request);
  if (!body) {
    CheckPublicError(body.error());
    return 0;
  }
  if (!*body) return 0;
  boost::json::value copy = **body;
  Decode(**body);

  // The same body with a distinctive value: no error may quote it.
  if (copy.is_object() && !Contains(input, kCanary)) {
    copy.as_object()["value"] = kCanary;
    if (auto error = Decode(copy)) CheckNoLeak(*error, kCanary);
  }
  return 0;
}
