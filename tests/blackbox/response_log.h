// Records every HTTP exchange of the black-box tests for the OpenAPI response checker
// (tests/openapi/check_responses.py), which validates each response against docs/openapi.yaml
// after the suite. One JSON line per exchange: the request's method and target, a few request
// headers (never Authorization), and the whole response (status, headers, body). Each test
// process appends to its own file, `<dir>/responses-<pid>.jsonl`, so parallel tests never
// interleave. The directory is TS_OPENAPI_RECORD_DIR, else the one the build compiled in (the
// CTest fixture `openapi_responses` creates and empties it); nothing is recorded unless it
// exists. Thread-safe.
#pragma once

#include <string_view>

#include "blackbox/http_client.h"

namespace bb {

// An exchange made with Send.
void RecordExchange(const HttpRequest& request, const HttpResponse& response);

// An exchange made with SendRaw: the method and target come from the bytes' request line; a
// request line that does not parse is recorded without them (the checker exempts it).
void RecordRawExchange(std::string_view bytes, const HttpResponse& response);

}  // namespace bb
