// Contract section "The q language": every form of the table, quoting, errors and limits.
#include <algorithm>
#include <ctime>
#include <set>

#include "blackbox/contract_fixture.h"

namespace bb {
namespace {
namespace json = boost::json;

using IdSet = std::vector<std::string>;  // sorted ids

class QueryTest : public ContractTest {
 protected:
  // A tenant with a known set of tokens; "openai" is at version 3, "open-ai" at version 2,
  // "many" at version 11 (numerically above 3, textually below it).
  void Seed() {
    t_ = NewTenant();
    const std::string value = NewValue();
    const std::vector<std::pair<std::string, std::string>> seed = {
        {"openai", "OpenAI"},
        {"open-ai", "Open AI"},
        {"openai-prod", "openai prod"},
        {"anthropic", "Anthropic"},
        {"redos", Repeat("a", 50) + "b"},
        {"xa", "xa"},
        {"quote", R"(say "hi")"},
        {"backslash", R"(back\slash)"},
        {"many", "Many"},
    };
    for (const auto& [id, name] : seed) {
      ASSERT_TRUE(Create(t_, id, name, value));
      all_.push_back(id);
    }
    std::sort(all_.begin(), all_.end());
    ASSERT_EQ(Call("PUT", t_.Item("openai"), t_.rw, R"({"name":"OpenAI"})").status, 204);
    ASSERT_EQ(Call("PUT", t_.Item("openai"), t_.rw, R"({"name":"OpenAI"})").status, 204);
    ASSERT_EQ(Call("PUT", t_.Item("open-ai"), t_.rw, R"({"name":"Open AI"})").status, 204);
    for (int i = 0; i < 10; ++i) {
      ASSERT_EQ(Call("PUT", t_.Item("many"), t_.rw, R"({"name":"Many"})").status, 204);
    }
  }

  // The ids matching q (GET ?q=), sorted; expects 200.
  IdSet Q(const std::string& q, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    HttpResponse r =
        Call("GET", t_.base + "?pageSize=1000&q=" + UrlEncode(q), t_.rw, std::nullopt, {}, timeout);
    EXPECT_EQ(r.status, 200) << "q=" << q << "\n" << r.Dump().substr(0, 1000);
    if (r.status != 200) return {"<status " + std::to_string(r.status) + ">"};
    json::value v = ParseBody(r);
    if (!v.is_array()) return {"<not an array>"};
    IdSet ids = Ids(v.as_array());
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  HttpResponse QCall(const std::string& q) {
    return Call("GET", t_.base + "?q=" + UrlEncode(q), t_.rw);
  }

  void ExpectQ400(const std::string& q) {
    SCOPED_TRACE("q=" + q);
    ExpectBadRequest(QCall(q));
    ExpectBadRequest(Call("POST", t_.base + "/search", t_.rw, Serialize(json::object{{"q", q}})));
  }

  IdSet AllExcept(const std::set<std::string>& excluded) const {
    IdSet out;
    for (const std::string& id : all_) {
      if (excluded.count(id) == 0) out.push_back(id);
    }
    return out;
  }

  Tenant t_;
  IdSet all_;
};

INSTANTIATE_TEST_SUITE_P(Backends, QueryTest, ::testing::ValuesIn(Backends()), BackendName());

TEST_P(QueryTest, EqualsIsExactAndCaseSensitive) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  EXPECT_EQ(Q("name:OpenAI"), (IdSet{"openai"}));
  EXPECT_EQ(Q("name:openai"), (IdSet{}));
  EXPECT_EQ(Q("name:Open"), (IdSet{}));
  EXPECT_EQ(Q(R"(name:"Open AI")"), (IdSet{"open-ai"}));
  EXPECT_EQ(Q(R"(name:"openai prod")"), (IdSet{"openai-prod"}));
  EXPECT_EQ(Q("id:openai"), (IdSet{"openai"}));
  EXPECT_EQ(Q("id:OPENAI"), (IdSet{}));
}

TEST_P(QueryTest, RegexIsCaseInsensitiveAndUnanchored) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  const IdSet opens = {"open-ai", "openai", "openai-prod"};
  EXPECT_EQ(Q("name:~open"), opens);
  EXPECT_EQ(Q("name:~OPEN"), opens);
  EXPECT_EQ(Q("name:~^open"), opens);
  EXPECT_EQ(Q("name:~pena"), (IdSet{"openai", "openai-prod"}));
  EXPECT_EQ(Q("name:~prod$"), (IdSet{"openai-prod"}));
  EXPECT_EQ(Q("name:~i$"), (IdSet{"open-ai", "openai"}));
  EXPECT_EQ(Q("name:~thro"), (IdSet{"anthropic"}));
  EXPECT_EQ(Q("id:~^open"), opens);
  EXPECT_EQ(Q("name:~."), all_);
}

TEST_P(QueryTest, RegexWithSpacesIsQuotedOrParenthesized) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  EXPECT_EQ(Q(R"(name:~"Open AI")"), (IdSet{"open-ai"}));
  EXPECT_EQ(Q(R"(name:~"open ai")"), (IdSet{"open-ai"}));
  EXPECT_EQ(Q("name:~(Open AI)"), (IdSet{"open-ai"}));
  EXPECT_EQ(Q("name:(~Open AI)"), (IdSet{"open-ai"}));
  EXPECT_EQ(Q("name:~(n a)"), (IdSet{"open-ai"}));
  // Unquoted, the pattern ends at the space and "AI" is a clause without a field.
  ExpectQ400("name:~Open AI");
}

TEST_P(QueryTest, ParenthesizedPatternKeepsInnerParenthesesAndRunsInLinearTime) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  // The pattern is (a+)+$: names ending in "a" (case-insensitive). "redos" is 50 a's and a
  // b, the classic catastrophic input for a backtracking engine; the answer must still come
  // promptly.
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(Q("name:~((a+)+$)", std::chrono::seconds(10)), (IdSet{"xa"}));
  EXPECT_EQ(Q("name:(~(a|aa)+$)", std::chrono::seconds(10)), (IdSet{"xa"}));
  EXPECT_EQ(Q("name:~((a*)*c)", std::chrono::seconds(10)), (IdSet{"anthropic", "backslash"}));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_EQ(Q("name:~(x(a))"), (IdSet{"xa"}));
  // Without outer parentheses the first ")" closes the pattern: a syntax error.
  ExpectQ400("name:~(a+)+$");
}

TEST_P(QueryTest, AnyOfMatchesEachListedValue) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  EXPECT_EQ(Q("id:(openai,anthropic,nope)"), (IdSet{"anthropic", "openai"}));
  EXPECT_EQ(Q(R"(id:("openai","xa"))"), (IdSet{"openai", "xa"}));
  EXPECT_EQ(Q(R"(name:("Open AI",xa))"), (IdSet{"open-ai", "xa"}));
  EXPECT_EQ(Q("id:(nope,nada)"), (IdSet{}));
  EXPECT_EQ(Q("id:(openai)"), (IdSet{"openai"}));
}

TEST_P(QueryTest, VersionComparisons) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  EXPECT_EQ(Q("metadata.version:>2"), (IdSet{"many", "openai"}));
  EXPECT_EQ(Q("metadata.version:>=2"), (IdSet{"many", "open-ai", "openai"}));
  EXPECT_EQ(Q("metadata.version:<2"), AllExcept({"many", "open-ai", "openai"}));
  EXPECT_EQ(Q("metadata.version:<=2"), AllExcept({"many", "openai"}));
  EXPECT_EQ(Q("metadata.version:3"), (IdSet{"openai"}));
  EXPECT_EQ(Q("metadata.version:11"), (IdSet{"many"}));
  EXPECT_EQ(Q("metadata.version:>10"), (IdSet{"many"}));
  EXPECT_EQ(Q("metadata.version:<10"), AllExcept({"many"}));
  EXPECT_EQ(Q("metadata.version:1"), AllExcept({"many", "open-ai", "openai"}));
  EXPECT_EQ(Q("metadata.version:(>1 AND <3)"), (IdSet{"open-ai"}));
  EXPECT_EQ(Q("metadata.version:(>=2 AND <=3)"), (IdSet{"open-ai", "openai"}));
}

TEST_P(QueryTest, DateComparisonsAndRanges) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  json::array tokens = List(t_, "pageSize=1000");
  ASSERT_EQ(tokens.size(), all_.size());
  std::map<std::string, std::string> created;
  std::map<std::string, std::string> modified;
  for (const json::value& token : tokens) {
    created[Str(At(token, "id"))] = Str(At(token, "metadata.createdAt"));
    modified[Str(At(token, "id"))] = Str(At(token, "metadata.modifiedAt"));
  }
  auto matching = [](const std::map<std::string, std::string>& stamps, auto&& predicate) {
    IdSet ids;
    for (const auto& [id, stamp] : stamps) {
      if (predicate(stamp)) ids.push_back(id);
    }
    return ids;
  };
  const std::string pivot = created.at("anthropic");
  EXPECT_EQ(Q(R"(metadata.createdAt:>=")" + pivot + "\""),
            matching(created, [&](const std::string& s) { return s >= pivot; }));
  EXPECT_EQ(Q(R"(metadata.createdAt:<")" + pivot + "\""),
            matching(created, [&](const std::string& s) { return s < pivot; }));
  EXPECT_EQ(Q(R"(metadata.createdAt:>")" + pivot + "\""),
            matching(created, [&](const std::string& s) { return s > pivot; }));
  EXPECT_EQ(Q(R"(metadata.createdAt:<=")" + pivot + "\""),
            matching(created, [&](const std::string& s) { return s <= pivot; }));
  EXPECT_EQ(Q(R"(metadata.createdAt:(>=")" + pivot + R"(" AND <=")" + pivot + "\")"),
            matching(created, [&](const std::string& s) { return s == pivot; }));
  // Dates compare by value: the same instant written with an offset selects the same tokens.
  std::optional<std::int64_t> pivot_ms = ParseApiTimestamp(pivot);
  ASSERT_TRUE(pivot_ms.has_value()) << pivot;
  const std::time_t shifted_seconds = static_cast<std::time_t>(*pivot_ms / 1000) + 3600;
  std::tm shifted{};
  ::gmtime_r(&shifted_seconds, &shifted);
  char offset_form[64];
  std::snprintf(offset_form, sizeof offset_form, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+01:00",
                shifted.tm_year + 1900, shifted.tm_mon + 1, shifted.tm_mday, shifted.tm_hour,
                shifted.tm_min, shifted.tm_sec, static_cast<int>(*pivot_ms % 1000));
  EXPECT_EQ(Q(R"(metadata.createdAt:>=")" + std::string(offset_form) + "\""),
            matching(created, [&](const std::string& s) { return s >= pivot; }))
      << offset_form;
  const std::string modified_pivot = modified.at("open-ai");
  EXPECT_EQ(Q(R"(metadata.modifiedAt:>=")" + modified_pivot + "\""),
            matching(modified, [&](const std::string& s) { return s >= modified_pivot; }));

  EXPECT_EQ(Q(R"(metadata.createdAt:(>="2000-01-01T00:00:00Z" AND <"2100-01-01T00:00:00Z"))"),
            all_);
  EXPECT_EQ(Q(R"(metadata.createdAt:<"2000-01-01T00:00:00Z")"), (IdSet{}));
  EXPECT_EQ(Q(R"(metadata.createdAt:>"2100-01-01T00:00:00Z")"), (IdSet{}));
  EXPECT_EQ(Q(R"(metadata.modifiedAt:(>="2100-01-01T00:00:00Z" AND <"2200-01-01T00:00:00Z"))"),
            (IdSet{}));
}

TEST_P(QueryTest, NullMissingAndExists) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  EXPECT_EQ(Q("name:exists"), all_);
  EXPECT_EQ(Q("name:missing"), (IdSet{}));
  EXPECT_EQ(Q("name:null"), (IdSet{}));
  EXPECT_EQ(Q("id:exists"), all_);
}

TEST_P(QueryTest, QuotesEscapeQuoteAndBackslash) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  EXPECT_EQ(Q(R"(name:"say \"hi\"")"), (IdSet{"quote"}));
  EXPECT_EQ(Q(R"(name:"back\\slash")"), (IdSet{"backslash"}));
  EXPECT_EQ(Q(R"(name:("say \"hi\"","back\\slash"))"), (IdSet{"backslash", "quote"}));
}

TEST_P(QueryTest, ClausesSeparatedByWhiteSpaceMustAllHold) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  EXPECT_EQ(Q("name:~open metadata.version:>=2"), (IdSet{"open-ai", "openai"}));
  EXPECT_EQ(Q("name:~a metadata.version:>2"), (IdSet{"many", "openai"}));
  EXPECT_EQ(Q("name:~open   id:(openai-prod,anthropic)"), (IdSet{"openai-prod"}));
  EXPECT_EQ(Q("name:OpenAI name:Anthropic"), (IdSet{}));
  EXPECT_EQ(Q("name:~open\tmetadata.version:3"), (IdSet{"openai"}));
}

TEST_P(QueryTest, OrIsNotPartOfTheLanguage) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  ExpectQ400("name:OpenAI OR name:Anthropic");
  ExpectQ400("metadata.version:(>1 OR <3)");
}

TEST_P(QueryTest, UnknownFieldIs400) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  for (const std::string q : {"colour:red", "value:x", "value:~sk", "value:exists", "enabled:true",
                              "Name:OpenAI", "metadata.colour:1", "metadata:1", "name.en:~x"}) {
    ExpectQ400(q);
  }
}

TEST_P(QueryTest, InvalidRegexIs400) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  for (const std::string q :
       {"name:~[z-a]", "name:~a{2,1}", R"(name:~"(")", "name:~*a", "name:~(abc", "name:~x\\"}) {
    ExpectQ400(q);
  }
}

TEST_P(QueryTest, ValueOfTheWrongTypeIs400) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  for (const std::string q :
       {"metadata.version:abc", "metadata.version:>abc", "metadata.version:true",
        R"(metadata.version:>"2026-01-01T00:00:00Z")", R"(metadata.createdAt:>"yesterday")",
        R"(metadata.createdAt:(>="2026-13-45T00:00:00Z" AND <"2027-01-01T00:00:00Z"))", "name:>abc",
        "id:<=x"}) {
    ExpectQ400(q);
  }
}

TEST_P(QueryTest, SyntaxErrorsAre400) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  for (const std::string q : {"name", ":x", R"(name:"unterminated)", "name:(a,b",
                              "metadata.version:(>1 AND)", "id:(a,b))"}) {
    ExpectQ400(q);
  }
}

TEST_P(QueryTest, QOfMoreThan4096CharactersIs400) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  const std::string q4096 = "name:" + Repeat("x", 4091);
  ASSERT_EQ(q4096.size(), 4096u);
  EXPECT_EQ(Q(q4096), (IdSet{}));
  const std::string q4097 = q4096 + "x";
  ExpectQ400(q4097);
}

TEST_P(QueryTest, ErrorMessageSaysWhatAndWhere) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  auto mentions_any = [&](const HttpResponse& r, const std::vector<std::string>& candidates) {
    for (const std::string& c : candidates) {
      if (ErrorMentions(r, c)) return true;
    }
    return false;
  };
  // Unknown field "bogus" starts at 0-based offset 12 (1-based 13).
  HttpResponse unknown = QCall("name:OpenAI bogus:1");
  ExpectBadRequest(unknown);
  EXPECT_TRUE(mentions_any(unknown, {"bogus", "12", "13"})) << unknown.body;
  // Wrong type: "abc" at offset 29 (1-based 30) in a clause starting at 12 (13).
  HttpResponse wrong = QCall("name:OpenAI metadata.version:abc");
  ExpectBadRequest(wrong);
  EXPECT_TRUE(mentions_any(wrong, {"abc", "12", "13", "29", "30"})) << wrong.body;
  // Unterminated quote opened at offset 5 (6), input ends at 18 (19).
  HttpResponse unterminated = QCall(R"(name:"unterminated)");
  ExpectBadRequest(unterminated);
  EXPECT_TRUE(mentions_any(unterminated, {"unterminated", "5", "6", "18", "19"}))
      << unterminated.body;
}

TEST_P(QueryTest, ErrorQuotesAtMost100CharactersOfTheQuery) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  HttpResponse r = QCall(Repeat("k", 4000) + ":x");
  ExpectBadRequest(r);
  EXPECT_LE(LongestRun(r.body, 'k'), 100u) << r.body.substr(0, 500);
  HttpResponse regex = QCall("name:~[" + Repeat("k", 3000));
  ExpectBadRequest(regex);
  EXPECT_LE(LongestRun(regex.body, 'k'), 100u) << regex.body.substr(0, 500);
}

}  // namespace
}  // namespace bb
