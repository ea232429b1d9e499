// The simulator's helper threads. A simulation round (simulator.h) hands every member's engine
// work for one virtual millisecond to `threads` parts that run at once, one on the calling
// thread and the others here, and returns when all are done. Each part touches only the
// members it owns, so the parts need no locks; this class is only the start and finish line.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace constellation::sim {

class RoundWorkers {
 public:
  // `threads` parts per round: the caller's thread plus threads - 1 started here.
  explicit RoundWorkers(unsigned threads);
  // Stops and joins the threads.
  ~RoundWorkers();
  RoundWorkers(const RoundWorkers&) = delete;
  RoundWorkers& operator=(const RoundWorkers&) = delete;

  unsigned threads() const { return static_cast<unsigned>(workers_.size()) + 1; }

  // Runs part(0) here and part(1 .. threads - 1) on the workers; returns when every part has
  // returned. An exception thrown by a part is rethrown here.
  void run(const std::function<void(unsigned)>& part);

 private:
  void work(unsigned index);

  // Rounds come back to back (thousands per virtual second), far faster than a thread wakes
  // from a condition variable (tens of microseconds here), so both sides spin a little before
  // they sleep. The generation starts a round; `running_` counts parts still busy.
  std::atomic<uint64_t> generation_{0};
  std::atomic<unsigned> running_{0};
  std::atomic<unsigned> sleepers_{0};  // workers blocked on start_
  std::atomic<bool> caller_asleep_{false};
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  const std::function<void(unsigned)>* part_ = nullptr;  // published by generation_
  std::exception_ptr failure_;                           // guarded by mutex_
  std::vector<std::thread> workers_;
};

}  // namespace constellation::sim
