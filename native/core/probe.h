// Failure detection by probing (SWIM §4.1-4.3, Lifeguard IV.A): the state of the probe in
// flight, the shuffled round-robin probe order, and the indirect probes we relay for others.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/member_table.h"
#include "core/rng.h"
#include "core/time.h"
#include "wire/messages.h"

namespace constellation::core {

enum class ProbePhase : uint8_t {
  kIdle = 0,      // nothing in flight
  kDirect = 1,    // PING sent, waiting up to the (scaled) probe timeout for the ACK
  kIndirect = 2,  // PING_REQs (and maybe a TCP ping) out, waiting until the period ends
  kDone = 3,      // acked; the period runs out before the next probe starts
};

// The one probe of the current protocol period.
struct Probe {
  ProbePhase phase = ProbePhase::kIdle;
  std::string target;
  wire::Address target_address;
  uint32_t seq = 0;
  TimeMs started = 0;
  TimeMs direct_deadline = 0;
  uint32_t expected_nacks = 0;
  uint32_t nacks = 0;
};

// SWIM §4.3 "Round-Robin Probe Target Selection": members are probed in a random permutation,
// reshuffled at the end of each round, so every member is probed within one round; a member
// joining mid-round goes to a random position among those not yet probed this round.
class ProbeOrder {
 public:
  void add(uint32_t member, Rng& rng);
  // The next member to probe for which `probeable(index)` holds, or kNoIndex if none does.
  template <class Pred>
  uint32_t next(Rng& rng, Pred probeable);
  // After the member table was compacted: old member index -> new index (kNoIndex: removed).
  void remap(const std::vector<uint32_t>& remap);
  size_t size() const { return order_.size(); }
  void reserve(size_t members) { order_.reserve(members); }
  size_t memory_bytes() const { return order_.capacity() * sizeof(uint32_t); }

 private:
  void shuffle(Rng& rng);

  std::vector<uint32_t> order_;
  size_t cursor_ = 0;
};

template <class Pred>
uint32_t ProbeOrder::next(Rng& rng, Pred probeable) {
  for (size_t tried = 0; tried < order_.size(); ++tried) {
    if (cursor_ >= order_.size()) {
      shuffle(rng);
      cursor_ = 0;
    }
    const uint32_t index = order_[cursor_++];
    if (probeable(index)) return index;
  }
  return kNoIndex;
}

// Re-probing an unconfirmed suspicion (Lifeguard IV.C buddy system, applied again). A
// refutation spreads like any update, each member passing it on retransmit_mult * log n times
// within a fraction of a second. Under heavy loss a member now and then misses every copy
// although it got the accusation; nobody confirms a false suspicion, so its timer runs to
// Lifeguard IV.B's maximum (30.6 s for 50 members under `lan`) and ends in a death the
// accused refuted long before: at 20 % loss this was three quarters of the false deaths in
// the simulator (docs/tuning.md). So while a suspicion of ours stays unconfirmed, every
// kSuspectReprobePeriods protocol periods our probe goes to the suspect instead of the next
// member in the round-robin order. Every period rather than every second one: under `lan`
// at 20 % loss, over 1,000 simulated member-hours, false deaths fell from 1 to 0 and the
// slowest detection of a real crash from 14.4 s to 10.1 s (docs/tuning.md). The probe tells the
// suspect of the suspicion and its ACK carries the suspect's ALIVE back. A member that is really
// gone gathers its confirmations within a period or two and is not re-probed after that, so crash
// detection and the local health score of the members watching a crash are unchanged; while nobody
// suspects anybody, nothing changes at all.
inline constexpr int64_t kSuspectReprobePeriods = 1;

// An indirect probe we perform for another member (SWIM §4.2 PING_REQ): we ping the target
// with our own sequence number and forward its ACK until `deadline` (a probe timeout), and
// answer NACK (Lifeguard IV.A) if the target is still silent at `nack_at`, early enough for
// the NACK to reach the requester within its protocol period (see on_ping_req).
struct Relay {
  uint32_t seq = 0;         // our PING's sequence number
  uint32_t origin_seq = 0;  // the requester's sequence number
  wire::Address requester;
  std::string target;
  TimeMs nack_at = 0;
  TimeMs deadline = 0;
  bool want_nack = true;  // and not sent yet
  TimeMs due() const { return want_nack ? nack_at : deadline; }
};
inline constexpr size_t kMaxRelays = 256;

}  // namespace constellation::core
