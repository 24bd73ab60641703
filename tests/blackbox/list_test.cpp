// Contract section "List and search": paging, X-Total-Count, sort, fields, the search body.
#include <algorithm>
#include <set>

#include "blackbox/contract_fixture.h"

namespace bb {
namespace {
namespace json = boost::json;

BB_CONTRACT_SUITE(ListTest);

struct Row {
  std::string id;
  std::string name;
  std::int64_t version = 0;
  std::string created;
  std::string modified;
};

std::vector<Row> Rows(const json::array& tokens) {
  std::vector<Row> rows;
  for (const json::value& token : tokens) {
    rows.push_back(Row{Str(At(token, "id")), Str(At(token, "name")),
                       Int(At(token, "metadata.version")), Str(At(token, "metadata.createdAt")),
                       Str(At(token, "metadata.modifiedAt"))});
  }
  return rows;
}

// The order the contract demands: the given keys, then id ascending. Strings compare
// byte-wise (std::string compares as unsigned char); timestamps have a fixed-width format, so
// byte order is time order.
std::vector<std::string> ExpectedOrder(std::vector<Row> rows,
                                       const std::vector<std::pair<std::string, bool>>& keys) {
  auto compare_key = [](const Row& a, const Row& b, const std::string& field) -> int {
    if (field == "id") return a.id.compare(b.id);
    if (field == "name") return a.name.compare(b.name);
    if (field == "metadata.version") return a.version < b.version ? -1 : a.version > b.version;
    if (field == "metadata.createdAt") return a.created.compare(b.created);
    if (field == "metadata.modifiedAt") return a.modified.compare(b.modified);
    ADD_FAILURE() << "unknown field " << field;
    return 0;
  };
  std::sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    for (const auto& [field, descending] : keys) {
      int c = compare_key(a, b, field);
      if (c != 0) return descending ? c > 0 : c < 0;
    }
    return a.id < b.id;
  });
  std::vector<std::string> ids;
  for (const Row& r : rows) ids.push_back(r.id);
  return ids;
}

TEST_P(ListTest, EmptyTenantListsAnEmptyArray) {
  Tenant t = NewTenant();
  HttpResponse r = Call("GET", t.base, t.rw);
  ASSERT_EQ(r.status, 200) << r.Dump();
  auto type = r.Header("Content-Type");
  EXPECT_TRUE(type && type->rfind("application/json", 0) == 0);
  EXPECT_EQ(ParseBody(r), json::value(json::array{}));
  HttpResponse s = Call("POST", t.base + "/search", t.rw, std::string("{}"));
  ASSERT_EQ(s.status, 200) << s.Dump();
  EXPECT_EQ(ParseBody(s), json::value(json::array{}));
}

TEST_P(ListTest, PageSizeDefaultsTo60AndPageNumberTo1) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  std::vector<std::string> all;
  for (int i = 64; i >= 0; --i) {  // created in reverse, listed by id
    char id[16];
    std::snprintf(id, sizeof id, "p%03d", i);
    ASSERT_TRUE(Create(t, id, "paged", value));
    all.push_back(id);
  }
  std::sort(all.begin(), all.end());
  const std::vector<std::string> first60(all.begin(), all.begin() + 60);
  const std::vector<std::string> last5(all.begin() + 60, all.end());
  EXPECT_EQ(Ids(List(t)), first60);
  EXPECT_EQ(Ids(List(t, "pageNumber=1")), first60);
  EXPECT_EQ(Ids(List(t, "pageSize=60")), first60);
  EXPECT_EQ(Ids(List(t, "pageNumber=2")), last5);
  EXPECT_EQ(Ids(List(t, "pageNumber=3")), std::vector<std::string>{});
  EXPECT_EQ(Ids(List(t, "pageSize=1000")), all);
  EXPECT_EQ(Ids(List(t, "pageSize=1")), std::vector<std::string>{all[0]});
  EXPECT_EQ(Ids(List(t, "pageSize=1&pageNumber=65")), std::vector<std::string>{all[64]});
  // Search pages the same way.
  HttpResponse s = Call("POST", t.base + "/search?pageNumber=2", t.rw, std::string("{}"));
  ASSERT_EQ(s.status, 200);
  json::value page = ParseBody(s);
  ASSERT_TRUE(page.is_array());
  EXPECT_EQ(Ids(page.as_array()), last5);
}

TEST_P(ListTest, InvalidPagingIs400) {
  Tenant t = NewTenant();
  for (const std::string bad :
       {"0", "1001", "-1", "1.5", "abc", "", "0x10", "5abc", "99999999999999999999999"}) {
    SCOPED_TRACE("pageSize=" + bad);
    ExpectBadRequest(Call("GET", t.base + "?pageSize=" + UrlEncode(bad), t.rw));
    ExpectBadRequest(
        Call("POST", t.base + "/search?pageSize=" + UrlEncode(bad), t.rw, std::string("{}")));
  }
  for (const std::string bad : {"0", "-1", "1.5", "abc", "", "2x"}) {
    SCOPED_TRACE("pageNumber=" + bad);
    ExpectBadRequest(Call("GET", t.base + "?pageNumber=" + UrlEncode(bad), t.rw));
    ExpectBadRequest(
        Call("POST", t.base + "/search?pageNumber=" + UrlEncode(bad), t.rw, std::string("{}")));
  }
}

TEST_P(ListTest, TotalCountHeaderOnlyWhenAskedAndCountsAllMatches) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  for (const std::string id : {"c1", "c2", "c3", "c4", "c5"}) {
    ASSERT_TRUE(
        Create(t, id, id == std::string("c2") || id == std::string("c4") ? "even" : "odd", value));
  }
  HttpResponse plain = Call("GET", t.base + "?pageSize=2", t.rw);
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.HeaderCount("X-Total-Count"), 0) << plain.Dump();

  HttpResponse counted =
      Call("GET", t.base + "?pageSize=2", t.rw, std::nullopt, {{"X-Total-Count", "true"}});
  ASSERT_EQ(counted.status, 200);
  EXPECT_EQ(counted.Header("X-Total-Count").value_or("<absent>"), "5");
  EXPECT_EQ(ParseBody(counted), ParseBody(plain)) << "the body is the same either way";

  HttpResponse not_asked =
      Call("GET", t.base + "?pageSize=2", t.rw, std::nullopt, {{"X-Total-Count", "false"}});
  EXPECT_EQ(not_asked.HeaderCount("X-Total-Count"), 0) << not_asked.Dump();

  HttpResponse filtered = Call("GET", t.base + "?pageSize=1&q=" + UrlEncode("name:even"), t.rw,
                               std::nullopt, {{"X-Total-Count", "true"}});
  EXPECT_EQ(filtered.Header("X-Total-Count").value_or("<absent>"), "2");
  HttpResponse beyond =
      Call("GET", t.base + "?pageNumber=9", t.rw, std::nullopt, {{"X-Total-Count", "true"}});
  EXPECT_EQ(beyond.Header("X-Total-Count").value_or("<absent>"), "5");
  EXPECT_EQ(ParseBody(beyond), json::value(json::array{}));

  HttpResponse searched = Call("POST", t.base + "/search?pageSize=1", t.rw,
                               std::string(R"({"q":"name:odd"})"), {{"X-Total-Count", "true"}});
  EXPECT_EQ(searched.Header("X-Total-Count").value_or("<absent>"), "3");
  HttpResponse searched_plain =
      Call("POST", t.base + "/search?pageSize=1", t.rw, std::string(R"({"q":"name:odd"})"));
  EXPECT_EQ(searched_plain.HeaderCount("X-Total-Count"), 0);
  EXPECT_EQ(ParseBody(searched), ParseBody(searched_plain));
}

TEST_P(ListTest, DefaultOrderIsIdAscending) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  for (const std::string id : {"zulu", "alpha", "mike", "Bravo", "alpha2"}) {
    ASSERT_TRUE(Create(t, id, "same", value));
  }
  EXPECT_EQ(Ids(List(t)), (std::vector<std::string>{"Bravo", "alpha", "alpha2", "mike", "zulu"}));
}

TEST_P(ListTest, StringsSortByteWise) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  for (const std::string id : {"a", "B", "_u", "~t", "-s", "0r", ".q", "Z"}) {
    ASSERT_TRUE(Create(t, id, "n", value));
  }
  EXPECT_EQ(Ids(List(t, "sort=id")),
            (std::vector<std::string>{"-s", ".q", "0r", "B", "Z", "_u", "a", "~t"}));
  EXPECT_EQ(Ids(List(t, "sort=id:desc")),
            (std::vector<std::string>{"~t", "a", "_u", "Z", "B", "0r", ".q", "-s"}));

  Tenant u = NewTenant();
  // name → id, so the expected id order spells out the byte order of the names.
  const std::vector<std::pair<std::string, std::string>> names = {
      {"n-a", "a"}, {"n-B", "B"}, {"n-e", "\xC3\xA9"}, {"n-Z", "Z"},
      {"n-z", "z"}, {"n-_", "_"}, {"n-E", "\xC3\x89"}, {"n-aa", "aa"}};
  for (const auto& [id, name] : names) ASSERT_TRUE(Create(u, id, name, value));
  // B(42) Z(5A) _(5F) a(61) aa z(7A) É(C3 89) é(C3 A9)
  EXPECT_EQ(Ids(List(u, "sort=name")),
            (std::vector<std::string>{"n-B", "n-Z", "n-_", "n-a", "n-aa", "n-z", "n-E", "n-e"}));
}

TEST_P(ListTest, SortsByEverySortableFieldInBothDirections) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  const std::vector<std::pair<std::string, std::string>> seed = {{"m", "beta"},
                                                                 {"c", "Alpha"},
                                                                 {"x", "alpha"},
                                                                 {"a", "beta"},
                                                                 {"k", "_x"},
                                                                 {"B", "Zed"},
                                                                 {"_u",
                                                                  "\xC3\xA9"
                                                                  "clair"},
                                                                 {"z", "beta"},
                                                                 {"e", "alpha"},
                                                                 {"Q", "Zed"},
                                                                 {"h", "z"},
                                                                 {"0", "B"}};
  for (const auto& [id, name] : seed) ASSERT_TRUE(Create(t, id, name, value));
  // More writes, in an order unrelated to creation, so versions and modifiedAt differ.
  // "h" reaches version 11, so numeric and textual order of versions differ ("11" < "2").
  for (const std::string id :
       {"a", "x", "a", "z", "c", "a", "z", "0", "h", "h", "h", "h", "h", "h", "h", "h", "h", "h"}) {
    const json::array same_name{
        json::object{{"op", "REPLACE"}, {"path", "/name"}, {"value", Read(t, id)["name"]}}};
    ASSERT_EQ(Call("PATCH", t.Item(id), t.rw, Serialize(same_name)).status, 204);
  }
  const std::vector<Row> rows = Rows(List(t, "pageSize=100"));
  ASSERT_EQ(rows.size(), seed.size());
  EXPECT_EQ(VersionOf(t, "h"), 11);

  for (const std::string field :
       {"id", "name", "metadata.version", "metadata.createdAt", "metadata.modifiedAt"}) {
    for (const std::string direction : {"", ":asc", ":desc", ":DESC", ":Asc", ":dEsC"}) {
      const bool descending = Lower(direction) == ":desc";
      SCOPED_TRACE("sort=" + field + direction);
      const std::vector<std::string> expected = ExpectedOrder(rows, {{field, descending}});
      EXPECT_EQ(Ids(List(t, "sort=" + UrlEncode(field + direction))), expected);
      HttpResponse s = Call("POST", t.base + "/search?sort=" + UrlEncode(field + direction), t.rw,
                            std::string("{}"));
      ASSERT_EQ(s.status, 200) << s.Dump();
      json::value found = ParseBody(s);
      ASSERT_TRUE(found.is_array());
      EXPECT_EQ(Ids(found.as_array()), expected);
    }
  }
  // Several keys.
  EXPECT_EQ(Ids(List(t, "sort=" + UrlEncode("name,metadata.createdAt:desc"))),
            ExpectedOrder(rows, {{"name", false}, {"metadata.createdAt", true}}));
  EXPECT_EQ(Ids(List(t, "sort=" + UrlEncode("metadata.version:desc,name"))),
            ExpectedOrder(rows, {{"metadata.version", true}, {"name", false}}));
  EXPECT_EQ(Ids(List(t, "sort=" + UrlEncode("name:desc,id:desc"))),
            ExpectedOrder(rows, {{"name", true}, {"id", true}}));
  // Sorting by a field that the projection leaves out still sorts by it.
  EXPECT_EQ(Ids(List(t, "fields=id&sort=" + UrlEncode("name:desc"))),
            ExpectedOrder(rows, {{"name", true}}));
}

TEST_P(ListTest, UnknownSortFieldIs400) {
  Tenant t = NewTenant();
  for (const std::string sort : {"colour", "value", "metadata", "metadata.colour", "Name",
                                 "name:up", "name:descending", "name,colour"}) {
    SCOPED_TRACE(sort);
    ExpectBadRequest(Call("GET", t.base + "?sort=" + UrlEncode(sort), t.rw));
    ExpectBadRequest(
        Call("POST", t.base + "/search?sort=" + UrlEncode(sort), t.rw, std::string("{}")));
  }
}

TEST_P(ListTest, PagesNeverOverlapOrSkip) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  const std::vector<std::string> names = {"dup-b", "dup-a", "dup-c"};
  std::set<std::string> all;
  for (int i = 24; i >= 0; --i) {
    char id[16];
    std::snprintf(id, sizeof id, "pg%02d", (i * 7) % 25);  // scrambled creation order
    ASSERT_TRUE(Create(t, id, names[static_cast<std::size_t>(i) % names.size()], value));
    all.insert(id);
  }
  ASSERT_EQ(all.size(), 25u);
  const std::vector<Row> rows = Rows(List(t, "pageSize=1000"));
  for (const std::string sort : {"name", "name:desc", "metadata.version", "metadata.createdAt"}) {
    SCOPED_TRACE(sort);
    std::vector<std::string> concatenated;
    std::vector<std::size_t> sizes;
    for (int page = 1; page <= 5; ++page) {
      std::vector<std::string> ids = Ids(
          List(t, "pageSize=7&pageNumber=" + std::to_string(page) + "&sort=" + UrlEncode(sort)));
      sizes.push_back(ids.size());
      concatenated.insert(concatenated.end(), ids.begin(), ids.end());
    }
    EXPECT_EQ(sizes, (std::vector<std::size_t>{7, 7, 7, 4, 0}));
    const std::set<std::string> seen(concatenated.begin(), concatenated.end());
    EXPECT_EQ(seen.size(), concatenated.size()) << "a token appeared on two pages";
    EXPECT_EQ(seen, all) << "a token was skipped";
    const bool descending = sort == "name:desc";
    const std::string field = sort.substr(0, sort.find(':'));
    EXPECT_EQ(concatenated, ExpectedOrder(rows, {{field, descending}}));
  }
}

TEST_P(ListTest, FieldsProjectsTheListedFields) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "f1", "first", value));
  ASSERT_TRUE(Create(t, "f2", "second", value));

  auto each = [&](const std::string& fields, auto&& check) {
    SCOPED_TRACE("fields=" + fields);
    json::array listed = List(t, "fields=" + UrlEncode(fields));
    ASSERT_EQ(listed.size(), 2u);
    for (const json::value& token : listed) check(token);
    HttpResponse s =
        Call("POST", t.base + "/search?fields=" + UrlEncode(fields), t.rw, std::string("{}"));
    ASSERT_EQ(s.status, 200) << s.Dump();
    json::value found = ParseBody(s);
    ASSERT_TRUE(found.is_array());
    ASSERT_EQ(found.as_array().size(), 2u);
    for (const json::value& token : found.as_array()) check(token);
  };
  each("id,name", [](const json::value& token) {
    EXPECT_EQ(Keys(token), (std::vector<std::string>{"id", "name"})) << token;
  });
  each("id", [](const json::value& token) {
    EXPECT_EQ(Keys(token), (std::vector<std::string>{"id"})) << token;
  });
  each("metadata.version", [](const json::value& token) {
    EXPECT_EQ(Keys(token), (std::vector<std::string>{"metadata"})) << token;
    EXPECT_EQ(Keys(At(token, "metadata")), (std::vector<std::string>{"version"})) << token;
    EXPECT_EQ(Int(At(token, "metadata.version")), 1) << token;
  });
  each("metadata", [](const json::value& token) {
    EXPECT_EQ(Keys(token), (std::vector<std::string>{"metadata"})) << token;
    EXPECT_EQ(Keys(At(token, "metadata")),
              (std::vector<std::string>{"createdAt", "modifiedAt", "version"}))
        << token;
  });
  each("id,metadata.createdAt,metadata.modifiedAt", [](const json::value& token) {
    EXPECT_EQ(Keys(token), (std::vector<std::string>{"id", "metadata"})) << token;
    EXPECT_EQ(Keys(At(token, "metadata")), (std::vector<std::string>{"createdAt", "modifiedAt"}))
        << token;
  });
}

TEST_P(ListTest, FieldsRejectsValueAndUnknownFields) {
  Tenant t = NewTenant();
  ASSERT_TRUE(Create(t, "f1", "first", NewValue()));
  for (const std::string fields :
       {"value", "id,value", "colour", "id,colour", "metadata.colour", "Name", "metadata.value"}) {
    SCOPED_TRACE(fields);
    ExpectBadRequest(Call("GET", t.base + "?fields=" + UrlEncode(fields), t.rw));
    ExpectBadRequest(
        Call("POST", t.base + "/search?fields=" + UrlEncode(fields), t.rw, std::string("{}")));
  }
}

TEST_P(ListTest, UnknownQueryParametersAreIgnored) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  for (const std::string id : {"u1", "u2", "u3"}) ASSERT_TRUE(Create(t, id, "n", value));
  EXPECT_EQ(Ids(List(t, "foo=bar&pageSize=2&zzz=&limit=1&offset=2")),
            (std::vector<std::string>{"u1", "u2"}));
  HttpResponse s = Call("POST", t.base + "/search?unknown=1&pageSize=1", t.rw, std::string("{}"));
  ASSERT_EQ(s.status, 200);
  json::value found = ParseBody(s);
  ASSERT_TRUE(found.is_array());
  EXPECT_EQ(Ids(found.as_array()), (std::vector<std::string>{"u1"}));
}

TEST_P(ListTest, SearchBodyIsQOrEmpty) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "s1", "wanted", value));
  ASSERT_TRUE(Create(t, "s2", "other", value));
  const std::string search = t.base + "/search";
  auto ids_of = [&](const HttpResponse& r) {
    EXPECT_EQ(r.status, 200) << r.Dump();
    json::value v = ParseBody(r);
    return v.is_array() ? Ids(v.as_array()) : std::vector<std::string>{"<not an array>"};
  };
  const std::vector<std::string> everything = {"s1", "s2"};
  EXPECT_EQ(ids_of(Call("POST", search, t.rw, std::string(R"({"q":"name:wanted"})"))),
            std::vector<std::string>{"s1"});
  EXPECT_EQ(ids_of(Call("POST", search, t.rw, std::string("{}"))), everything);
  // An empty body: with Content-Type application/json, and without any Content-Type.
  EXPECT_EQ(ids_of(Call("POST", search, t.rw, std::string(""))), everything);
  EXPECT_EQ(ids_of(Call("POST", search, t.rw, std::nullopt, {{"Content-Length", "0"}})),
            everything);

  for (const std::string body :
       {R"({"x":1})", R"({"q":"name:wanted","extra":1})", R"({"query":"name:wanted"})",
        R"({"q":1})", R"({"q":null})", R"({"q":["name:wanted"]})", R"({"q":{"name":"x"}})",
        R"({"q":true})", "[]", "\"name:wanted\"", "not json", "{"}) {
    SCOPED_TRACE(body);
    ExpectBadRequest(Call("POST", search, t.rw, body));
  }
}

TEST_P(ListTest, ListQueryAndSearchBodyAgree) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "g1", "Open AI", value));
  ASSERT_TRUE(Create(t, "g2", "OpenAI", value));
  ASSERT_TRUE(Create(t, "g3", "other", value));
  for (const std::string q : {"name:OpenAI", "name:\"Open AI\"", "name:~open", "id:(g1,g3)",
                              "metadata.version:1", "name:~o id:(g2,g3)"}) {
    SCOPED_TRACE(q);
    std::vector<std::string> listed = Ids(List(t, "q=" + UrlEncode(q)));
    HttpResponse s = Call("POST", t.base + "/search", t.rw, Serialize(json::object{{"q", q}}));
    ASSERT_EQ(s.status, 200) << s.Dump();
    json::value found = ParseBody(s);
    ASSERT_TRUE(found.is_array());
    EXPECT_EQ(Ids(found.as_array()), listed);
    EXPECT_FALSE(listed.empty());
  }
}

}  // namespace
}  // namespace bb
