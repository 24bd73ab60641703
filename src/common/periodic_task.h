// PeriodicTask: calls a function every `interval` on a thread of its own, from Start until the
// task is destroyed. Destruction wakes the thread at once and waits for a call in progress, so
// nothing the function uses may be destroyed before the task. Used by the watchers that follow
// files other processes change (the master key file, the OAuth clients file).
// Thread-safe: Start may be called from any thread, any number of times.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace ts {

class PeriodicTask {
 public:
  PeriodicTask(std::chrono::milliseconds interval, std::function<void()> task);
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // Starts the thread; the first call comes one interval later. Idempotent.
  void Start();

 private:
  void Run();

  const std::chrono::milliseconds interval_;
  const std::function<void()> task_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace ts
