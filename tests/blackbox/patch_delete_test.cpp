// Contract sections "Partial update (PATCH /{tokenId})" and "Delete".
#include "blackbox/contract_fixture.h"

namespace bb {
namespace {
namespace json = boost::json;

BB_CONTRACT_SUITE(PatchTest);
BB_CONTRACT_SUITE(DeleteTest);

std::string Op(const std::string& op, const std::string& path, const json::value& value) {
  return json::serialize(json::object{{"op", op}, {"path", path}, {"value", value}});
}
std::string Op(const std::string& op, const std::string& path, const std::string& value) {
  return Op(op, path, json::value(json::string(value)));
}
std::string Op(const std::string& op, const std::string& path, const char* value) {
  return Op(op, path, json::value(json::string(value)));
}

std::string Ops(const std::vector<std::string>& ops) {
  std::string out = "[";
  for (std::size_t i = 0; i < ops.size(); ++i) out += (i == 0 ? "" : ",") + ops[i];
  return out + "]";
}

// --- PATCH ------------------------------------------------------------------------------

TEST_P(PatchTest, ReplaceAndAddSetTheNameAndBumpTheVersion) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "p", "start", value));
  HttpResponse r = Call("PATCH", t.Item("p"), t.rw, Ops({Op("REPLACE", "/name", "replaced")}));
  EXPECT_EQ(r.status, 204) << r.Dump();
  EXPECT_TRUE(r.body.empty()) << r.body;
  json::value token = Read(t, "p");
  EXPECT_EQ(Str(At(token, "name")), "replaced");
  EXPECT_EQ(Int(At(token, "metadata.version")), 2);

  EXPECT_EQ(Call("PATCH", t.Item("p"), t.rw, Ops({Op("ADD", "/name", "added")})).status, 204);
  token = Read(t, "p");
  EXPECT_EQ(Str(At(token, "name")), "added");
  EXPECT_EQ(Int(At(token, "metadata.version")), 3);
  // The value is untouched: the original is still accepted.
  EXPECT_EQ(Call("PUT", t.Item("p"), t.rw, TokenBody("added", value)).status, 204);
}

TEST_P(PatchTest, OpIsCaseInsensitive) {
  Tenant t = NewTenant();
  ASSERT_TRUE(Create(t, "p", "start", NewValue()));
  std::int64_t version = 1;
  for (const std::string op : {"add", "Replace", "rEpLaCe", "replace", "Add"}) {
    SCOPED_TRACE(op);
    EXPECT_EQ(Call("PATCH", t.Item("p"), t.rw, Ops({Op(op, "/name", "via " + op)})).status, 204);
    ++version;
    json::value token = Read(t, "p");
    EXPECT_EQ(Str(At(token, "name")), "via " + op);
    EXPECT_EQ(Int(At(token, "metadata.version")), version);
  }
}

TEST_P(PatchTest, OperationsApplyInOrder) {
  Tenant t = NewTenant();
  ASSERT_TRUE(Create(t, "p", "start", NewValue()));
  EXPECT_EQ(Call("PATCH", t.Item("p"), t.rw,
                 Ops({Op("REPLACE", "/name", "first"), Op("ADD", "/name", "second"),
                      Op("replace", "/name", "third")}))
                .status,
            204);
  json::value token = Read(t, "p");
  EXPECT_EQ(Str(At(token, "name")), "third");
  EXPECT_EQ(Int(At(token, "metadata.version")), 2) << "one PATCH is one write";
}

TEST_P(PatchTest, OneTo200Operations) {
  Tenant t = NewTenant();
  ASSERT_TRUE(Create(t, "p", "start", NewValue()));
  ExpectBadRequest(Call("PATCH", t.Item("p"), t.rw, "[]"));
  std::vector<std::string> ops;
  for (int i = 0; i < 200; ++i) ops.push_back(Op("REPLACE", "/name", "n" + std::to_string(i)));
  EXPECT_EQ(Call("PATCH", t.Item("p"), t.rw, Ops(ops)).status, 204);
  EXPECT_EQ(Str(Read(t, "p")["name"]), "n199");
  ops.push_back(Op("REPLACE", "/name", "n200"));
  ExpectBadRequest(Call("PATCH", t.Item("p"), t.rw, Ops(ops)));
  json::value token = Read(t, "p");
  EXPECT_EQ(Str(At(token, "name")), "n199");
  EXPECT_EQ(Int(At(token, "metadata.version")), 2);
}

TEST_P(PatchTest, OnlyNameIsWritable) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  const std::string other_value = NewValue();
  ASSERT_TRUE(Create(t, "p", "start", value));
  const std::vector<std::string> invalid = {
      json::serialize(json::object{{"op", "REMOVE"}, {"path", "/name"}}),
      Op("REMOVE", "/name", "x"),
      Op("REPLACE", "/name", ""),
      Op("REPLACE", "/name", "   "),
      Op("ADD", "/name", " \t "),
      Op("REPLACE", "/name", Repeat("n", 256)),
      Op("REPLACE", "/name", 42),
      Op("REPLACE", "/name", json::value(nullptr)),
      Op("REPLACE", "/name", json::object{{"en", "x"}}),
      json::serialize(json::object{{"op", "REPLACE"}, {"path", "/name"}}),
      Op("REPLACE", "/value", other_value),
      Op("ADD", "/value", other_value),
      Op("REPLACE", "/value", value),
      json::serialize(json::object{{"op", "REMOVE"}, {"path", "/value"}}),
      Op("REPLACE", "/id", "other"),
      Op("REPLACE", "/metadata/version", 9),
      Op("REPLACE", "/metadata", json::object{{"version", 9}}),
      Op("REPLACE", "/metadata/createdAt", "2000-01-01T00:00:00.000Z"),
      Op("REPLACE", "/metadata/modifiedAt", "2000-01-01T00:00:00.000Z"),
      Op("ADD", "/colour", "red"),
      Op("REPLACE", "/name/first", "x"),
      Op("REPLACE", "name", "x"),
      Op("REPLACE", "", "x"),
      Op("REPLACE", "/", "x"),
      Op("REPLACE", "/NAME", "x"),
      Op("MOVE", "/name", "x"),
      Op("COPY", "/name", "x"),
      Op("TEST", "/name", "start"),
      json::serialize(json::object{{"op", 1}, {"path", "/name"}, {"value", "x"}}),
      json::serialize(json::object{{"path", "/name"}, {"value", "x"}}),
      json::serialize(json::object{{"op", "REPLACE"}, {"path", 5}, {"value", "x"}}),
      json::serialize(json::object{{"op", "REPLACE"}, {"value", "x"}}),
      "null",
      "1",
      "\"REPLACE\"",
      "[]",
  };
  for (const std::string& op : invalid) {
    SCOPED_TRACE(op);
    ExpectBadRequest(Call("PATCH", t.Item("p"), t.rw, Ops({op})));
  }
  json::value token = Read(t, "p");
  EXPECT_EQ(Str(At(token, "name")), "start");
  EXPECT_EQ(Int(At(token, "metadata.version")), 1);
  // The value was never changed: the original is still the one accepted.
  EXPECT_EQ(Call("PUT", t.Item("p"), t.rw, TokenBody("start", value)).status, 204);
}

TEST_P(PatchTest, AllOperationsApplyOrNone) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "p", "start", value));
  const std::string modified = Str(At(Read(t, "p"), "metadata.modifiedAt"));
  for (const std::string& bad : {Op("REPLACE", "/value", NewValue()), Op("REMOVE", "/name", ""),
                                 Op("REPLACE", "/name", ""), Op("ADD", "/colour", "x")}) {
    SCOPED_TRACE(bad);
    ExpectBadRequest(
        Call("PATCH", t.Item("p"), t.rw, Ops({Op("REPLACE", "/name", "half-applied"), bad})));
    ExpectBadRequest(
        Call("PATCH", t.Item("p"), t.rw, Ops({bad, Op("REPLACE", "/name", "half-applied")})));
  }
  json::value token = Read(t, "p");
  EXPECT_EQ(Str(At(token, "name")), "start");
  EXPECT_EQ(Int(At(token, "metadata.version")), 1);
  EXPECT_EQ(Str(At(token, "metadata.modifiedAt")), modified) << "no write happened";
}

TEST_P(PatchTest, AbsentTokenIs404) {
  Tenant t = NewTenant();
  ExpectNotFound(Call("PATCH", t.Item("absent"), t.rw, Ops({Op("REPLACE", "/name", "x")})),
                 "absent");
  ExpectNotFound(Call("GET", t.Item("absent"), t.rw), "absent");
}

TEST_P(PatchTest, BodyMustBeAnArray) {
  Tenant t = NewTenant();
  ASSERT_TRUE(Create(t, "p", "start", NewValue()));
  for (const std::string body :
       {R"({"op":"REPLACE","path":"/name","value":"x"})", R"({})", R"("x")", "1", "null", "true",
        "", "not json", R"([{"op":"REPLACE","path":"/name","value":"x"})"}) {
    SCOPED_TRACE(body);
    ExpectBadRequest(Call("PATCH", t.Item("p"), t.rw, body));
  }
  EXPECT_EQ(VersionOf(t, "p"), 1);
}

// --- DELETE -----------------------------------------------------------------------------

TEST_P(DeleteTest, DeletesAnExistingToken) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  ASSERT_TRUE(Create(t, "doomed", "n", value));
  ASSERT_TRUE(Create(t, "kept", "n", value));
  HttpResponse r = Call("DELETE", t.Item("doomed"), t.rw);
  EXPECT_EQ(r.status, 204) << r.Dump();
  EXPECT_TRUE(r.body.empty()) << r.body;
  ExpectNotFound(Call("GET", t.Item("doomed"), t.rw), "doomed");
  EXPECT_EQ(Ids(List(t)), (std::vector<std::string>{"kept"}));
  // Re-created afresh: version 1, a new value is fine.
  const std::string new_value = NewValue();
  ASSERT_TRUE(Create(t, "doomed", "again", new_value));
  EXPECT_EQ(VersionOf(t, "doomed"), 1);
}

TEST_P(DeleteTest, DeleteIsIdempotent) {
  Tenant t = NewTenant();
  ASSERT_TRUE(Create(t, "twice", "n", NewValue()));
  EXPECT_EQ(Call("DELETE", t.Item("twice"), t.rw).status, 204);
  EXPECT_EQ(Call("DELETE", t.Item("twice"), t.rw).status, 204);
  EXPECT_EQ(Call("DELETE", t.Item("never-existed"), t.rw).status, 204);
}

TEST_P(DeleteTest, ForceIsTrueOrFalseCaseInsensitive) {
  Tenant t = NewTenant();
  const std::string value = NewValue();
  int n = 0;
  for (const std::string force : {"true", "false", "TRUE", "False", "tRuE"}) {
    SCOPED_TRACE(force);
    const std::string id = "f" + std::to_string(n++);
    ASSERT_TRUE(Create(t, id, "n", value));
    EXPECT_EQ(Call("DELETE", t.Item(id) + "?force=" + force, t.rw).status, 204);
    ExpectNotFound(Call("GET", t.Item(id), t.rw), id);
    EXPECT_EQ(Call("DELETE", t.Item("absent") + "?force=" + force, t.rw).status, 204);
  }
  ASSERT_TRUE(Create(t, "stays", "n", value));
  for (const std::string force : {"yes", "1", "0", "no", "", "truee", "%20true"}) {
    SCOPED_TRACE("force=" + force);
    ExpectBadRequest(Call("DELETE", t.Item("stays") + "?force=" + force, t.rw));
  }
  EXPECT_EQ(Call("GET", t.Item("stays"), t.rw).status, 200) << "a rejected delete deletes nothing";
}

}  // namespace
}  // namespace bb
