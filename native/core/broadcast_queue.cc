// Broadcast queue (see broadcast_queue.h).
#include "core/broadcast_queue.h"

#include <algorithm>
#include <cmath>

namespace constellation::core {

uint32_t retransmit_limit(uint32_t retransmit_mult, size_t members) {
  // ceil(log10(n + 1)) without floating point: the number of decimal digits of n.
  uint32_t digits = 0;
  for (size_t n = members; n > 0; n /= 10) ++digits;
  return std::clamp<uint32_t>(retransmit_mult * std::max<uint32_t>(digits, 1), 1, 255);
}

bool BroadcastQueue::push(MemberTable& table, uint32_t member, size_t capacity) {
  Member& m = table[member];
  if (m.queued && m.transmits == 0) return true;  // already waiting, unsent: nothing to do
  if (!m.queued) {
    if (pending_ >= capacity) return false;
    ++pending_;
  }
  m.queued = true;
  m.transmits = 0;
  if (buckets_.empty()) buckets_.resize(1);
  buckets_[0].push_back(member);
  return true;
}

void BroadcastQueue::cancel(MemberTable& table, uint32_t member) {
  if (table[member].queued) finish(table, member);
}

void BroadcastQueue::finish(MemberTable& table, uint32_t member) {
  Member& m = table[member];
  m.queued = false;
  m.transmits = 0;
  --pending_;
}

void BroadcastQueue::remap(const std::vector<uint32_t>& remap) {
  for (auto& bucket : buckets_) {
    std::erase_if(bucket, [&](uint32_t& index) {
      index = remap[index];
      return index == kNoIndex;
    });
  }
}

size_t BroadcastQueue::memory_bytes() const {
  // A deque allocates 512-byte blocks plus a small map; count the blocks in use plus one.
  constexpr size_t kBlock = 512;
  size_t total = buckets_.capacity() * sizeof(std::deque<uint32_t>) +
                 (kept_.capacity() + moved_.capacity()) * sizeof(uint32_t);
  for (const auto& b : buckets_) total += (b.size() * sizeof(uint32_t) / kBlock + 1) * kBlock;
  return total;
}

}  // namespace constellation::core
