// Stock profiles and validation. The profile numbers start from hashicorp/memberlist's
// config.go (DefaultLANConfig, DefaultWANConfig, DefaultLocalConfig); the tombstone and
// reconnect periods, which memberlist leaves to serf, come from serf's defaults.
#include "core/config.h"

#include <string>

#include "wire/messages.h"

namespace constellation::core {

Config Config::lan() {
  Config c;
  // memberlist LAN ProbeInterval is 1 s and ProbeTimeout 500 ms. 800/400, with the indirect
  // checks, suspicion floor and confirmations below, detects a crash among 50 in 5.6-5.9 s
  // (memberlist's settings: 8.6-9.0 s) with no false death in 1,000 simulated member-hours at
  // 0, 5, 10 or 20 % loss, for 25 % more probe traffic (docs/tuning.md, "The second round").
  c.probe_interval_ms = 800;
  c.probe_timeout_ms = 400;
  // memberlist LAN IndirectChecks is 3; 5 cuts false suspicions 9x at 10 % loss (docs/tuning.md).
  c.indirect_checks = 5;
  c.tcp_fallback_probe = true;       // memberlist DisableTcpPings = false
  c.stream_timeout_ms = 10000;       // memberlist LAN TCPTimeout 10 s
  c.retransmit_mult = 4;             // memberlist LAN RetransmitMult
  c.gossip_nodes = 3;                // memberlist LAN GossipNodes (the seed system's fanout)
  c.gossip_interval_ms = 200;        // memberlist LAN GossipInterval
  c.gossip_to_the_dead_ms = 30000;   // memberlist LAN GossipToTheDeadTime
  c.suspicion_mult = 3;              // memberlist LAN SuspicionMult is 4 (docs/tuning.md)
  c.suspicion_max_timeout_mult = 6;  // memberlist LAN SuspicionMaxTimeoutMult
  // memberlist LAN SuspicionMult 4 - 2: with the floor lowered, deriving K (1) would let one
  // other accuser end a suspicion at the floor; K 2 cuts false deaths at 20 % loss from 12 to 1
  // in 1,000 simulated member-hours (docs/tuning.md).
  c.suspicion_confirmations = 2;
  c.awareness_max_multiplier = 8;       // memberlist LAN AwarenessMaxMultiplier
  c.push_pull_interval_ms = 30000;      // memberlist LAN PushPullInterval
  c.reconnect_interval_ms = 30000;      // serf ReconnectInterval
  c.dead_reap_ms = 24LL * 3600 * 1000;  // serf ReconnectTimeout 24 h
  c.left_reap_ms = 24LL * 3600 * 1000;  // serf TombstoneTimeout 24 h
  c.leave_propagate_ms = 5000;          // serf BroadcastTimeout 5 s (leave propagation wait)
  c.mtu = wire::kDefaultMtu;            // memberlist UDPBufferSize 1400
  c.max_record_bytes = wire::kDefaultMaxRecordBytes;
  return c;
}

Config Config::wan() {
  Config c = lan();
  c.stream_timeout_ms = 30000;      // memberlist WAN TCPTimeout 30 s
  c.suspicion_mult = 6;             // memberlist WAN SuspicionMult
  c.suspicion_confirmations = 4;    // memberlist WAN SuspicionMult - 2
  c.probe_timeout_ms = 3000;        // memberlist WAN ProbeTimeout
  c.probe_interval_ms = 5000;       // memberlist WAN ProbeInterval
  c.indirect_checks = 3;            // memberlist WAN IndirectChecks (lan's 5 is tuned for LAN)
  c.push_pull_interval_ms = 60000;  // memberlist WAN PushPullInterval
  c.gossip_nodes = 4;               // memberlist WAN GossipNodes
  c.gossip_interval_ms = 500;       // memberlist WAN GossipInterval
  c.gossip_to_the_dead_ms = 60000;  // memberlist WAN GossipToTheDeadTime
  return c;
}

Config Config::local() {
  Config c = lan();
  c.stream_timeout_ms = 1000;       // memberlist Local TCPTimeout 1 s
  c.indirect_checks = 1;            // memberlist Local IndirectChecks
  c.retransmit_mult = 2;            // memberlist Local RetransmitMult
  c.suspicion_mult = 3;             // memberlist Local SuspicionMult
  c.suspicion_confirmations = 1;    // memberlist Local SuspicionMult - 2
  c.push_pull_interval_ms = 15000;  // memberlist Local PushPullInterval
  c.probe_timeout_ms = 200;         // memberlist Local ProbeTimeout
  c.probe_interval_ms = 1000;       // memberlist Local ProbeInterval
  c.gossip_interval_ms = 100;       // memberlist Local GossipInterval
  c.gossip_to_the_dead_ms = 15000;  // memberlist Local GossipToTheDeadTime
  return c;
}

namespace {

// Upper bounds that keep arithmetic and per-member counters in range: transmit counts are
// stored in 8 bits, and no timer may overflow when scaled by the awareness multiplier.
constexpr TimeMs kMaxDurationMs = 7LL * 24 * 3600 * 1000;
constexpr TimeMs kMaxTombstoneMs = 365LL * 24 * 3600 * 1000;

bool bad_duration(TimeMs value, bool allow_zero) {
  return value < (allow_zero ? 0 : 1) || value > kMaxDurationMs;
}

}  // namespace

std::string Config::validate() const {
  if (bad_duration(probe_interval_ms, false)) return "probe_interval_ms must be 1 ms .. 7 days";
  if (bad_duration(probe_timeout_ms, false) || probe_timeout_ms > probe_interval_ms) {
    return "probe_timeout_ms must be at least 1 ms and at most probe_interval_ms";
  }
  if (indirect_checks > 16) return "indirect_checks must be 0 .. 16";
  if (bad_duration(stream_timeout_ms, false)) return "stream_timeout_ms must be 1 ms .. 7 days";
  if (retransmit_mult < 1 || retransmit_mult > 32) return "retransmit_mult must be 1 .. 32";
  if (gossip_nodes > 64) return "gossip_nodes must be 0 .. 64";
  if (bad_duration(gossip_interval_ms, false)) return "gossip_interval_ms must be 1 ms .. 7 days";
  if (bad_duration(gossip_to_the_dead_ms, true)) {
    return "gossip_to_the_dead_ms must be 0 .. 7 days";
  }
  if (suspicion_mult < 1 || suspicion_mult > 64) return "suspicion_mult must be 1 .. 64";
  if (suspicion_max_timeout_mult < 1 || suspicion_max_timeout_mult > 64) {
    return "suspicion_max_timeout_mult must be 1 .. 64";
  }
  if (suspicion_confirmations > 64) return "suspicion_confirmations must be 0 .. 64";
  if (awareness_max_multiplier < 1 || awareness_max_multiplier > 64) {
    return "awareness_max_multiplier must be 1 .. 64";
  }
  if (bad_duration(push_pull_interval_ms, true)) {
    return "push_pull_interval_ms must be 0 (off) .. 7 days";
  }
  if (bad_duration(reconnect_interval_ms, true)) {
    return "reconnect_interval_ms must be 0 (off) .. 7 days";
  }
  if (dead_reap_ms < 0 || dead_reap_ms > kMaxTombstoneMs) return "dead_reap_ms must be 0 .. 1 year";
  if (left_reap_ms < 0 || left_reap_ms > kMaxTombstoneMs) return "left_reap_ms must be 0 .. 1 year";
  if (bad_duration(leave_propagate_ms, true)) return "leave_propagate_ms must be 0 .. 7 days";
  if (mtu < 256 || mtu > 65507) return "mtu must be 256 .. 65507 bytes";
  if (max_record_bytes < 64 || max_record_bytes > wire::kMaxRecordBytesCeiling) {
    return "max_record_bytes must be 64 .. 65536 bytes";
  }
  if (max_members < 2 || max_members > (1u << 30)) return "max_members must be 2 .. 2^30";
  if (max_broadcasts < 1) return "max_broadcasts must be at least 1";
  return {};
}

}  // namespace constellation::core
