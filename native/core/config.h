// Protocol configuration of one engine and the three stock profiles. Every number a profile
// sets names where it comes from; any field can be overridden before the engine is built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/time.h"

namespace constellation::core {

struct Config {
  // SWIM §4.1/§4.3: one member is probed per protocol period; it must ack within the timeout
  // or an indirect probe through `indirect_checks` other members follows.
  TimeMs probe_interval_ms = 1000;
  TimeMs probe_timeout_ms = 500;
  uint32_t indirect_checks = 3;
  // After the indirect probe fails, ask the host for a TCP ping (memberlist's fallback for
  // networks that drop UDP but pass TCP). Off = go straight to suspicion.
  bool tcp_fallback_probe = true;
  // Bounds a stream request (SYNC or TCP ping) the host never answers: the engine forgets it
  // and treats it as failed after this long (memberlist TCPTimeout).
  TimeMs stream_timeout_ms = 10000;

  // Dissemination (SWIM §4.1 infection style): an update is retransmitted
  // retransmit_mult * ceil(log10(n + 1)) times.
  uint32_t retransmit_mult = 4;
  // Gossip round: `gossip_nodes` random members every `gossip_interval_ms`; members that died
  // less than `gossip_to_the_dead_ms` ago are still included so they can learn and refute.
  uint32_t gossip_nodes = 3;
  TimeMs gossip_interval_ms = 200;
  TimeMs gossip_to_the_dead_ms = 30000;

  // Lifeguard IV.B dynamic suspicion: min = suspicion_mult * max(1, log10 n) * probe interval;
  // max = suspicion_max_timeout_mult * min.
  uint32_t suspicion_mult = 4;
  uint32_t suspicion_max_timeout_mult = 6;
  // Lifeguard's K: independent confirmations that bring the timeout down to min (0: min from
  // the start). memberlist derives it as suspicion_mult - 2; here it is its own setting, so the
  // floor can move without also lowering how much agreement a suspicion needs.
  uint32_t suspicion_confirmations = 2;

  // Lifeguard IV.A local health: the score runs 0 .. awareness_max_multiplier - 1; probe
  // interval and timeout are scaled by (score + 1).
  uint32_t awareness_max_multiplier = 8;

  // Anti-entropy: full-state SYNC with one random member this often, stretched for clusters
  // above 32 members (memberlist pushPullScale). 0 disables it.
  TimeMs push_pull_interval_ms = 30000;

  // Healing: every `reconnect_interval_ms` try a SYNC with one dead member (serf's
  // ReconnectInterval) and with a seed that is not an alive member of our table, so two halves
  // of a healed partition find each other with no call to join.
  TimeMs reconnect_interval_ms = 30000;
  // Tombstones: dead members are kept this long (serf ReconnectTimeout), left members this long
  // (serf TombstoneTimeout), then reaped.
  TimeMs dead_reap_ms = 24LL * 3600 * 1000;
  TimeMs left_reap_ms = 24LL * 3600 * 1000;
  // leave(): the engine reports the leave complete once its LEAVE has been sent the full
  // retransmit count or this long has passed, whichever comes first.
  TimeMs leave_propagate_ms = 5000;

  // Sizes. A datagram never exceeds `mtu` bytes (memberlist UDPBufferSize); one member record
  // never exceeds `max_record_bytes` encoded.
  size_t mtu = 1400;
  size_t max_record_bytes = 1024;

  // Bounds against hostile or runaway peers: members in the table (alive + tombstones) and
  // pending broadcasts. An update beyond the bound is dropped and counted, never queued.
  size_t max_members = 1u << 20;
  size_t max_broadcasts = 1u << 16;

  // memberlist DefaultLANConfig.
  static Config lan();
  // memberlist DefaultWANConfig.
  static Config wan();
  // memberlist DefaultLocalConfig (loopback).
  static Config local();

  // Empty if the configuration is usable; otherwise a message naming the first bad field.
  std::string validate() const;
};

}  // namespace constellation::core
