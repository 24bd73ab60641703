#include "common/periodic_task.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace ts {
namespace {

TEST(PeriodicTaskTest, CallsTheFunctionRepeatedlyOnceStarted) {
  std::mutex mu;
  std::condition_variable called;
  int calls = 0;
  PeriodicTask task(std::chrono::milliseconds(1), [&] {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    called.notify_all();
  });
  task.Start();
  task.Start();  // idempotent
  std::unique_lock<std::mutex> lock(mu);
  // Waits for three calls, however long the machine takes (the test's own timeout bounds it).
  called.wait(lock, [&] { return calls >= 3; });
  EXPECT_GE(calls, 3);
}

TEST(PeriodicTaskTest, NeverCallsWithoutStartAndDestructionDoesNotWaitForTheInterval) {
  std::atomic<int> calls{0};
  const auto before = std::chrono::steady_clock::now();
  {
    PeriodicTask idle(std::chrono::hours(1), [&] { ++calls; });
    PeriodicTask started(std::chrono::hours(1), [&] { ++calls; });
    started.Start();
  }
  EXPECT_EQ(calls.load(), 0);
  // Destroying a started task wakes its thread: far less than the hour-long interval.
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::minutes(10));
}

}  // namespace
}  // namespace ts
