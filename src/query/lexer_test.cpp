#include "query/lexer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "query/error_text.h"

namespace ts::query::internal {
namespace {

using ::testing::HasSubstr;

std::vector<Token> Lex(std::string_view input, LexContext context) {
  QueryLexer lexer(input);
  std::vector<Token> tokens;
  while (true) {
    auto token = lexer.Next(context);
    EXPECT_TRUE(token.ok()) << input;
    if (!token.ok() || token->kind == TokenKind::kEnd) break;
    tokens.push_back(*token);
  }
  return tokens;
}

std::vector<TokenKind> Kinds(const std::vector<Token>& tokens) {
  std::vector<TokenKind> kinds;
  for (const Token& token : tokens) kinds.push_back(token.kind);
  return kinds;
}

TEST(QueryLexerTest, FieldContextSplitsAtColon) {
  auto tokens = Lex("metadata.version:5", LexContext::kField);
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[0].kind, TokenKind::kWord);
  EXPECT_EQ(tokens[0].text, "metadata.version");
  EXPECT_EQ(tokens[1].kind, TokenKind::kColon);
  EXPECT_EQ(tokens[1].offset, 16u);
  EXPECT_EQ(tokens[2].text, "5");
}

TEST(QueryLexerTest, FieldNamesEndAtOperatorCharacters) {
  for (std::string_view input : {"name=x", "name~x", "name<x", "name>x", "name:x"}) {
    auto tokens = Lex(input, LexContext::kField);
    ASSERT_GE(tokens.size(), 2u) << input;
    EXPECT_EQ(tokens[0].text, "name") << input;
  }
}

TEST(QueryLexerTest, ValueContextKeepsColons) {
  auto tokens = Lex("https://x:1/y", LexContext::kValue);
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].text, "https://x:1/y");
}

TEST(QueryLexerTest, Punctuation) {
  auto tokens = Lex("(a, \"b\")~", LexContext::kValue);
  EXPECT_THAT(Kinds(tokens),
              ::testing::ElementsAre(TokenKind::kLParen, TokenKind::kWord, TokenKind::kComma,
                                     TokenKind::kSpace, TokenKind::kQuoted, TokenKind::kRParen,
                                     TokenKind::kTilde));
  EXPECT_EQ(tokens[4].text, "b");
  EXPECT_EQ(tokens[4].offset, 4u);
  EXPECT_EQ(tokens[4].length, 3u);
}

TEST(QueryLexerTest, CompareOperators) {
  auto tokens = Lex(">=1 >2 <=3 <4", LexContext::kValue);
  ASSERT_EQ(tokens.size(), 11u);
  EXPECT_EQ(tokens[0].op, CompareOp::kGe);
  EXPECT_EQ(tokens[0].length, 2u);
  EXPECT_EQ(tokens[1].text, "1");
  EXPECT_EQ(tokens[3].op, CompareOp::kGt);
  EXPECT_EQ(tokens[6].op, CompareOp::kLe);
  EXPECT_EQ(tokens[9].op, CompareOp::kLt);
}

TEST(QueryLexerTest, OperatorCharactersInsideAWordStayInIt) {
  auto tokens = Lex("a<b~c>=d", LexContext::kValue);
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].text, "a<b~c>=d");
}

TEST(QueryLexerTest, WhiteSpaceRunIsOneToken) {
  auto tokens = Lex("a \t\n b", LexContext::kValue);
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[1].kind, TokenKind::kSpace);
  EXPECT_EQ(tokens[1].length, 4u);
}

TEST(QueryLexerTest, QuotedEscapes) {
  auto tokens = Lex(R"("a\"b\\c\d")", LexContext::kValue);
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].text, R"(a"b\c\d)");
}

TEST(QueryLexerTest, UnterminatedQuoteReportsTheOpeningQuote) {
  QueryLexer lexer("ab \"cd");
  ASSERT_TRUE(lexer.Next(LexContext::kValue).ok());
  ASSERT_TRUE(lexer.Next(LexContext::kValue).ok());
  auto token = lexer.Next(LexContext::kValue);
  ASSERT_FALSE(token.ok());
  EXPECT_THAT(token.error().message, HasSubstr("position 4"));
}

TEST(QueryLexerTest, ScanToSpace) {
  QueryLexer lexer("a(b)\"c x");
  EXPECT_EQ(lexer.ScanToSpace(), "a(b)\"c");
  EXPECT_EQ(lexer.offset(), 6u);
}

TEST(QueryLexerTest, BalancedGroup) {
  QueryLexer lexer("((a)(b\\)))rest");
  auto inner = lexer.ScanBalancedGroup();
  ASSERT_TRUE(inner.ok());
  EXPECT_EQ(*inner, "(a)(b\\))");
  EXPECT_EQ(lexer.offset(), 10u);
}

TEST(QueryLexerTest, UnbalancedGroupReportsTheOpeningParenthesis) {
  QueryLexer lexer("x((a)");
  lexer.Reset(1);
  auto inner = lexer.ScanBalancedGroup();
  ASSERT_FALSE(inner.ok());
  EXPECT_THAT(inner.error().message, HasSubstr("position 2"));
}

TEST(QueryLexerTest, TrailingBackslashInGroupDoesNotOverrun) {
  QueryLexer lexer("(a\\");
  EXPECT_FALSE(lexer.ScanBalancedGroup().ok());
}

TEST(ErrorTextTest, CharPosition) {
  EXPECT_EQ(CharPosition("abc", 0), 1u);
  EXPECT_EQ(CharPosition("abc", 3), 4u);
  EXPECT_EQ(CharPosition("éa", 2), 2u);
  EXPECT_EQ(CharPosition("🔑a", 4), 2u);
  EXPECT_EQ(CharPosition("ab", 99), 3u);
}

TEST(ErrorTextTest, QuoteCutsAt100CharactersOnACharacterBoundary) {
  EXPECT_EQ(Quote("abc"), "'abc'");
  EXPECT_EQ(Quote(std::string(100, 'x')), "'" + std::string(100, 'x') + "'");
  EXPECT_EQ(Quote(std::string(101, 'x')), "'" + std::string(100, 'x') + "...'");
  std::string wide;
  for (int i = 0; i < 150; ++i) wide += "é";
  std::string quoted = Quote(wide);
  EXPECT_EQ(CountChars(quoted), 100u + 5u);  // 100 characters, two quotes, "..."
  EXPECT_EQ(FindInvalidUtf8(quoted), std::string_view::npos);
}

TEST(ErrorTextTest, QuoteReplacesInvalidUtf8) {
  std::string quoted =
      Quote(std::string("a\xff"
                        "b"));
  EXPECT_EQ(quoted,
            "'a\xEF\xBF\xBD"
            "b'");
}

// Found by tests/fuzz/query_fuzz: each ill-formed byte is one character of the 100 quoted.
TEST(ErrorTextTest, QuoteCountsEachIllFormedByteAsACharacter) {
  std::string expected = "'";
  for (int i = 0; i < 100; ++i) expected += "\xEF\xBF\xBD";
  expected += "...'";
  EXPECT_EQ(Quote(std::string(1000, '\x90')), expected);
  // A truncated sequence is two ill-formed bytes: two replacement characters.
  EXPECT_EQ(Quote("a\xe6\x97" + std::string(200, 'b')),
            "'a\xEF\xBF\xBD\xEF\xBF\xBD" + std::string(97, 'b') + "...'");
}

TEST(ErrorTextTest, FindInvalidUtf8) {
  EXPECT_EQ(FindInvalidUtf8("plain ascii"), std::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("é日🔑"), std::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("ab\x80"), 2u);
  EXPECT_EQ(FindInvalidUtf8("a\xe6\x97"), 1u);
  EXPECT_EQ(FindInvalidUtf8("\xe0\x80\x80"), 0u);  // overlong
  EXPECT_EQ(FindInvalidUtf8("\xf8\x88\x80\x80\x80"), 0u);
}

TEST(ErrorTextTest, QueryErrorShape) {
  Error error = QueryError("abc", 1, "syntax", "something wrong");
  EXPECT_EQ(error.code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(error.message, HasSubstr("something wrong"));
  EXPECT_THAT(error.message, HasSubstr("at position 2"));
  ASSERT_EQ(error.details.size(), 1u);
  EXPECT_EQ(error.details[0].field, "q");
  EXPECT_EQ(error.details[0].type, "syntax");
}

}  // namespace
}  // namespace ts::query::internal
