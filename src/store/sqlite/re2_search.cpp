#include "store/sqlite/re2_search.h"

#include <memory>
#include <new>
#include <string>

namespace ts::store::sqlite {
namespace {

// At most this many characters of the pattern or RE2's message go into an error message.
constexpr std::size_t kMaxQuotedChars = 100;

std::string Clip(std::string_view text) {
  if (text.size() <= kMaxQuotedChars) return std::string(text);
  std::size_t end = kMaxQuotedChars;
  // Never cut a UTF-8 sequence in half.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "...";
}

void DeleteRe2(void* re) { delete static_cast<RE2*>(re); }

void Re2Search(sqlite3_context* ctx, int /*argc*/, sqlite3_value** argv) {
  // This is a C callback: an exception must not unwind through SQLite.
  try {
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
      sqlite3_result_null(ctx);
      return;
    }
    std::unique_ptr<RE2> compiled;
    auto* re = static_cast<RE2*>(sqlite3_get_auxdata(ctx, 0));
    if (re == nullptr) {
      const auto* pattern = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
      if (pattern == nullptr) {
        sqlite3_result_error_nomem(ctx);
        return;
      }
      const int pattern_size = sqlite3_value_bytes(argv[0]);
      compiled = std::make_unique<RE2>(
          re2::StringPiece(pattern, static_cast<std::size_t>(pattern_size)), Re2SearchOptions());
      if (!compiled->ok()) {
        const std::string message =
            std::string(kRe2SearchErrorPrefix) + ": " + Clip(compiled->error());
        sqlite3_result_error(ctx, message.c_str(), static_cast<int>(message.size()));
        return;
      }
      re = compiled.get();
    }
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
    if (text == nullptr) {
      sqlite3_result_error_nomem(ctx);
      return;
    }
    const int text_size = sqlite3_value_bytes(argv[1]);
    const bool found =
        RE2::PartialMatch(re2::StringPiece(text, static_cast<std::size_t>(text_size)), *re);
    sqlite3_result_int(ctx, found ? 1 : 0);
    // Last, because SQLite may destroy the object inside set_auxdata (e.g. out of memory).
    if (compiled) sqlite3_set_auxdata(ctx, 0, compiled.release(), &DeleteRe2);
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  } catch (...) {
    sqlite3_result_error(ctx, "re2_search: unexpected failure", -1);
  }
}

}  // namespace

RE2::Options Re2SearchOptions() {
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingUTF8);
  options.set_case_sensitive(false);
  options.set_log_errors(false);  // a client's bad pattern is not worth a log line
  options.set_max_mem(query::kRegexMaxMem);
  return options;
}

Result<void> ValidateRe2SearchPattern(std::string_view pattern, std::string_view field) {
  const RE2 re(re2::StringPiece(pattern.data(), pattern.size()), Re2SearchOptions());
  if (re.ok()) return Ok();
  std::string message =
      "Invalid regular expression for field '" + Clip(field) + "': " + Clip(re.error());
  return Error::InvalidField(std::string(field), "invalid_regex", std::move(message));
}

int RegisterRe2Search(sqlite3* db) {
  return sqlite3_create_function_v2(db, "re2_search", 2,
                                    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                                    &Re2Search, nullptr, nullptr, nullptr);
}

}  // namespace ts::store::sqlite
