// Contract section "Resource": id, name, value and metadata rules of a token.
#include <thread>

#include "blackbox/contract_fixture.h"

namespace bb {
namespace {
namespace json = boost::json;

BB_CONTRACT_SUITE(ResourceTest);

const std::string kUtf8EAcute = "\xC3\xA9";         // é: 1 character, 2 bytes
const std::string kUtf8Emoji = "\xF0\x9F\x98\x80";  // 😀: 1 character, 4 bytes

// --- id ---------------------------------------------------------------------------------

TEST_P(ResourceTest, IdAcceptsEveryAllowedCharacterAndIsCaseSensitive) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "Az09._~-", "all allowed", value));
  EXPECT_EQ(Str(Read(t, "Az09._~-")["id"]), "Az09._~-");
  ASSERT_TRUE(Create(t, "CaseId", "upper", value));
  ASSERT_TRUE(Create(t, "caseid", "lower", value)) << "ids are case-sensitive: a new token";
  EXPECT_EQ(Str(Read(t, "CaseId")["name"]), "upper");
  EXPECT_EQ(Str(Read(t, "caseid")["name"]), "lower");
}

TEST_P(ResourceTest, IdLengthIsOneTo128) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  const std::string id128 = "i" + Repeat("d", 127);
  ASSERT_TRUE(Create(t, id128, "long id", value));
  EXPECT_EQ(Str(Read(t, id128)["id"]), id128);
  ASSERT_TRUE(Create(t, "x", "one char id", value));

  const std::string id129 = "i" + Repeat("d", 128);
  ExpectBadRequest(Call("PUT", t.Item(id129), t.rw, TokenBody("n", value)));
  ExpectBadRequest(Call("GET", t.Item(id129), t.rw));
  ExpectBadRequest(Call("DELETE", t.Item(id129), t.rw));
  ExpectBadRequest(
      Call("PATCH", t.Item(id129), t.rw, R"([{"op":"REPLACE","path":"/name","value":"x"}])"));
  EXPECT_EQ(List(t, "q=" + UrlEncode("id:" + id129)).size(), 0u);
}

TEST_P(ResourceTest, IdIsCheckedAfterPercentDecoding) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  // %41 is 'A': the token is "Abc", whichever spelling is used.
  HttpResponse created = Call("PUT", t.Item("%41bc"), t.rw, TokenBody("encoded", value));
  EXPECT_EQ(created.status, 201) << created.Dump();
  json::object token = Read(t, "Abc");
  EXPECT_EQ(Str(token["id"]), "Abc");
  EXPECT_EQ(Str(token["name"]), "encoded");
  HttpResponse encoded_get = Call("GET", t.Item("%41%62%63"), t.rw);
  EXPECT_EQ(encoded_get.status, 200) << encoded_get.Dump();
  EXPECT_EQ(Call("PUT", t.Item("Abc"), t.rw, TokenBody("plain", value)).status, 204)
      << "%41bc and Abc name the same token";

  // Decoded ids outside the charset are 400, however they are spelled.
  for (const std::string raw : {"%2F", "a%2Fb", "a%2fb", "a%20b", "a%40b", "%C3%A9", "a%00b",
                                "a%25b", "a%3Fb", "a%2Bb", "a+b", "a@b", "a:b", "a%zzb", "a%4"}) {
    SCOPED_TRACE(raw);
    ExpectBadRequest(Call("GET", t.Item(raw), t.rw));
    ExpectBadRequest(Call("PUT", t.Item(raw), t.rw, TokenBody("bad id", value)));
    ExpectBadRequest(Call("DELETE", t.Item(raw), t.rw));
  }
  // Nothing but "Abc" was created.
  EXPECT_EQ(Ids(List(t)), (std::vector<std::string>{"Abc"}));
}

TEST_P(ResourceTest, DotAndDotDotAloneAreRejected) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  for (const std::string raw : {".", "..", "%2E", "%2E%2E", ".%2e"}) {
    SCOPED_TRACE(raw);
    ExpectBadRequest(Call("GET", t.Item(raw), t.rw));
    ExpectBadRequest(Call("PUT", t.Item(raw), t.rw, TokenBody("dots", value)));
    ExpectBadRequest(
        Call("PATCH", t.Item(raw), t.rw, R"([{"op":"REPLACE","path":"/name","value":"x"}])"));
    ExpectBadRequest(Call("DELETE", t.Item(raw), t.rw));
  }
  // Only "." and ".." alone are special.
  ASSERT_TRUE(Create(t, "...", "three dots", value));
  ASSERT_TRUE(Create(t, ".a", "dot a", value));
  ASSERT_TRUE(Create(t, "a..", "a dot dot", value));
  EXPECT_EQ(Str(Read(t, "...")["name"]), "three dots");
}

TEST_P(ResourceTest, SearchIsAnOrdinaryIdForGetPutPatchDelete) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "search", "called search", value));
  json::object token = Read(t, "search");
  EXPECT_EQ(Str(token["id"]), "search");
  EXPECT_EQ(Str(token["name"]), "called search");

  HttpResponse patched = Call("PATCH", t.Item("search"), t.rw,
                              R"([{"op":"REPLACE","path":"/name","value":"renamed"}])");
  EXPECT_EQ(patched.status, 204) << patched.Dump();
  token = Read(t, "search");
  EXPECT_EQ(Str(token["name"]), "renamed");
  EXPECT_EQ(Int(At(token, "metadata.version")), 2);

  // POST …/search still searches.
  HttpResponse searched = Call("POST", t.Item("search"), t.rw, std::string("{}"));
  ASSERT_EQ(searched.status, 200) << searched.Dump();
  json::value found = ParseBody(searched);
  ASSERT_TRUE(found.is_array());
  EXPECT_EQ(Ids(found.as_array()), (std::vector<std::string>{"search"}));

  EXPECT_EQ(Call("DELETE", t.Item("search"), t.rw).status, 204);
  ExpectNotFound(Call("GET", t.Item("search"), t.rw), "search");
}

// --- name -------------------------------------------------------------------------------

TEST_P(ResourceTest, NameIsRequiredAndNotBlank) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  const std::string id = NewId();
  const json::value value_json = json::string(value);
  const std::vector<json::object> bodies = {
      {{"value", value_json}},
      {{"name", ""}, {"value", value_json}},
      {{"name", "   "}, {"value", value_json}},
      {{"name", " \t\n "}, {"value", value_json}},
      {{"name", nullptr}, {"value", value_json}},
      {{"name", 42}, {"value", value_json}},
      {{"name", true}, {"value", value_json}},
      {{"name", json::array{"x"}}, {"value", value_json}},
      {{"name", json::object{{"en", "x"}}}, {"value", value_json}},
  };
  for (const json::object& body : bodies) {
    SCOPED_TRACE(Serialize(body));
    ExpectBadRequest(Call("PUT", t.Item(id), t.rw, Serialize(body)));
  }
  ExpectNotFound(Call("GET", t.Item(id), t.rw), id);

  // Also on update: the stored name stays.
  ASSERT_TRUE(Create(t, id, "original", value));
  ExpectBadRequest(Call("PUT", t.Item(id), t.rw, R"({"name":"  "})"));
  ExpectBadRequest(Call("PUT", t.Item(id), t.rw, R"({})"));
  json::object token = Read(t, id);
  EXPECT_EQ(Str(token["name"]), "original");
  EXPECT_EQ(Int(At(token, "metadata.version")), 1);
}

TEST_P(ResourceTest, NameIsOneTo255Characters) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  const std::string ascii255 = Repeat("n", 255);
  ASSERT_TRUE(Create(t, "ascii255", ascii255, value));
  EXPECT_EQ(Str(Read(t, "ascii255")["name"]), ascii255);
  ASSERT_TRUE(Create(t, "one", "1", value));
  ExpectBadRequest(Call("PUT", t.Item("ascii256"), t.rw, TokenBody(Repeat("n", 256), value)));
  ExpectNotFound(Call("GET", t.Item("ascii256"), t.rw), "ascii256");
  // On update too.
  ExpectBadRequest(Call("PUT", t.Item("one"), t.rw, TokenBody(Repeat("n", 256), value)));
  EXPECT_EQ(Str(Read(t, "one")["name"]), "1");
}

TEST_P(ResourceTest, NameLengthCountsUnicodeCharactersNotBytes) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  const std::string e255 = Repeat(kUtf8EAcute, 255);  // 510 bytes
  ASSERT_TRUE(Create(t, "e255", e255, value));
  EXPECT_EQ(Str(Read(t, "e255")["name"]), e255) << "the name comes back unchanged";
  ExpectBadRequest(Call("PUT", t.Item("e256"), t.rw, TokenBody(Repeat(kUtf8EAcute, 256), value)));
  ExpectNotFound(Call("GET", t.Item("e256"), t.rw), "e256");
}

// Interpretation: "chars" are Unicode code points, so a character outside the BMP counts once
// (not as two UTF-16 units, not as four bytes).
TEST_P(ResourceTest, NameLengthCountsCodePointsOutsideTheBmpOnce) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "emoji255", Repeat(kUtf8Emoji, 255), value));
  ExpectBadRequest(
      Call("PUT", t.Item("emoji256"), t.rw, TokenBody(Repeat(kUtf8Emoji, 256), value)));
}

// --- value ------------------------------------------------------------------------------

TEST_P(ResourceTest, ValueIsOneTo16384Bytes) {
  Tenant t = NewTenant();
  const std::string core = NewValue();
  const std::string v16384 = core + Repeat("v", 16384 - core.size());
  ASSERT_EQ(v16384.size(), 16384u);
  ASSERT_TRUE(Create(t, "max", "max value", v16384));
  // The same value is accepted again (it is stored whole, not truncated).
  EXPECT_EQ(Call("PUT", t.Item("max"), t.rw, TokenBody("max value", v16384)).status, 204);

  const std::string core2 = NewValue();
  const std::string v16385 = core2 + Repeat("v", 16385 - core2.size());
  ExpectBadRequest(Call("PUT", t.Item("over"), t.rw, TokenBody("too long", v16385)));
  ExpectNotFound(Call("GET", t.Item("over"), t.rw), "over");

  ExpectBadRequest(Call("PUT", t.Item("empty"), t.rw, TokenBody("empty value", "")));
  ExpectNotFound(Call("GET", t.Item("empty"), t.rw), "empty");

  ASSERT_TRUE(Create(t, "one-byte", "tiny", "1"));
}

TEST_P(ResourceTest, ValueLengthIsCountedInUtf8Bytes) {
  Tenant t = NewTenant();
  const std::string core = NewValue();
  // 16384 bytes = core + é × n + padding.
  std::string fits = core + Repeat(kUtf8EAcute, (16384 - core.size()) / 2);
  fits += Repeat("v", 16384 - fits.size());
  ASSERT_EQ(fits.size(), 16384u);
  ASSERT_TRUE(Create(t, "fits", "multibyte", fits));
  // 16385 bytes but far fewer than 16384 characters: too long.
  const std::string core2 = NewValue();
  std::string over = core2 + Repeat(kUtf8EAcute, (16385 - core2.size()) / 2);
  over += Repeat("v", 16385 - over.size());
  ASSERT_EQ(over.size(), 16385u);
  ExpectBadRequest(Call("PUT", t.Item("over"), t.rw, TokenBody("multibyte", over)));
  ExpectNotFound(Call("GET", t.Item("over"), t.rw), "over");
}

TEST_P(ResourceTest, ValueIsAnyJsonStringComparedAfterDecoding) {
  Tenant t = NewTenant();
  const std::string core = NewValue();
  // A NUL inside the value: stored and compared whole, not as a C string.
  const std::string with_nul = core + std::string("\0tail", 5);
  ASSERT_TRUE(Create(t, "nul", "nul", with_nul));
  EXPECT_EQ(Call("PUT", t.Item("nul"), t.rw, TokenBody("nul", with_nul)).status, 204);
  ExpectBadRequest(
      Call("PUT", t.Item("nul"), t.rw, TokenBody("nul", core + std::string("\0TAIL", 5))));
  ExpectBadRequest(Call("PUT", t.Item("nul"), t.rw, TokenBody("nul", core)));

  // Escapes are decoded before comparing: "\u00e9" and a literal é are the same value.
  const std::string core2 = NewValue();
  ASSERT_TRUE(Create(t, "escaped", "escaped", core2 + kUtf8EAcute));
  EXPECT_EQ(
      Call("PUT", t.Item("escaped"), t.rw, R"({"name":"escaped","value":")" + core2 + R"(\u00e9"})")
          .status,
      204);
  // The byte limit applies to the decoded value: 16384 bytes written as \u escapes fit.
  const std::string core3 = NewValue();
  const std::size_t pairs = (16384 - core3.size()) / 2;
  const std::string padding(16384 - core3.size() - 2 * pairs, 'v');
  const std::string escaped_body =
      R"({"name":"long","value":")" + core3 + padding + Repeat(R"(\u00e9)", pairs) + R"("})";
  ASSERT_GT(escaped_body.size(), 16384u * 2);
  EXPECT_EQ(Call("PUT", t.Item("escaped-long"), t.rw, escaped_body).status, 201);
  EXPECT_EQ(Call("PUT", t.Item("escaped-long"), t.rw,
                 TokenBody("long", core3 + padding + Repeat(kUtf8EAcute, pairs)))
                .status,
            204);
}

TEST_P(ResourceTest, ValueIsRequiredOnCreateAndMustBeAString) {
  Tenant t = NewTenant();
  const std::string id = NewId();
  for (const std::string body :
       {R"({"name":"n"})", R"({"name":"n","value":null})", R"({"name":"n","value":123})",
        R"({"name":"n","value":true})", R"({"name":"n","value":["x"]})",
        R"({"name":"n","value":{"k":"x"}})"}) {
    SCOPED_TRACE(body);
    ExpectBadRequest(Call("PUT", t.Item(id), t.rw, body));
  }
  ExpectNotFound(Call("GET", t.Item(id), t.rw), id);
}

TEST_P(ResourceTest, ReadsShowIdNameAndMetadataButNeverTheValue) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "shown", "Shown Token", value));

  HttpResponse single = Call("GET", t.Item("shown"), t.rw);
  ASSERT_EQ(single.status, 200);
  auto type = single.Header("Content-Type");
  EXPECT_TRUE(type && type->rfind("application/json", 0) == 0);
  json::value token = ParseBody(single);
  EXPECT_EQ(Keys(token), (std::vector<std::string>{"id", "metadata", "name"})) << single.body;
  EXPECT_EQ(Keys(token.at("metadata")),
            (std::vector<std::string>{"createdAt", "modifiedAt", "version"}))
      << single.body;

  const std::vector<std::pair<std::string, std::optional<std::string>>> reads = {
      {"GET", std::nullopt}, {"POST", std::string("{}")}};
  for (const auto& [method, body] : reads) {
    const std::string target = method == "GET" ? t.base : t.base + "/search";
    HttpResponse r = Call(method, target, t.rw, body);
    ASSERT_EQ(r.status, 200) << r.Dump();
    json::value list = ParseBody(r);
    ASSERT_TRUE(list.is_array());
    ASSERT_EQ(list.as_array().size(), 1u);
    EXPECT_EQ(Keys(list.as_array()[0]), (std::vector<std::string>{"id", "metadata", "name"}));
    EXPECT_EQ(Keys(list.as_array()[0].at("metadata")),
              (std::vector<std::string>{"createdAt", "modifiedAt", "version"}));
  }
  // Whatever the projection, no value (the TearDown also searches every response).
  HttpResponse projected = Call("GET", t.base + "?fields=id,name,metadata", t.rw);
  EXPECT_EQ(projected.status, 200);
  EXPECT_EQ(projected.body.find("\"value\""), std::string::npos) << projected.body;
}

// --- metadata ---------------------------------------------------------------------------

TEST_P(ResourceTest, VersionIsOneAtCreateAndGrowsByOneOnEveryWrite) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  const std::string id = NewId();
  ASSERT_TRUE(Create(t, id, "v", value));
  EXPECT_EQ(VersionOf(t, id), 1);
  EXPECT_EQ(Call("PUT", t.Item(id), t.rw, R"({"name":"v2"})").status, 204);
  EXPECT_EQ(VersionOf(t, id), 2);
  EXPECT_EQ(
      Call("PATCH", t.Item(id), t.rw, R"([{"op":"REPLACE","path":"/name","value":"v3"}])").status,
      204);
  EXPECT_EQ(VersionOf(t, id), 3);
  EXPECT_EQ(Call("PUT", t.Item(id), t.rw, R"({"name":"v4","metadata":{"version":3}})").status, 204);
  EXPECT_EQ(VersionOf(t, id), 4);
  // A write that changes nothing is still a successful write.
  EXPECT_EQ(Call("PUT", t.Item(id), t.rw, R"({"name":"v4"})").status, 204);
  EXPECT_EQ(VersionOf(t, id), 5);
}

TEST_P(ResourceTest, TimestampsAreUtcWithMilliseconds) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  const std::int64_t before = NowMillis();
  ASSERT_TRUE(Create(t, "ts", "timestamps", value));
  const std::int64_t after = NowMillis();
  json::value token = Read(t, "ts");
  for (const char* field : {"metadata.createdAt", "metadata.modifiedAt"}) {
    SCOPED_TRACE(field);
    const std::string text = Str(At(token, field));
    std::optional<std::int64_t> ms = ParseApiTimestamp(text);
    ASSERT_TRUE(ms.has_value()) << "not YYYY-MM-DDTHH:MM:SS.mmmZ: " << text;
    // UTC: the instant is the one of the request (allowing for clock granularity).
    EXPECT_GE(*ms, before - 1000) << text;
    EXPECT_LE(*ms, after + 1000) << text;
  }
  EXPECT_LE(Str(At(token, "metadata.createdAt")), Str(At(token, "metadata.modifiedAt")));
}

TEST_P(ResourceTest, ModifiedAtMovesOnEveryWriteAndCreatedAtNever) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "moving", "m1", value));
  json::value first = Read(t, "moving");
  const std::string created = Str(At(first, "metadata.createdAt"));
  std::string modified = Str(At(first, "metadata.modifiedAt"));

  // Wait (on the clock, not for a fixed time) until a later millisecond can be observed.
  auto wait_past = [](const std::string& stamp) {
    std::optional<std::int64_t> ms = ParseApiTimestamp(stamp);
    ASSERT_TRUE(ms.has_value()) << stamp;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (NowMillis() <= *ms + 1 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
    }
  };

  wait_past(modified);
  ASSERT_EQ(Call("PUT", t.Item("moving"), t.rw, R"({"name":"m2"})").status, 204);
  json::value second = Read(t, "moving");
  EXPECT_EQ(Str(At(second, "metadata.createdAt")), created);
  EXPECT_GT(Str(At(second, "metadata.modifiedAt")), modified);
  modified = Str(At(second, "metadata.modifiedAt"));

  wait_past(modified);
  ASSERT_EQ(
      Call("PATCH", t.Item("moving"), t.rw, R"([{"op":"ADD","path":"/name","value":"m3"}])").status,
      204);
  json::value third = Read(t, "moving");
  EXPECT_EQ(Str(At(third, "metadata.createdAt")), created);
  EXPECT_GT(Str(At(third, "metadata.modifiedAt")), modified);
}

TEST_P(ResourceTest, BodyIdMustEqualPathId) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  json::object body{{"id", "other"}, {"name", "n"}, {"value", value}};
  ExpectBadRequest(Call("PUT", t.Item("mine"), t.rw, Serialize(body)));
  ExpectNotFound(Call("GET", t.Item("mine"), t.rw), "mine");
  ExpectNotFound(Call("GET", t.Item("other"), t.rw), "other");

  body["id"] = 42;
  ExpectBadRequest(Call("PUT", t.Item("mine"), t.rw, Serialize(body)));

  body["id"] = "mine";
  EXPECT_EQ(Call("PUT", t.Item("mine"), t.rw, Serialize(body)).status, 201);
  // On update, too.
  ExpectBadRequest(Call("PUT", t.Item("mine"), t.rw, R"({"id":"MINE","name":"n2"})"));
  EXPECT_EQ(VersionOf(t, "mine"), 1);
  EXPECT_EQ(Call("PUT", t.Item("mine"), t.rw, R"({"id":"mine","name":"n2"})").status, 204);
}

TEST_P(ResourceTest, WhatWasReadCanBeSentBack) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "roundtrip", "round", value));
  json::object token = Read(t, "roundtrip");
  const std::string created_at = Str(At(token, "metadata.createdAt"));

  // As read, plus the value: 204.
  json::object with_value = token;
  with_value["value"] = value;
  HttpResponse r = Call("PUT", t.Item("roundtrip"), t.rw, Serialize(with_value));
  EXPECT_EQ(r.status, 204) << r.Dump();

  // As read (fresh version), without the value: 204.
  json::object again = Read(t, "roundtrip");
  r = Call("PUT", t.Item("roundtrip"), t.rw, Serialize(again));
  EXPECT_EQ(r.status, 204) << r.Dump();

  // Read-only timestamps are ignored, whatever they say.
  json::object forged = Read(t, "roundtrip");
  forged["metadata"] = json::object{{"version", At(forged, "metadata.version")},
                                    {"createdAt", "2000-01-01T00:00:00.000Z"},
                                    {"modifiedAt", "2000-01-01T00:00:00.000Z"}};
  r = Call("PUT", t.Item("roundtrip"), t.rw, Serialize(forged));
  EXPECT_EQ(r.status, 204) << r.Dump();
  json::object final_token = Read(t, "roundtrip");
  EXPECT_EQ(Str(At(final_token, "metadata.createdAt")), created_at);
  EXPECT_NE(Str(At(final_token, "metadata.modifiedAt")), "2000-01-01T00:00:00.000Z");
  EXPECT_EQ(Int(At(final_token, "metadata.version")), 4);
}

TEST_P(ResourceTest, UnknownFieldIsRejectedAndNamed) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  json::object body{{"name", "n"}, {"value", value}, {"colour", "red"}};
  HttpResponse r = Call("PUT", t.Item("unknown"), t.rw, Serialize(body));
  ExpectBadRequest(r);
  EXPECT_TRUE(ErrorMentions(r, "colour")) << "the 400 names the field: " << r.body;
  ExpectNotFound(Call("GET", t.Item("unknown"), t.rw), "unknown");

  ASSERT_TRUE(Create(t, "known", "n", value));
  r = Call("PUT", t.Item("known"), t.rw, R"({"name":"n2","enabled":true})");
  ExpectBadRequest(r);
  EXPECT_TRUE(ErrorMentions(r, "enabled")) << r.body;
  // Inside metadata, only the known read-only fields are ignored.
  r = Call("PUT", t.Item("known"), t.rw, R"({"name":"n2","metadata":{"colour":1}})");
  ExpectBadRequest(r);
  EXPECT_TRUE(ErrorMentions(r, "colour")) << r.body;
  EXPECT_EQ(VersionOf(t, "known"), 1);
}

TEST_P(ResourceTest, MetadataVersionMustBeAnIntegerOfAtLeastOne) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "versioned", "n", value));
  for (const std::string version : {"0", "-1", "\"1\"", "1.5", "true", "[1]", "{}", "1e300",
                                    "99999999999999999999999", "-99999999999999999999999"}) {
    SCOPED_TRACE(version);
    ExpectBadRequest(Call("PUT", t.Item("versioned"), t.rw,
                          R"({"name":"n2","metadata":{"version":)" + version + "}}"));
  }
  for (const std::string metadata : {"5", "\"x\"", "[]", "true"}) {
    SCOPED_TRACE(metadata);
    ExpectBadRequest(
        Call("PUT", t.Item("versioned"), t.rw, R"({"name":"n2","metadata":)" + metadata + "}"));
  }
  json::object token = Read(t, "versioned");
  EXPECT_EQ(Str(token["name"]), "n");
  EXPECT_EQ(Int(At(token, "metadata.version")), 1);
}

}  // namespace
}  // namespace bb
