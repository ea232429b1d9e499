// The dissemination queue (SWIM §4.1 "infection-style dissemination", memberlist's
// TransmitLimitedQueue): every update about a member is piggybacked on outgoing packets until
// it has been sent retransmit_mult * ceil(log10(n + 1)) times. Least-sent updates go first,
// newest first among equals, and a newer update about the same member replaces the older one.
//
// The queue holds member indices, not messages: there is at most one pending update per member
// (the member's current state), built when it is sent. That makes supersession free and keeps
// the queue at 4 bytes per pending member, which matters when 10,000 engines each learn of
// 10,000 new members at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "core/member_table.h"

namespace constellation::core {

// retransmit_mult * ceil(log10(n + 1)), at least 1 and at most 255.
uint32_t retransmit_limit(uint32_t retransmit_mult, size_t members);

class BroadcastQueue {
 public:
  // Queues (or re-queues, resetting its count) the current state of `member` for
  // dissemination. Returns false if the queue is at `capacity` and the member was not queued.
  bool push(MemberTable& table, uint32_t member, size_t capacity);
  // Removes `member`'s pending update, if any.
  void cancel(MemberTable& table, uint32_t member);

  // Offers pending updates, least-sent first, to `take(member_index)`, which returns true if
  // it packed the update. Stops when `take` reports the packet full (by returning false
  // `give_up_after` times in a row) or the queue is exhausted. Each update taken counts one
  // transmission; one that reaches `limit` leaves the queue. An update is offered at most once
  // per call.
  template <class Take>
  void collect(MemberTable& table, uint32_t limit, size_t give_up_after, Take take);

  size_t pending() const { return pending_; }
  bool empty() const { return pending_ == 0; }
  // After the member table was compacted: old member index -> new index (kNoIndex: removed).
  void remap(const std::vector<uint32_t>& remap);
  size_t memory_bytes() const;

 private:
  void finish(MemberTable& table, uint32_t member);

  // buckets_[t]: members sent t times; the back is the newest. Deques, because during a join
  // storm every update passes through every bucket: a deque gives memory back as it drains,
  // where a vector would keep its high-water capacity in each of the ~20 buckets.
  std::vector<std::deque<uint32_t>> buckets_;
  std::vector<uint32_t> kept_;   // scratch for collect
  std::vector<uint32_t> moved_;  // scratch for collect
  size_t pending_ = 0;
};

template <class Take>
void BroadcastQueue::collect(MemberTable& table, uint32_t limit, size_t give_up_after, Take take) {
  if (pending_ == 0) return;
  size_t misses = 0;
  moved_.clear();
  for (size_t t = 0; t < buckets_.size() && misses < give_up_after && pending_ > 0; ++t) {
    auto& bucket = buckets_[t];
    kept_.clear();
    while (!bucket.empty() && misses < give_up_after) {
      const uint32_t index = bucket.back();
      bucket.pop_back();
      Member& m = table[index];
      // Stale entries: the update was superseded (re-queued at another count) or finished.
      if (!m.queued || m.transmits != t) continue;
      if (m.transmits >= limit) {
        finish(table, index);
        continue;
      }
      if (!take(index)) {
        ++misses;
        kept_.push_back(index);
        continue;
      }
      misses = 0;
      ++m.transmits;
      if (m.transmits >= limit) {
        finish(table, index);
      } else {
        moved_.push_back(index);
      }
    }
    // Put back what did not fit, in its original order (kept_ holds it newest first).
    bucket.insert(bucket.end(), kept_.rbegin(), kept_.rend());
  }
  // Moved entries join their next bucket only now, so none is offered twice in one call.
  for (auto it = moved_.rbegin(); it != moved_.rend(); ++it) {
    const uint32_t index = *it;
    const uint8_t t = table[index].transmits;
    if (buckets_.size() <= t) buckets_.resize(t + 1);
    buckets_[t].push_back(index);
  }
}

}  // namespace constellation::core
