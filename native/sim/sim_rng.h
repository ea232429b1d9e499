// The simulator's own randomness (network loss, jitter, member ids, per-member engine seeds).
// xoshiro256** seeded through SplitMix64: fast, small state, and the same sequence on every
// platform, so a seed replays a run exactly. Engines get their own generators, seeded from this
// one, so adding a member does not shift the network's random stream of an existing member.
#pragma once

#include <cstdint>

namespace constellation::sim {

// SplitMix64 step: turns any 64-bit value (a seed, a seed mixed with an index) into a
// well-spread one. Also used to derive per-member seeds.
uint64_t splitmix64(uint64_t& state);
uint64_t mix_seed(uint64_t seed, uint64_t stream);

class SimRng {
 public:
  explicit SimRng(uint64_t seed);

  uint64_t next();
  // Uniform in [0, bound); 0 when bound is 0. Lemire's multiply-shift, with rejection so the
  // result is unbiased.
  uint64_t below(uint64_t bound);
  // Uniform in [0, 1).
  double unit();
  // True with probability p (p <= 0 never, p >= 1 always, and no draw is consumed then, so a
  // lossless link does not disturb the stream).
  bool chance(double p);

 private:
  uint64_t s_[4];
};

}  // namespace constellation::sim
