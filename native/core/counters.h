// What an engine has done, for metrics and tests. Monotonic counts since construction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/time.h"
#include "wire/codec.h"

namespace constellation::core {

// Upper bounds (inclusive, engine milliseconds) of the probe round-trip buckets: a 1-2-5 log
// scale from LAN to WAN latencies. Fixed, so the summary costs the same whatever the traffic;
// the engine's clock ticks in whole milliseconds, so the first bucket means "under ~1 ms".
inline constexpr std::array<TimeMs, 13> kProbeRttBoundsMs = {1,   2,   5,    10,   20,   50,   100,
                                                             200, 500, 1000, 2000, 5000, 10000};

// Round-trip times of direct probes (SWIM §4.1: PING sent -> its ACK received), as a
// cumulative-ready histogram: buckets[i] counts RTTs in (bounds[i-1], bounds[i]], the last
// bucket everything above the last bound.
struct RttHistogram {
  std::array<uint64_t, kProbeRttBoundsMs.size() + 1> buckets{};
  uint64_t count = 0;
  uint64_t sum_ms = 0;

  void record(TimeMs rtt) {
    if (rtt < 0) rtt = 0;  // a host's clock that stood still; `now` never goes backwards
    size_t i = 0;
    while (i < kProbeRttBoundsMs.size() && rtt > kProbeRttBoundsMs[i]) ++i;
    ++buckets[i];
    ++count;
    sum_ms += static_cast<uint64_t>(rtt);
  }
};

struct Counters {
  // Traffic (datagrams only; stream frames are counted in the stream fields).
  uint64_t packets_in = 0;
  uint64_t packets_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t messages_in = 0;
  uint64_t messages_out = 0;
  // Datagrams and frames dropped because they did not decode, indexed by wire::DecodeError.
  std::array<uint64_t, wire::kDecodeErrorCount> rejected{};
  uint64_t unknown_messages = 0;  // skipped: a type this build does not know
  uint64_t ignored_messages = 0;  // well-formed but not acted on (stale, unknown seq, bounds)

  // Probing (SWIM §4, Lifeguard).
  uint64_t probes_sent = 0;           // direct pings of a probe round
  uint64_t acks_received = 0;         // acks that matched a pending probe
  uint64_t nacks_received = 0;        // Lifeguard nacks from ping-req intermediaries
  uint64_t indirect_probes_sent = 0;  // PING_REQ messages sent
  uint64_t ping_reqs_served = 0;      // PING_REQs we relayed for others
  uint64_t nacks_sent = 0;
  uint64_t tcp_pings_requested = 0;
  uint64_t probe_failures = 0;  // probes that ended with no ack at all
  RttHistogram probe_rtt;       // direct probes acked before the indirect phase began

  // Suspicion and refutation.
  uint64_t suspicions = 0;            // members this engine itself started suspecting
  uint64_t refutations = 0;           // times this engine raised its incarnation to refute
  uint64_t accusations_notified = 0;  // accused members told directly of a suspicion
  uint64_t deaths = 0;                // members this engine declared dead (suspicion expired)
  uint64_t conflicts = 0;             // claims refused by the conflict rule

  // Dissemination and anti-entropy.
  uint64_t broadcasts_queued = 0;
  uint64_t broadcasts_dropped = 0;  // queue bound reached
  uint64_t gossip_packets = 0;
  uint64_t syncs_requested = 0;  // SYNC stream requests emitted (join, periodic, reconnect)
  uint64_t syncs_completed = 0;  // responses merged
  uint64_t syncs_served = 0;
  uint64_t streams_failed = 0;  // host-reported failures and timeouts
  uint64_t stream_bytes_in = 0;
  uint64_t stream_bytes_out = 0;
  uint64_t members_reaped = 0;
  uint64_t members_refused = 0;  // new members refused because the table is full
  uint64_t stalls = 0;           // times the host stopped driving us (see Engine::tick)
};

}  // namespace constellation::core
