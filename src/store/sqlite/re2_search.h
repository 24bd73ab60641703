// The `re2_search(pattern, text)` SQL function: true when RE2 finds `pattern` anywhere in
// `text`, case-insensitively, in UTF-8 (the q language's `field:~pattern`). RE2 runs in linear
// time, so no pattern can stall a query. The compiled pattern is cached per statement
// execution (sqlite3_set_auxdata). An invalid pattern fails the statement with an error message
// that starts with kRe2SearchErrorPrefix.
// Thread-safety: RegisterRe2Search is called once per connection while the caller owns it;
// the function itself keeps no shared state.
#pragma once

#include <re2/re2.h>
#include <sqlite3.h>

#include <string_view>

#include "common/result.h"
#include "query/query.h"

namespace ts::store::sqlite {

inline constexpr std::string_view kRe2SearchErrorPrefix = "re2_search: invalid pattern";

// The options every search uses: the ones the q parser validated the pattern with
// (case-insensitive, UTF-8, max_mem = query::kRegexMaxMem), so the two cannot disagree.
RE2::Options Re2SearchOptions();

// Compiles `pattern` once to report a bad pattern before any row is read: a tenant without
// rows would otherwise never call the SQL function and silently accept it. kInvalidArgument
// naming `field`.
Result<void> ValidateRe2SearchPattern(std::string_view pattern, std::string_view field);

// Registers re2_search on `db`. Returns the SQLite result code.
int RegisterRe2Search(sqlite3* db);

}  // namespace ts::store::sqlite
