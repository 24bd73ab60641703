#include "query/lexer.h"

#include "query/error_text.h"

namespace ts::query::internal {
namespace {

// Characters that end a bare word. In a value `~`, `<`, `>` and `=` only mean something at
// its start, so `a<b` or `x~y` stay ordinary words; a field name never contains them, so
// `name=x` is reported as a missing ':' right at the '='.
bool EndsWord(char c, LexContext context) {
  if (IsSpace(c)) return true;
  switch (c) {
    case '(':
    case ')':
    case '"':
    case ',':
      return true;
    case ':':
    case '~':
    case '<':
    case '>':
    case '=':
      return context == LexContext::kField;
    default:
      return false;
  }
}

}  // namespace

bool QueryLexer::SkipSpace() {
  std::size_t start = pos_;
  while (!AtEnd() && IsSpace(input_[pos_])) ++pos_;
  return pos_ != start;
}

Result<Token> QueryLexer::Next(LexContext context) {
  Token token;
  token.offset = pos_;
  if (AtEnd()) {
    token.kind = TokenKind::kEnd;
    return token;
  }
  char c = input_[pos_];
  if (IsSpace(c)) {
    SkipSpace();
    token.kind = TokenKind::kSpace;
    token.length = pos_ - token.offset;
    return token;
  }
  auto single = [&](TokenKind kind) {
    token.kind = kind;
    token.length = 1;
    token.text = std::string(1, c);
    ++pos_;
    return token;
  };
  switch (c) {
    case '"':
      return ScanQuoted();
    case '(':
      return single(TokenKind::kLParen);
    case ')':
      return single(TokenKind::kRParen);
    case ',':
      return single(TokenKind::kComma);
    case '~':
      return single(TokenKind::kTilde);
    case ':':
      if (context == LexContext::kField) return single(TokenKind::kColon);
      break;
    case '<':
    case '>': {
      bool or_equal = pos_ + 1 < input_.size() && input_[pos_ + 1] == '=';
      token.kind = TokenKind::kCompareOp;
      token.length = or_equal ? 2 : 1;
      token.text = std::string(input_.substr(pos_, token.length));
      token.op = c == '<' ? (or_equal ? CompareOp::kLe : CompareOp::kLt)
                          : (or_equal ? CompareOp::kGe : CompareOp::kGt);
      pos_ += token.length;
      return token;
    }
    default:
      break;
  }
  // A word's first character is never a word end (':' in value context included).
  ++pos_;
  while (!AtEnd() && !EndsWord(input_[pos_], context)) ++pos_;
  token.kind = TokenKind::kWord;
  token.length = pos_ - token.offset;
  token.text = std::string(input_.substr(token.offset, token.length));
  return token;
}

Result<Token> QueryLexer::ScanQuoted() {
  Token token;
  token.kind = TokenKind::kQuoted;
  token.offset = pos_;
  ++pos_;  // opening quote
  while (!AtEnd()) {
    char c = input_[pos_];
    if (c == '"') {
      ++pos_;
      token.length = pos_ - token.offset;
      return token;
    }
    // Only \" and \\ are escapes; any other backslash stays, so a quoted regular expression
    // can say "\d+" without doubling the backslash.
    if (c == '\\' && pos_ + 1 < input_.size() &&
        (input_[pos_ + 1] == '"' || input_[pos_ + 1] == '\\')) {
      token.text += input_[pos_ + 1];
      pos_ += 2;
      continue;
    }
    token.text += c;
    ++pos_;
  }
  return QueryError(input_, token.offset, "syntax", "unterminated quoted string (missing '\"')");
}

std::string_view QueryLexer::ScanToSpace() {
  std::size_t start = pos_;
  while (!AtEnd() && !IsSpace(input_[pos_])) ++pos_;
  return input_.substr(start, pos_ - start);
}

Result<std::string_view> QueryLexer::ScanBalancedGroup() {
  std::size_t open = pos_;
  std::size_t depth = 0;
  std::size_t i = pos_;
  while (i < input_.size()) {
    char c = input_[i];
    if (c == '\\') {
      i += 2;
      continue;
    }
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth == 0) {
        pos_ = i + 1;
        return input_.substr(open + 1, i - open - 1);
      }
    }
    ++i;
  }
  return QueryError(input_, open, "syntax", "'(' is never closed (missing ')')");
}

std::string DescribeToken(const Token& token, std::string_view input, std::size_t max_chars) {
  switch (token.kind) {
    case TokenKind::kEnd:
      return "end of input";
    case TokenKind::kSpace:
      return "white space";
    default:
      return Quote(input.substr(token.offset, token.length), max_chars);
  }
}

}  // namespace ts::query::internal
