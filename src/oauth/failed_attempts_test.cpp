#include "oauth/failed_attempts.h"

#include <gtest/gtest.h>

namespace ts::oauth {
namespace {

FailedAttemptPolicy Policy() {
  FailedAttemptPolicy p;
  p.failures_before_lockout = 3;
  p.first_lockout = std::chrono::seconds(10);
  p.max_lockout = std::chrono::seconds(60);
  p.window = std::chrono::seconds(300);
  p.max_unknown_entries = 4;
  return p;
}

class FailedAttemptsTest : public ::testing::Test {
 protected:
  void Fail(const std::string& client_id, int times = 1) {
    for (int i = 0; i < times; ++i) attempts_.RecordFailure(client_id);
  }
  std::int64_t RetryAfter(const std::string& client_id) {
    return attempts_.RetryAfterSeconds(client_id);
  }

  FakeClock clock_{1'700'000'000'000};
  FailedAttempts attempts_{clock_, {"known", "other"}, Policy()};
};

TEST_F(FailedAttemptsTest, LocksOutAfterTheAllowedFailuresAndDoublesUpToTheMaximum) {
  Fail("known", 2);
  EXPECT_EQ(RetryAfter("known"), 0);
  Fail("known");
  EXPECT_EQ(RetryAfter("known"), 10);
  clock_.Advance(9'500);
  EXPECT_EQ(RetryAfter("known"), 1);  // rounded up
  clock_.Advance(500);
  EXPECT_EQ(RetryAfter("known"), 0);
  for (std::int64_t expected : {20, 40, 60, 60}) {  // doubling, capped at max_lockout
    Fail("known");
    EXPECT_EQ(RetryAfter("known"), expected);
    clock_.Advance(expected * 1000);
  }
}

TEST_F(FailedAttemptsTest, ChangingTheKnownClientsNeverUnlocksOne) {
  Fail("known", 3);
  Fail("newcomer", 3);  // not configured yet: counted among the unknown ids
  ASSERT_EQ(RetryAfter("known"), 10);
  ASSERT_EQ(RetryAfter("newcomer"), 10);
  attempts_.SetKnownClients({"newcomer", "other"});  // "known" removed, "newcomer" added
  EXPECT_EQ(RetryAfter("known"), 10);
  EXPECT_EQ(RetryAfter("newcomer"), 10);
  EXPECT_EQ(attempts_.UnknownEntries(), 1u);  // "known" moved over, "newcomer" moved out
  attempts_.SetKnownClients({"known", "other"});
  EXPECT_EQ(RetryAfter("known"), 10);
  EXPECT_EQ(RetryAfter("newcomer"), 10);
  // A success clears only configured ids, as before.
  attempts_.RecordSuccess("known");
  EXPECT_EQ(RetryAfter("known"), 0);
}

TEST_F(FailedAttemptsTest, ClientsAreCountedSeparately) {
  Fail("known", 3);
  EXPECT_GT(RetryAfter("known"), 0);
  EXPECT_EQ(RetryAfter("other"), 0);
}

TEST_F(FailedAttemptsTest, SuccessClearsTheCount) {
  Fail("known", 2);
  attempts_.RecordSuccess("known");
  Fail("known", 2);
  EXPECT_EQ(RetryAfter("known"), 0);
}

TEST_F(FailedAttemptsTest, FailuresAreForgottenAfterTheWindow) {
  Fail("known", 2);
  clock_.Advance(300'001);
  Fail("known");
  EXPECT_EQ(RetryAfter("known"), 0);
}

TEST_F(FailedAttemptsTest, UnknownClientIdsAreLockedOutLikeKnownOnes) {
  for (int i = 0; i < 3; ++i) {
    Fail("known");
    Fail("ghost");
  }
  EXPECT_EQ(RetryAfter("ghost"), RetryAfter("known"));
  EXPECT_EQ(RetryAfter("ghost"), 10);
}

TEST_F(FailedAttemptsTest, UnknownClientIdsUseBoundedMemory) {
  for (int i = 0; i < 1000; ++i) {
    Fail("ghost-" + std::to_string(i));
    EXPECT_LE(attempts_.UnknownEntries(), 4u);
  }
  // Configured clients keep their count whatever unknown ids do.
  Fail("known", 3);
  for (int i = 0; i < 100; ++i) Fail("flood-" + std::to_string(i));
  EXPECT_EQ(RetryAfter("known"), 10);
}

TEST_F(FailedAttemptsTest, AFullMapDropsForgottenUnknownEntriesFirst) {
  for (int i = 0; i < 3; ++i) Fail("old-" + std::to_string(i));
  clock_.Advance(300'001);  // the old failures are forgotten
  Fail("recent", 3);
  ASSERT_EQ(attempts_.UnknownEntries(), 4u);  // full
  Fail("new");
  EXPECT_EQ(attempts_.UnknownEntries(), 2u);  // "recent" and "new"
  EXPECT_EQ(RetryAfter("recent"), 10);        // its lock-out survives
}

}  // namespace
}  // namespace ts::oauth
