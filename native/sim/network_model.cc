#include "sim/network_model.h"

#include <algorithm>

namespace constellation::sim {

NetworkModel::NetworkModel(uint32_t members, LinkParams link, uint64_t seed)
    : link_(link),
      rng_(seed),
      ingress_loss_(members, 0.0),
      egress_loss_(members, 0.0),
      group_(members, 0) {}

void NetworkModel::set_ingress_loss(uint32_t member, double loss) {
  if (member < ingress_loss_.size()) ingress_loss_[member] = loss;
}

void NetworkModel::set_egress_loss(uint32_t member, double loss) {
  if (member < egress_loss_.size()) egress_loss_[member] = loss;
}

void NetworkModel::partition(std::span<const std::vector<uint32_t>> groups) {
  // Group 0 holds everyone not listed; listed groups are numbered from 1.
  std::fill(group_.begin(), group_.end(), 0);
  uint32_t id = 1;
  for (const auto& members : groups) {
    for (uint32_t member : members) {
      if (member < group_.size()) group_[member] = id;
    }
    ++id;
  }
  partitioned_ = true;
}

void NetworkModel::heal() {
  std::fill(group_.begin(), group_.end(), 0);
  partitioned_ = false;
}

TimeMs NetworkModel::delay() {
  TimeMs jitter = 0;
  if (link_.jitter_ms > 0) jitter = static_cast<TimeMs>(rng_.below(link_.jitter_ms + 1));
  return link_.latency_ms + jitter;
}

bool NetworkModel::lost(uint32_t from, uint32_t to) {
  // Three independent chances to lose it: leaving the sender, on the way, entering the receiver.
  return rng_.chance(egress_loss_[from]) || rng_.chance(link_.loss) ||
         rng_.chance(ingress_loss_[to]);
}

std::optional<TimeMs> NetworkModel::send_datagram(uint32_t from, uint32_t to, TimeMs now) {
  if (lost(from, to)) {
    ++lost_;
    return std::nullopt;
  }
  return now + delay();
}

std::optional<TimeMs> NetworkModel::stream_leg(uint32_t from, uint32_t to, bool handshake) {
  TimeMs rto = handshake ? kHandshakeRtoMs : kDataRtoMs;
  TimeMs waited = 0;
  for (int attempt = 0; attempt <= kMaxRetransmits; ++attempt) {
    if (!lost(from, to)) return waited + delay();
    ++retransmits_;
    waited += rto;
    rto *= 2;
  }
  return std::nullopt;
}

}  // namespace constellation::sim
