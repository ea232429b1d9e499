// Lifeguard IV.A "Local Health Multiplier": a member that misses acks it should have had, gets
// no nacks back from the helpers of an indirect probe, or has to refute a suspicion about
// itself, is more likely the slow one; it stretches its own probe interval and timeouts by
// (score + 1) so it stops accusing healthy peers. Successful probes bring the score back down.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/time.h"

namespace constellation::core {

class Awareness {
 public:
  explicit Awareness(uint32_t max_multiplier) : max_(max_multiplier) {}

  // Adds `delta` and clamps to 0 .. max_multiplier - 1.
  void apply(int64_t delta) {
    const int64_t next = static_cast<int64_t>(score_) + delta;
    score_ = static_cast<uint32_t>(std::clamp<int64_t>(next, 0, int64_t{max_} - 1));
  }
  uint32_t score() const { return score_; }
  TimeMs scale(TimeMs duration) const { return duration * (int64_t{score_} + 1); }

 private:
  uint32_t max_;
  uint32_t score_ = 0;
};

}  // namespace constellation::core
