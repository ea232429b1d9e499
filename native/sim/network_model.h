// The virtual network between simulated members: what happens to one datagram or one stream
// between two members. Per-link latency is a fixed delay plus uniform jitter; loss is uniform
// per datagram, plus a per-member egress and ingress loss (asymmetric: a member whose receive
// path is broken still sends fine — the case Lifeguard's nacks exist for). A partition splits
// the members into groups that cannot reach one another until healed. Crashes and pauses are
// the members' business (see simulator.h), not the network's.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sim/sim_rng.h"
#include "sim/sim_time.h"

namespace constellation::sim {

struct LinkParams {
  TimeMs latency_ms = 1;
  TimeMs jitter_ms = 0;  // each datagram gets latency + uniform [0, jitter]
  double loss = 0.0;     // uniform, per datagram
};

class NetworkModel {
 public:
  NetworkModel(uint32_t members, LinkParams link, uint64_t seed);

  void set_loss(double loss) { link_.loss = loss; }
  void set_ingress_loss(uint32_t member, double loss);
  void set_egress_loss(uint32_t member, double loss);
  // Members in groups[i] can reach each other and no one in another group; members named in
  // no group form one more group of their own.
  void partition(std::span<const std::vector<uint32_t>> groups);
  void heal();

  bool reachable(uint32_t from, uint32_t to) const { return group_[from] == group_[to]; }
  bool partitioned() const { return partitioned_; }

  // The fate of one datagram sent at `now`: its arrival time, or nothing if it is lost.
  // Reachability is checked at delivery, so a partition that begins while a datagram is in
  // flight still stops it.
  std::optional<TimeMs> send_datagram(uint32_t from, uint32_t to, TimeMs now);
  // One leg of a TCP stream (a handshake segment or a whole frame) from `from` to `to`: its
  // delay including retransmissions, or nothing if it is still lost after kMaxRetransmits
  // tries (the connection then times out). Each try is lost with the same chances as a
  // datagram; a lost try costs the retransmission timeout, doubling each time (RFC 6298 §5.5).
  // A SYN or SYN-ACK starts at 1 s (RFC 6298 §2.1), data at Linux's 200 ms minimum RTO. So
  // loss makes streams slow rather than lossy, which is what lets a lossy path still fail a
  // TCP fallback probe that has to finish within one protocol period.
  std::optional<TimeMs> stream_leg(uint32_t from, uint32_t to, bool handshake);

  static constexpr TimeMs kHandshakeRtoMs = 1000;
  static constexpr TimeMs kDataRtoMs = 200;
  static constexpr int kMaxRetransmits = 6;

  const LinkParams& link() const { return link_; }
  uint64_t lost_datagrams() const { return lost_; }
  uint64_t stream_retransmits() const { return retransmits_; }

 private:
  TimeMs delay();
  bool lost(uint32_t from, uint32_t to);

  LinkParams link_;
  SimRng rng_;
  std::vector<double> ingress_loss_;
  std::vector<double> egress_loss_;
  std::vector<uint32_t> group_;
  bool partitioned_ = false;
  uint64_t lost_ = 0;
  uint64_t retransmits_ = 0;
};

}  // namespace constellation::sim
