#include "sim/round_workers.h"

#include <utility>

namespace constellation::sim {

namespace {

// About 50-100 microseconds of spinning: longer than a round's gap, shorter than anything a
// person would notice on an idle simulation.
constexpr int kSpins = 20000;

inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

RoundWorkers::RoundWorkers(unsigned threads) {
  const unsigned extra = threads > 1 ? threads - 1 : 0;
  workers_.reserve(extra);
  for (unsigned i = 0; i < extra; ++i) workers_.emplace_back([this, i] { work(i + 1); });
}

RoundWorkers::~RoundWorkers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true);
  }
  start_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void RoundWorkers::run(const std::function<void(unsigned)>& part) {
  if (workers_.empty()) {
    part(0);
    return;
  }
  part_ = &part;
  running_.store(static_cast<unsigned>(workers_.size()));
  generation_.fetch_add(1);
  // A worker that went to sleep before seeing the new generation is woken; one that checks
  // after this load of sleepers_ sees the new generation itself (both sides are seq_cst).
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    start_.notify_all();
  }
  std::exception_ptr mine;
  try {
    part(0);
  } catch (...) {
    mine = std::current_exception();
  }
  for (int i = 0; i < kSpins && running_.load() != 0; ++i) relax();
  if (running_.load() != 0) {
    std::unique_lock<std::mutex> lock(mutex_);
    caller_asleep_.store(true);
    done_.wait(lock, [this] { return running_.load() == 0; });
    caller_asleep_.store(false);
  }
  std::exception_ptr theirs;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    theirs = std::exchange(failure_, nullptr);
  }
  part_ = nullptr;
  if (mine) std::rethrow_exception(mine);
  if (theirs) std::rethrow_exception(theirs);
}

void RoundWorkers::work(unsigned index) {
  uint64_t seen = 0;
  for (;;) {
    for (int i = 0; i < kSpins && generation_.load() == seen && !stopping_.load(); ++i) relax();
    if (generation_.load() == seen && !stopping_.load()) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1);
      start_.wait(lock, [&] { return stopping_.load() || generation_.load() != seen; });
      sleepers_.fetch_sub(1);
    }
    if (stopping_.load()) return;
    seen = generation_.load();
    try {
      (*part_)(index);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!failure_) failure_ = std::current_exception();
    }
    if (running_.fetch_sub(1) == 1 && caller_asleep_.load()) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_one();
    }
  }
}

}  // namespace constellation::sim
