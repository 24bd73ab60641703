// Internal to src/query: the lexer of the `q` language. The language is context-sensitive
// (a bare regular expression runs to the next white space, a parenthesized one to the
// balanced closing parenthesis), so the parser drives the lexer: it asks for the next token
// in a context, or for a raw pattern where the grammar takes text verbatim.
// A QueryLexer holds a cursor into its input: one per parse, not shared between threads.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"
#include "query/error_text.h"
#include "query/query.h"

namespace ts::query::internal {

enum class TokenKind {
  kEnd,        // no more input
  kSpace,      // a run of white space
  kWord,       // bare text: a field name, keyword, number or unquoted string
  kQuoted,     // "…" with \" and \\ unescaped
  kColon,      // ':' (only where a field name may end)
  kTilde,      // '~'
  kLParen,     // '('
  kRParen,     // ')'
  kComma,      // ','
  kCompareOp,  // '<', '<=', '>', '>='
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::size_t offset = 0;  // byte offset of the token's first character in the input
  std::size_t length = 0;  // bytes of input the token covers
  std::string text;        // kWord: as written; kQuoted: the unescaped contents
  CompareOp op = CompareOp::kEq;
};

// Field names end at ':'; values do not, so `config.url:https://x` keeps its colon.
enum class LexContext { kField, kValue };

class QueryLexer {
 public:
  explicit QueryLexer(std::string_view input) : input_(input) {}

  // Consumes and returns the next token. Fails only on an unterminated quoted string.
  Result<Token> Next(LexContext context);

  // Consumes a run of white space, if any; true if there was some.
  bool SkipSpace();

  // The raw text from the cursor to the next white space (or the end), consumed.
  std::string_view ScanToSpace();

  // At '(': consumes through the matching ')' and returns the text between them. A backslash
  // escapes the next character, so `\)` does not close. Fails if the group is not closed.
  Result<std::string_view> ScanBalancedGroup();

  bool AtEnd() const { return pos_ >= input_.size(); }
  char Peek() const { return AtEnd() ? '\0' : input_[pos_]; }
  std::size_t offset() const { return pos_; }
  void Reset(std::size_t offset) { pos_ = offset; }
  std::string_view input() const { return input_; }

 private:
  Result<Token> ScanQuoted();

  std::string_view input_;
  std::size_t pos_ = 0;
};

// Describes a token for a message: "end of input", "white space" or its quoted text.
std::string DescribeToken(const Token& token, std::string_view input,
                          std::size_t max_chars = kMaxQuotedChars);

}  // namespace ts::query::internal
