// What every simulated member believes about every other, as its events told it: an N x N
// byte matrix (100 MB at 10,000 members), plus the counters that answer "does every running
// member see every other running member alive?" in O(1) after each event. A member's own
// table is only trusted while it runs: a crashed member's stale row never counts.
#pragma once

#include <cstdint>
#include <vector>

#include "wire/messages.h"

namespace constellation::sim {

// wire::MemberState values 0..3, plus "never heard of it".
enum class ViewState : uint8_t { kAlive = 0, kSuspect = 1, kDead = 2, kLeft = 3, kUnknown = 4 };
ViewState view_state(wire::MemberState state);

class MembershipView {
 public:
  explicit MembershipView(uint32_t members);

  ViewState get(uint32_t observer, uint32_t about) const {
    return static_cast<ViewState>(matrix_[index(observer, about)]);
  }
  // Records what `observer` now believes about `about` and returns what it believed before.
  // A member's belief about itself is not tracked.
  ViewState set(uint32_t observer, uint32_t about, ViewState state);

  // A member starts or stops running (crash, stop after leave). Only running members'
  // beliefs, and beliefs about running members, count for all_alive().
  void set_running(uint32_t member, bool running);
  bool running(uint32_t member) const { return running_[member] != 0; }
  uint32_t running_count() const { return running_count_; }
  // A restarted member starts with an empty table.
  void forget(uint32_t observer);

  // Every running member sees every other running member alive (and there is at least one).
  bool all_alive() const { return running_count_ > 0 && complete_count_ == running_count_; }
  // Pairs (running observer, other running member) where the observer does not see the other
  // alive: how far from converged the cluster is. O(members).
  uint64_t missing_pairs() const;
  // How many running members `observer` sees alive, itself excluded.
  uint32_t alive_seen(uint32_t observer) const { return alive_seen_[observer]; }

 private:
  size_t index(uint32_t observer, uint32_t about) const {
    return static_cast<size_t>(observer) * members_ + about;
  }
  bool complete(uint32_t observer) const {
    return running_[observer] != 0 && alive_seen_[observer] + 1 == running_count_;
  }
  void recount_complete();

  uint32_t members_;
  std::vector<uint8_t> matrix_;
  std::vector<uint8_t> running_;
  std::vector<uint32_t> alive_seen_;  // running members seen alive, self excluded
  uint32_t running_count_ = 0;
  uint32_t complete_count_ = 0;
};

}  // namespace constellation::sim
