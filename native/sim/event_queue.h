// The simulator's agenda: timed events popped in (time, insertion order) order. The insertion
// counter breaks ties, so two events due in the same millisecond always run in the order they
// were scheduled — no dependence on heap layout, which is what keeps runs byte-for-byte
// reproducible.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "sim/sim_time.h"

namespace constellation::sim {

template <typename Payload>
class EventQueue {
 public:
  struct Entry {
    TimeMs at = 0;
    uint64_t seq = 0;
    Payload payload;
  };

  void push(TimeMs at, Payload payload) {
    heap_.push_back(Entry{at, next_seq_++, std::move(payload)});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }

  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  TimeMs next_time() const { return heap_.empty() ? kNever : heap_.front().at; }

  // Removes and returns the earliest entry. The queue must not be empty.
  Entry pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    Entry entry = std::move(heap_.back());
    heap_.pop_back();
    return entry;
  }

 private:
  // std heap functions build a max-heap; "later" as the ordering puts the earliest on top.
  static bool later(const Entry& a, const Entry& b) {
    return a.at != b.at ? a.at > b.at : a.seq > b.seq;
  }

  std::vector<Entry> heap_;
  uint64_t next_seq_ = 0;
};

}  // namespace constellation::sim
