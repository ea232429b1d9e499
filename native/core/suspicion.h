// Lifeguard IV.B "Dynamic Suspicion Timeout": a suspicion starts with a long timeout that
// shrinks, logarithmically, toward a floor as independent members confirm it, so a member
// accused by many goes dead quickly while a lone (possibly slow) accuser waits longer.
//
//   min = suspicion_mult * max(1, log10 n) * probe_interval
//   max = suspicion_max_timeout_mult * min
//   timeout(c) = max(min, max - (max - min) * ln(c + 1) / ln(k + 1))
//
// where c is the number of independent confirmations so far and k the number expected
// (Config::suspicion_confirmations, or 0 when the cluster is too small to supply them; then
// timeout = min).
#pragma once

#include <cstddef>
#include <cstdint>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "core/member_table.h"
#include "core/time.h"

namespace constellation::core {

struct SuspicionTimeouts {
  TimeMs min_ms = 0;
  TimeMs max_ms = 0;
  uint32_t expected_confirmations = 0;  // k
};

// min/max/k for a cluster of `members` (alive + suspect, ourselves included).
SuspicionTimeouts suspicion_timeouts(uint32_t suspicion_mult, uint32_t max_timeout_mult,
                                     uint32_t confirmations, TimeMs probe_interval_ms,
                                     size_t members);
// The timeout after `confirmations` independent confirmations.
TimeMs suspicion_timeout(const SuspicionTimeouts& t, uint32_t confirmations);

struct Suspicion {
  uint32_t member = kNoIndex;  // index in the member table
  TimeMs started = 0;
  TimeMs deadline = 0;
  SuspicionTimeouts timeouts;
  uint32_t confirmations = 0;
  uint32_t generation = 0;            // bumps when the deadline moves, invalidating heap entries
  std::string last_from;              // the accuser we last heard from; re-gossiped as `from`
  std::vector<std::string> accusers;  // distinct accusers, at most k + 1 kept
  TimeMs probed = 0;                  // when we last probed the suspect (or began suspecting)
};

// All live suspicions, with a min-heap of deadlines (stale heap entries skipped lazily).
class SuspicionSet {
 public:
  // Starts a suspicion of `member` accused by `from`; returns its slot.
  uint32_t start(uint32_t member, std::string_view from, const SuspicionTimeouts& timeouts,
                 TimeMs now);
  // Records an accusation from `from`. Returns true if it was a new independent one (the
  // deadline may have moved earlier).
  bool confirm(uint32_t slot, std::string_view from);
  // Records a verdict from `from`, a member whose own suspicion of the same member ran out:
  // it counts as all k confirmations, so the timeout drops to its floor. Returns true if the
  // deadline may have moved earlier.
  bool confirm_fully(uint32_t slot, std::string_view from);
  void stop(uint32_t slot);
  // The member of the unconfirmed suspicion (fewer than k confirmations) we probed or
  // notified longest ago, if that was at or before `before`; its probe time becomes `now`.
  // kNoIndex if there is none.
  uint32_t take_due_probe(TimeMs before, TimeMs now);

  Suspicion& operator[](uint32_t slot) { return slots_[slot]; }
  const Suspicion& operator[](uint32_t slot) const { return slots_[slot]; }
  size_t active() const { return active_; }

  // Earliest deadline of a live suspicion (kNever if none).
  TimeMs next_deadline() const;
  // Slot of a suspicion due at `now`, removing it from the heap; kNoIndex if none.
  uint32_t pop_due(TimeMs now);

  // Moves every deadline earlier than `until` to `until` (after a stall of the host, see
  // EngineState::recover_from_stall). Returns how many moved.
  size_t postpone_until(TimeMs until);

  // After the member table was compacted: old member index -> new index.
  void remap(const std::vector<uint32_t>& remap);
  size_t memory_bytes() const;

 private:
  struct Due {
    TimeMs deadline;
    uint32_t slot;
    uint32_t generation;
    bool operator>(const Due& other) const {
      if (deadline != other.deadline) return deadline > other.deadline;
      return slot > other.slot;
    }
  };
  void schedule(uint32_t slot);
  void drop_stale() const;

  std::vector<Suspicion> slots_;
  std::vector<uint32_t> free_;
  // mutable: dropping stale entries from the top does not change what the set means.
  mutable std::priority_queue<Due, std::vector<Due>, std::greater<Due>> heap_;
  size_t active_ = 0;
};

}  // namespace constellation::core
