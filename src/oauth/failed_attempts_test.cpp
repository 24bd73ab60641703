#include "oauth/failed_attempts.h"

#include <gtest/gtest.h>

namespace ts::oauth {
namespace {

constexpr std::int64_t kStart = 1'700'000'000'000;

FailedAttemptPolicy Policy() {
  FailedAttemptPolicy p;
  p.failures_before_lockout = 3;
  p.first_lockout = std::chrono::seconds(10);
  p.max_lockout = std::chrono::seconds(60);
  p.window = std::chrono::seconds(300);
  p.max_unknown_entries = 4;
  return p;
}

TEST(FailedAttemptsTest, LocksOutAfterTheAllowedFailuresAndDoublesUpToTheMaximum) {
  FakeClock clock(kStart);
  FailedAttempts attempts(clock, {"known"}, Policy());
  attempts.RecordFailure("known");
  attempts.RecordFailure("known");
  EXPECT_EQ(attempts.RetryAfterSeconds("known"), 0);
  attempts.RecordFailure("known");
  EXPECT_EQ(attempts.RetryAfterSeconds("known"), 10);
  clock.Advance(9'500);
  EXPECT_EQ(attempts.RetryAfterSeconds("known"), 1);  // rounded up
  clock.Advance(500);
  EXPECT_EQ(attempts.RetryAfterSeconds("known"), 0);
  attempts.RecordFailure("known");
  EXPECT_EQ(attempts.RetryAfterSeconds("known"), 20);
  clock.Advance(20'000);
  attempts.RecordFailure("known");
  EXPECT_EQ(attempts.RetryAfterSeconds("known"), 40);
  clock.Advance(40'000);
  attempts.RecordFailure("known");
  EXPECT_EQ(attempts.RetryAfterSeconds("known"), 60);  // capped
  clock.Advance(60'000);
  attempts.RecordFailure("known");
  EXPECT_EQ(attempts.RetryAfterSeconds("known"), 60);
}

TEST(FailedAttemptsTest, ClientsAreCountedSeparately) {
  FakeClock clock(kStart);
  FailedAttempts attempts(clock, {"a", "b"}, Policy());
  for (int i = 0; i < 3; ++i) attempts.RecordFailure("a");
  EXPECT_GT(attempts.RetryAfterSeconds("a"), 0);
  EXPECT_EQ(attempts.RetryAfterSeconds("b"), 0);
}

TEST(FailedAttemptsTest, SuccessClearsTheCount) {
  FakeClock clock(kStart);
  FailedAttempts attempts(clock, {"known"}, Policy());
  attempts.RecordFailure("known");
  attempts.RecordFailure("known");
  attempts.RecordSuccess("known");
  attempts.RecordFailure("known");
  attempts.RecordFailure("known");
  EXPECT_EQ(attempts.RetryAfterSeconds("known"), 0);
}

TEST(FailedAttemptsTest, FailuresAreForgottenAfterTheWindow) {
  FakeClock clock(kStart);
  FailedAttempts attempts(clock, {"known"}, Policy());
  attempts.RecordFailure("known");
  attempts.RecordFailure("known");
  clock.Advance(300'001);
  attempts.RecordFailure("known");
  EXPECT_EQ(attempts.RetryAfterSeconds("known"), 0);
}

TEST(FailedAttemptsTest, UnknownClientIdsAreLockedOutLikeKnownOnes) {
  FakeClock clock(kStart);
  FailedAttempts attempts(clock, {"known"}, Policy());
  for (int i = 0; i < 3; ++i) {
    attempts.RecordFailure("known");
    attempts.RecordFailure("ghost");
  }
  EXPECT_EQ(attempts.RetryAfterSeconds("ghost"), attempts.RetryAfterSeconds("known"));
  EXPECT_EQ(attempts.RetryAfterSeconds("ghost"), 10);
}

TEST(FailedAttemptsTest, UnknownClientIdsUseBoundedMemory) {
  FakeClock clock(kStart);
  FailedAttempts attempts(clock, {"known"}, Policy());
  for (int i = 0; i < 1000; ++i) {
    attempts.RecordFailure("ghost-" + std::to_string(i));
    EXPECT_LE(attempts.UnknownEntries(), 4u);
  }
  // Configured clients keep their count whatever unknown ids do.
  for (int i = 0; i < 3; ++i) attempts.RecordFailure("known");
  for (int i = 0; i < 100; ++i) attempts.RecordFailure("flood-" + std::to_string(i));
  EXPECT_EQ(attempts.RetryAfterSeconds("known"), 10);
}

TEST(FailedAttemptsTest, AFullMapDropsForgottenUnknownEntriesFirst) {
  FakeClock clock(kStart);
  FailedAttempts attempts(clock, {}, Policy());
  for (int i = 0; i < 3; ++i) attempts.RecordFailure("old-" + std::to_string(i));
  clock.Advance(300'001);  // the old failures are forgotten
  for (int i = 0; i < 3; ++i) attempts.RecordFailure("recent");
  ASSERT_EQ(attempts.UnknownEntries(), 4u);  // full
  attempts.RecordFailure("new");
  EXPECT_EQ(attempts.UnknownEntries(), 2u);             // "recent" and "new"
  EXPECT_EQ(attempts.RetryAfterSeconds("recent"), 10);  // its lock-out survives
}

}  // namespace
}  // namespace ts::oauth
