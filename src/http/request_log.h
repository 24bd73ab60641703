// The request log: one structured JSON line per answered request, at info level, through
// common/log ({"time","level":"info","event":"http.request","request_id","method","route",
// "status","duration_ms","tenant","subject"}). Only what the server itself decided or checked:
// the route *template* (never the path as sent, never the query string), the tenant once the
// path's tenant was well-formed, the subject once the bearer token was verified. Never a body,
// a header value or a token value.
// Thread-safe (common/log writes each line with one write).
#pragma once

#include "http/server.h"

namespace ts::http {

// Writes the line for `record` when info is enabled. An empty route is logged as
// "unmatched" (as in the metrics); an empty tenant or subject is left out.
void LogRequest(const RequestRecord& record);

}  // namespace ts::http
