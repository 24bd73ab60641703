// The recursive-descent parser of `q` (grammar below), with type checking against the schema.
//
//   query      = [space] [clause {space clause}] [space]
//   clause     = field ':' expression
//   expression = '~' pattern                      regex: "quoted", (balanced), or bare to space
//              | '(' [space] '~' pattern-text ')' regex: everything inside the parentheses
//              | '(' range ')' | '(' any-of ')'
//              | compare-op value                 ordering: integers and timestamps only
//              | 'null' | 'missing' | 'exists'
//              | value                            equality
//   range      = [space] comparison {[space] 'AND' [space] comparison} [space]
//   any-of     = [space] value {[space] ',' [space] value} [space]
//   comparison = compare-op value
//   value      = word | quoted
#include <re2/re2.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "common/timestamp.h"
#include "query/error_text.h"
#include "query/lexer.h"
#include "query/query.h"

namespace ts::query {
namespace {

using internal::DescribeToken;
using internal::LexContext;
using internal::QueryError;
using internal::QueryLexer;
using internal::kMaxQuotedChars;
using internal::Quote;
using internal::Token;
using internal::TokenKind;

const char* TypeName(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return "a string";
    case FieldType::kInteger:
      return "an integer";
    case FieldType::kTimestamp:
      return "a timestamp";
    case FieldType::kBoolean:
      return "a boolean";
  }
  return "?";
}

bool IsValue(const Token& token) {
  return token.kind == TokenKind::kWord || token.kind == TokenKind::kQuoted;
}

bool IsWord(const Token& token, std::string_view word) {
  return token.kind == TokenKind::kWord && token.text == word;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 'a' + 'A') : a[i];
    char y = b[i] >= 'a' && b[i] <= 'z' ? static_cast<char>(b[i] - 'a' + 'A') : b[i];
    if (x != y) return false;
  }
  return true;
}

class QueryParser {
 public:
  QueryParser(std::string_view q, const ResourceSchema& schema)
      : q_(q), schema_(schema), lexer_(q) {}

  Result<Query> Parse() {
    Query query;
    while (true) {
      lexer_.SkipSpace();
      if (lexer_.AtEnd()) break;
      auto clause = ParseClause();
      if (!clause) return std::move(clause).error();
      query.clauses.push_back(std::move(clause).value());
      // A clause ends at white space or the end; anything else is stuck to it.
      if (!lexer_.AtEnd() && !internal::IsSpace(lexer_.Peek())) {
        std::size_t at = lexer_.offset();
        std::string_view rest = lexer_.ScanToSpace();
        return Fail(at, "syntax",
                    "unexpected " + Quote(rest) + " after the value of field " +
                        Quote(query.clauses.back().field) +
                        " (clauses are separated by white space)");
      }
    }
    return query;
  }

 private:
  Error Fail(std::size_t offset, std::string_view type, const std::string& what) const {
    return QueryError(q_, offset, type, what);
  }

  Error Unexpected(const Token& token, const std::string& expected) const {
    return Fail(token.offset, "syntax",
                "expected " + expected + ", found " + DescribeToken(token, q_));
  }

  // Reserved words: the grammar has no OR at all, and AND only joins the comparisons of a
  // range. Where a clause or operator is expected any spelling is caught, for a better
  // message; as a value only the upper-case words are reserved (`name:or` is a name).
  std::optional<Error> RejectKeyword(const Token& token, bool any_case) const {
    if (token.kind != TokenKind::kWord) return std::nullopt;
    auto is = [&](std::string_view word) {
      return any_case ? EqualsIgnoreCase(token.text, word) : token.text == word;
    };
    if (is("OR")) {
      return Fail(token.offset, "syntax",
                  "'OR' is not part of the q language (clauses separated by white space must "
                  "all hold; use field:(a,b) for any of several values)");
    }
    if (is("AND")) {
      return Fail(token.offset, "syntax",
                  "'AND' is only allowed between the comparisons of a range, e.g. "
                  "field:(>=1 AND <5); clauses separated by white space must all hold");
    }
    return std::nullopt;
  }

  Result<Clause> ParseClause() {
    auto name = lexer_.Next(LexContext::kField);
    if (!name) return std::move(name).error();
    if (name->kind != TokenKind::kWord) return Unexpected(*name, "a field name");
    auto colon = lexer_.Next(LexContext::kField);
    if (!colon) return std::move(colon).error();
    if (colon->kind != TokenKind::kColon) {
      if (auto keyword = RejectKeyword(*name, true)) return *std::move(keyword);
      return Fail(
          colon->offset, "syntax",
          "expected ':' after field " + Quote(name->text, kMaxQuotedChars / 2) + ", found " +
              DescribeToken(*colon, q_, kMaxQuotedChars / 2));
    }
    const FieldSpec* spec = schema_.Find(name->text);
    if (spec == nullptr) {
      return Fail(name->offset, "unknownField", "unknown field " + Quote(name->text));
    }
    Clause clause;
    clause.field = spec->path;
    clause.type = spec->type;
    auto filled = ParseExpression(*spec, &clause);
    if (!filled) return std::move(filled).error();
    return clause;
  }

  Result<void> ParseExpression(const FieldSpec& spec, Clause* clause) {
    auto token = lexer_.Next(LexContext::kValue);
    if (!token) return std::move(token).error();
    switch (token->kind) {
      case TokenKind::kEnd:
      case TokenKind::kSpace:
        return Fail(token->offset, "syntax",
                    "expected a value after " + Quote(spec.path + ":") + ", found " +
                        DescribeToken(*token, q_));
      case TokenKind::kTilde:
        return ParseTildeRegex(spec, token->offset, clause);
      case TokenKind::kLParen:
        return ParseGroup(spec, token->offset, clause);
      case TokenKind::kCompareOp: {
        auto comparison = ParseComparison(spec, *token);
        if (!comparison) return std::move(comparison).error();
        clause->kind = Clause::Kind::kCompare;
        clause->comparisons.push_back(std::move(comparison).value());
        return Ok();
      }
      case TokenKind::kWord:
        if (token->text == "null" || token->text == "missing" || token->text == "exists") {
          clause->kind = token->text == "null"      ? Clause::Kind::kIsNull
                         : token->text == "missing" ? Clause::Kind::kMissing
                                                    : Clause::Kind::kExists;
          return Ok();
        }
        [[fallthrough]];
      case TokenKind::kQuoted: {
        auto literal = ParseLiteral(spec, *token);
        if (!literal) return std::move(literal).error();
        clause->kind = Clause::Kind::kCompare;
        clause->comparisons.push_back(Comparison{CompareOp::kEq, std::move(literal).value()});
        return Ok();
      }
      default:
        return Unexpected(*token, "a value after " + Quote(spec.path + ":"));
    }
  }

  // After `field:~`: a quoted pattern, a parenthesized one, or a bare one up to white space.
  Result<void> ParseTildeRegex(const FieldSpec& spec, std::size_t tilde_offset, Clause* clause) {
    if (lexer_.AtEnd() || internal::IsSpace(lexer_.Peek())) {
      return Fail(tilde_offset, "syntax", "expected a regular expression after '~'");
    }
    std::size_t pattern_offset = lexer_.offset();
    std::string pattern;
    if (lexer_.Peek() == '"') {
      auto quoted = lexer_.Next(LexContext::kValue);
      if (!quoted) return std::move(quoted).error();
      pattern = std::move(quoted->text);
    } else if (lexer_.Peek() == '(') {
      auto inner = lexer_.ScanBalancedGroup();
      if (!inner) return std::move(inner).error();
      pattern = std::string(*inner);
      ++pattern_offset;
    } else {
      pattern = std::string(lexer_.ScanToSpace());
    }
    return SetRegex(spec, tilde_offset, pattern_offset, std::move(pattern), clause);
  }

  Result<void> SetRegex(const FieldSpec& spec, std::size_t tilde_offset, std::size_t pattern_offset,
                        std::string pattern, Clause* clause) {
    if (spec.type != FieldType::kString) {
      return Fail(tilde_offset, "type",
                  "field " + Quote(spec.path) + " is " + TypeName(spec.type) +
                      "; regular expressions ('~') apply to string fields only");
    }
    if (pattern.empty()) {
      return Fail(pattern_offset, "invalidRegex", "empty regular expression");
    }
    RE2::Options options;
    options.set_case_sensitive(false);
    options.set_encoding(RE2::Options::EncodingUTF8);
    options.set_max_mem(kRegexMaxMem);
    options.set_log_errors(false);
    RE2 compiled(pattern, options);
    if (!compiled.ok()) {
      return Fail(pattern_offset, "invalidRegex",
                  "invalid regular expression: " +
                      internal::Truncate(internal::TrimSpace(compiled.error())));
    }
    clause->kind = Clause::Kind::kRegex;
    clause->pattern = std::move(pattern);
    return Ok();
  }

  // After `field:(`. The parentheses hold a regular expression, a range or a list.
  Result<void> ParseGroup(const FieldSpec& spec, std::size_t open_offset, Clause* clause) {
    lexer_.SkipSpace();
    if (lexer_.Peek() == '~') {
      // The pattern is everything inside the outer parentheses, spaces included.
      std::size_t tilde_offset = lexer_.offset();
      lexer_.Reset(open_offset);
      auto inner = lexer_.ScanBalancedGroup();
      if (!inner) return std::move(inner).error();
      std::size_t skip = tilde_offset - open_offset;  // '(' + spaces + '~'
      std::string pattern(inner->substr(skip));
      return SetRegex(spec, tilde_offset, tilde_offset + 1, std::move(pattern), clause);
    }
    auto first = lexer_.Next(LexContext::kValue);
    if (!first) return std::move(first).error();
    if (first->kind == TokenKind::kCompareOp) {
      return ParseRange(spec, open_offset, std::move(*first), clause);
    }
    if (first->kind == TokenKind::kRParen) {
      return Fail(open_offset, "syntax", "empty parentheses: expected a list, range or '~'");
    }
    return ParseAnyOf(spec, open_offset, std::move(*first), clause);
  }

  // The token after a value inside parentheses, skipping white space; running out of input
  // means the '(' was never closed.
  Result<Token> NextInGroup(std::size_t open_offset) {
    lexer_.SkipSpace();
    auto token = lexer_.Next(LexContext::kValue);
    if (token && token->kind == TokenKind::kEnd) {
      return Fail(open_offset, "syntax", "'(' is never closed (missing ')')");
    }
    return token;
  }

  Result<void> ParseRange(const FieldSpec& spec, std::size_t open_offset, Token op,
                          Clause* clause) {
    clause->kind = Clause::Kind::kRange;
    while (true) {
      if (op.kind != TokenKind::kCompareOp) {
        if (op.kind == TokenKind::kEnd) {
          return Fail(open_offset, "syntax", "'(' is never closed (missing ')')");
        }
        if (op.kind == TokenKind::kWord && EqualsIgnoreCase(op.text, "OR")) {
          return *RejectKeyword(op, true);
        }
        return Unexpected(op, "a comparison ('>', '>=', '<' or '<=') in the range");
      }
      auto comparison = ParseComparison(spec, op);
      if (!comparison) return std::move(comparison).error();
      clause->comparisons.push_back(std::move(comparison).value());

      auto after = NextInGroup(open_offset);
      if (!after) return std::move(after).error();
      if (after->kind == TokenKind::kRParen) return Ok();
      if (!IsWord(*after, "AND")) {
        if (after->kind == TokenKind::kWord && EqualsIgnoreCase(after->text, "OR")) {
          return *RejectKeyword(*after, true);
        }
        return Unexpected(*after, "'AND' or ')' in the range");
      }
      auto next = NextInGroup(open_offset);
      if (!next) return std::move(next).error();
      op = std::move(*next);
    }
  }

  Result<void> ParseAnyOf(const FieldSpec& spec, std::size_t open_offset, Token item,
                          Clause* clause) {
    clause->kind = Clause::Kind::kAnyOf;
    while (true) {
      if (item.kind == TokenKind::kEnd) {
        return Fail(open_offset, "syntax", "'(' is never closed (missing ')')");
      }
      if (!IsValue(item)) return Unexpected(item, "a value in the list");
      if (item.kind == TokenKind::kWord &&
          (item.text == "null" || item.text == "missing" || item.text == "exists")) {
        return Fail(item.offset, "syntax",
                    Quote(item.text) + " cannot be part of a list; write " +
                        Quote(spec.path + ":" + item.text) + " as its own clause");
      }
      auto literal = ParseLiteral(spec, item);
      if (!literal) return std::move(literal).error();
      clause->comparisons.push_back(Comparison{CompareOp::kEq, std::move(literal).value()});

      auto after = NextInGroup(open_offset);
      if (!after) return std::move(after).error();
      if (after->kind == TokenKind::kRParen) return Ok();
      if (after->kind != TokenKind::kComma) {
        if (auto keyword = RejectKeyword(*after, true)) return *std::move(keyword);
        return Unexpected(*after, "',' or ')' in the list");
      }
      auto next = NextInGroup(open_offset);
      if (!next) return std::move(next).error();
      item = std::move(*next);
    }
  }

  // `op` is a kCompareOp token; its value must follow immediately.
  Result<Comparison> ParseComparison(const FieldSpec& spec, const Token& op) {
    if (spec.type != FieldType::kInteger && spec.type != FieldType::kTimestamp) {
      return Fail(op.offset, "type",
                  "field " + Quote(spec.path) + " is " + TypeName(spec.type) + "; " +
                      Quote(op.text) + " applies to integer and timestamp fields only");
    }
    auto value = lexer_.Next(LexContext::kValue);
    if (!value) return std::move(value).error();
    if (!IsValue(*value)) return Unexpected(*value, "a value right after " + Quote(op.text));
    auto literal = ParseLiteral(spec, *value);
    if (!literal) return std::move(literal).error();
    return Comparison{op.op, std::move(literal).value()};
  }

  Result<Literal> ParseLiteral(const FieldSpec& spec, const Token& token) {
    if (auto keyword = RejectKeyword(token, false)) return *std::move(keyword);
    bool quoted = token.kind == TokenKind::kQuoted;
    if (!quoted && token.text.front() == '=') {
      return Fail(token.offset, "syntax",
                  "unexpected '=': equality is written field:value (quote the value if it "
                  "starts with '=')");
    }
    const std::string raw(q_.substr(token.offset, token.length));
    switch (spec.type) {
      case FieldType::kString:
        return Literal{token.text};
      case FieldType::kInteger: {
        std::int64_t number = 0;
        const char* begin = token.text.data();
        const char* end = begin + token.text.size();
        auto [ptr, ec] = std::from_chars(begin, end, number);
        if (quoted || ec == std::errc::invalid_argument || ptr != end) {
          return Fail(token.offset, "type",
                      "field " + Quote(spec.path) + " is an integer; " + Quote(raw) +
                          " is not a whole number (write digits without quotes)");
        }
        if (ec == std::errc::result_out_of_range) {
          return Fail(token.offset, "type", Quote(raw) + " is out of the integer range");
        }
        return Literal{number};
      }
      case FieldType::kTimestamp: {
        if (!quoted) {
          return Fail(token.offset, "type",
                      "field " + Quote(spec.path) +
                          " is a timestamp; write it in double quotes, e.g. "
                          "\"2026-01-01T00:00:00Z\"");
        }
        std::optional<std::int64_t> ms = ParseTimestamp(token.text);
        if (!ms) {
          return Fail(
              token.offset, "type",
              Quote(token.text) + " is not an ISO-8601 timestamp such as \"2026-01-01T00:00:00Z\"");
        }
        return Literal{*ms};
      }
      case FieldType::kBoolean:
        if (!quoted && (token.text == "true" || token.text == "false")) {
          return Literal{token.text == "true"};
        }
        return Fail(token.offset, "type",
                    "field " + Quote(spec.path) + " is a boolean; expected true or false, found " +
                        Quote(raw));
    }
    return Fail(token.offset, "type", "unsupported field type");
  }

  std::string_view q_;
  const ResourceSchema& schema_;
  QueryLexer lexer_;
};

}  // namespace

Result<Query> ParseQuery(std::string_view q, const ResourceSchema& schema) {
  if (std::size_t at = internal::OffsetOfChar(q, kMaxQueryLength); at < q.size()) {
    return QueryError(q, at, "tooLong",
                      "q is longer than " + std::to_string(kMaxQueryLength) + " characters");
  }
  if (std::size_t bad = internal::FindInvalidUtf8(q); bad != std::string_view::npos) {
    return QueryError(q, bad, "syntax", "q is not valid UTF-8");
  }
  return QueryParser(q, schema).Parse();
}

}  // namespace ts::query
