#include "service/token_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "service/service_test_support.h"

namespace ts::service {
namespace {

class TokenServiceTest : public ServiceTest {
 protected:
  UpsertCommand Command(std::string id, std::string name, std::optional<std::string> value) {
    UpsertCommand c;
    c.id = std::move(id);
    c.name = std::move(name);
    if (value) c.value.emplace(*value);
    return c;
  }
};

TEST_F(TokenServiceTest, CreateThenUpdate) {
  auto created = tokens_->Upsert(caller_, Command("t1", "First", "sk-1"));
  ASSERT_TRUE(created.result.ok());
  EXPECT_TRUE(created.result->created);
  EXPECT_EQ(created.result->version, 1);
  clock_.Advance(1000);
  auto updated = tokens_->Upsert(caller_, Command("t1", "Second", std::nullopt));
  ASSERT_TRUE(updated.result.ok());
  EXPECT_FALSE(updated.result->created);
  EXPECT_EQ(updated.result->version, 2);
  auto token = tokens_->Get("acme", "t1");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->name, "Second");
  EXPECT_EQ(token->metadata.version, 2);
  EXPECT_EQ(token->metadata.created_at_ms, 1764387000000);
  EXPECT_EQ(token->metadata.modified_at_ms, 1764387001000);
}

TEST_F(TokenServiceTest, CreateRequiresValue) {
  auto r = tokens_->Upsert(caller_, Command("t1", "n", std::nullopt));
  ASSERT_FALSE(r.result.ok());
  EXPECT_EQ(r.result.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(TokenServiceTest, VersionOnAbsentTokenIsNotFound) {
  auto c = Command("t1", "n", "v");
  c.expected_version = 1;
  auto r = tokens_->Upsert(caller_, std::move(c));
  ASSERT_FALSE(r.result.ok());
  EXPECT_EQ(r.result.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.result.error().resource_id, "t1");
}

TEST_F(TokenServiceTest, IfMatchOnAbsentTokenFailsPrecondition) {
  auto c = Command("t1", "n", "v");
  c.if_match = Precondition{true, {}};
  auto r = tokens_->Upsert(caller_, std::move(c));
  ASSERT_FALSE(r.result.ok());
  EXPECT_EQ(r.result.error().code, ErrorCode::kPreconditionFailed);
}

TEST_F(TokenServiceTest, StaleVersionConflicts) {
  ASSERT_TRUE(tokens_->Upsert(caller_, Command("t1", "n", "v")).result.ok());
  auto c = Command("t1", "m", std::nullopt);
  c.expected_version = 7;
  auto r = tokens_->Upsert(caller_, std::move(c));
  ASSERT_FALSE(r.result.ok());
  EXPECT_EQ(r.result.error().code, ErrorCode::kConflict);
  auto ok = Command("t1", "m", std::nullopt);
  ok.expected_version = 1;
  EXPECT_TRUE(tokens_->Upsert(caller_, std::move(ok)).result.ok());
}

TEST_F(TokenServiceTest, SameValueIsAcceptedDifferentValueIsRejectedAndAudited) {
  ASSERT_TRUE(tokens_->Upsert(caller_, Command("t1", "n", "sk-same")).result.ok());
  auto same = tokens_->Upsert(caller_, Command("t1", "n", "sk-same"));
  ASSERT_TRUE(same.result.ok());
  EXPECT_EQ(same.result->version, 2);
  auto different = tokens_->Upsert(caller_, Command("t1", "n", "sk-other"));
  ASSERT_FALSE(different.result.ok());
  EXPECT_EQ(different.result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(tokens_->Get("acme", "t1")->metadata.version, 2);
  bool audited = false;
  for (const auto& line : audit_.lines) {
    audited = audited || line == "token.value_mismatch t1 rejected";
    EXPECT_EQ(line.find("sk-"), std::string::npos);
  }
  EXPECT_TRUE(audited);
}

TEST_F(TokenServiceTest, RepeatedMismatchesAreSlowedDown) {
  ASSERT_TRUE(tokens_->Upsert(caller_, Command("t1", "n", "sk-same")).result.ok());
  std::chrono::milliseconds last{0};
  for (int i = 0; i < 6; ++i) {
    auto r = tokens_->Upsert(caller_, Command("t1", "n", "guess" + std::to_string(i)));
    ASSERT_FALSE(r.result.ok());
    last = r.delay;
  }
  EXPECT_GT(last.count(), 0);
  Caller other{"acme", "bob", "req-2"};
  EXPECT_EQ(tokens_->Upsert(other, Command("t1", "n", "guess")).delay.count(), 0);
}

TEST_F(TokenServiceTest, PatchValidatesBeforeLookingUp) {
  domain::PatchOperation bad;
  bad.op = domain::PatchOperation::Op::kReplace;
  bad.path = "/value";
  bad.has_value = bad.value_is_string = true;
  bad.string_value = "x";
  auto r = tokens_->Patch(caller_, "absent", {bad}, std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  domain::PatchOperation good = bad;
  good.path = "/name";
  auto missing = tokens_->Patch(caller_, "absent", {good}, std::nullopt);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(TokenServiceTest, PatchBumpsVersion) {
  ASSERT_TRUE(tokens_->Upsert(caller_, Command("t1", "n", "v")).result.ok());
  domain::PatchOperation op;
  op.path = "/name";
  op.has_value = op.value_is_string = true;
  op.string_value = "renamed";
  auto r = tokens_->Patch(caller_, "t1", {op}, std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->version, 2);
  EXPECT_EQ(tokens_->Get("acme", "t1")->name, "renamed");
  auto stale = tokens_->Patch(caller_, "t1", {op}, Precondition{false, {1}});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kPreconditionFailed);
}

TEST_F(TokenServiceTest, DeleteIsIdempotentAndHonoursIfMatch) {
  EXPECT_TRUE(tokens_->Delete(caller_, "absent", false, std::nullopt).ok());
  ASSERT_TRUE(tokens_->Upsert(caller_, Command("t1", "n", "v")).result.ok());
  auto mismatch = tokens_->Delete(caller_, "t1", false, Precondition{false, {5}});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, ErrorCode::kPreconditionFailed);
  EXPECT_TRUE(tokens_->Delete(caller_, "t1", false, Precondition{false, {1}}).ok());
  EXPECT_EQ(tokens_->Get("acme", "t1").error().code, ErrorCode::kNotFound);
  auto gone = tokens_->Delete(caller_, "t1", true, Precondition{true, {}});
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kPreconditionFailed);
}

TEST_F(TokenServiceTest, TenantsAreIsolated) {
  ASSERT_TRUE(tokens_->Upsert(caller_, Command("t1", "n", "v")).result.ok());
  EXPECT_EQ(tokens_->Get("other", "t1").error().code, ErrorCode::kNotFound);
}

TEST_F(TokenServiceTest, RacingWritersWithOneVersionHaveOneWinner) {
  ASSERT_TRUE(tokens_->Upsert(caller_, Command("t1", "n", "v")).result.ok());
  std::atomic<int> wins{0}, conflicts{0}, others{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      auto c = Command("t1", "writer" + std::to_string(i), std::nullopt);
      c.expected_version = 1;
      auto r = tokens_->Upsert(caller_, std::move(c));
      if (r.result.ok()) {
        ++wins;
      } else if (r.result.error().code == ErrorCode::kConflict) {
        ++conflicts;
      } else {
        ++others;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(conflicts.load(), 19);
  EXPECT_EQ(others.load(), 0);
  EXPECT_EQ(tokens_->Get("acme", "t1")->metadata.version, 2);
}

}  // namespace
}  // namespace ts::service
