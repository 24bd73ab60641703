// Fuzzes the PATCH body path the way TokenHandlers::Patch runs it: ParseJsonBody (JSON with the
// nesting limit) → DecodePatch (JSON array → operations) → ApplyTokenPatch on a stored token.
// An applied patch may change the name only, and only to a valid one.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/json_body.h"
#include "api/token_json.h"
#include "domain/token.h"
#include "fuzz_support.h"
#include "http/message.h"

namespace {

using ts::fuzz::CheckPublicError;

ts::domain::Token StoredToken() {
  ts::domain::Token token;
  token.id = "openai-key";
  token.name = "OpenAI production";
  token.metadata = {7, 1767225600000, 1767225600123};
  return token;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ts::http::HttpRequest request;
  request.method = "PATCH";
  request.target = "/ai-service/acme/agentic/tokens/openai-key";
  request.headers.emplace_back("Content-Type", "application/json");
  request.body.assign(ts::fuzz::AsText(data, size));

  auto body = ts::api::ParseJsonBody(request);
  if (!body) {
    CheckPublicError(body.error());
    FUZZ_CHECK(body.error().code == ts::ErrorCode::kInvalidArgument, "bad JSON is a 400");
    return 0;
  }
  if (!*body) {
    FUZZ_CHECK(size == 0, "only an empty body has no JSON value");
    return 0;
  }
  auto ops = ts::api::DecodePatch(**body);
  if (!ops) {
    CheckPublicError(ops.error());
    FUZZ_CHECK(ops.error().code == ts::ErrorCode::kInvalidArgument, "a bad patch is a 400");
    FUZZ_CHECK(!ops.error().details.empty(), "a bad patch names the culprit");
    return 0;
  }
  FUZZ_CHECK(!ops->empty() && ops->size() <= ts::domain::kMaxPatchOperations, "1..200 operations");

  const ts::domain::Token current = StoredToken();
  auto validated = ts::domain::ValidateTokenPatch(*ops);
  auto patched = ts::domain::ApplyTokenPatch(current, *ops);
  FUZZ_CHECK(validated.ok() == patched.ok(), "Validate and Apply agree");
  if (!patched) {
    CheckPublicError(patched.error());
    FUZZ_CHECK(patched.error().code == ts::ErrorCode::kInvalidArgument, "a refused patch is a 400");
    FUZZ_CHECK(patched.error().details.size() == 1, "a refused patch names one operation");
    return 0;
  }
  FUZZ_CHECK(patched->id == current.id, "a patch never changes the id");
  FUZZ_CHECK(patched->metadata.version == current.metadata.version &&
                 patched->metadata.created_at_ms == current.metadata.created_at_ms &&
                 patched->metadata.modified_at_ms == current.metadata.modified_at_ms,
             "a patch never changes metadata");
  FUZZ_CHECK(ts::domain::ValidateName(patched->name, "name").ok(), "a patched name is valid");
  FUZZ_CHECK(patched->name == ops->back().string_value, "the last operation wins");
  for (const auto& op : *ops) {
    FUZZ_CHECK(op.path == "/name" && op.op != ts::domain::PatchOperation::Op::kRemove &&
                   op.value_is_string,
               "only ADD/REPLACE of /name with a string is applied");
  }
  return 0;
}
