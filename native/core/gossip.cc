// Dissemination: packing queued updates into outgoing packets (piggybacking, SWIM §4.1) and
// the gossip round (memberlist's gossip: `gossip_nodes` random members every
// `gossip_interval_ms`, including members that died within `gossip_to_the_dead_ms` so they can
// hear of it and refute).
#include <algorithm>
#include <variant>

#include "core/engine_state.h"

namespace constellation::core {

namespace {

// type (1) + body length varint (up to 3 bytes for a body below 2 MiB).
constexpr size_t kMessageOverhead = 4;
// A SUSPECT/DEAD/LEAVE with one-byte names and a small incarnation: type, length, body.
constexpr size_t kSmallestUpdate = 6;
// Give up packing after this many updates in a row did not fit.
constexpr size_t kPackingMisses = 4;

}  // namespace

void EngineState::queue_broadcast(uint32_t index) {
  const Member& m = table_[index];
  // Only a configuration whose largest record exceeds a datagram needs the size check.
  const bool may_be_too_big =
      config_.max_record_bytes + kMessageOverhead + wire::kHeaderSize > config_.mtu;
  if (may_be_too_big && m.state == wire::MemberState::kAlive &&
      wire::encoded_record_size(*m.record) + kMessageOverhead + wire::kHeaderSize > config_.mtu) {
    // Too big for any datagram: this record spreads by anti-entropy SYNC only.
    broadcasts_.cancel(table_, index);
    return;
  }
  if (broadcasts_.push(table_, index, config_.max_broadcasts)) {
    ++counters_.broadcasts_queued;
  } else {
    ++counters_.broadcasts_dropped;
  }
}

bool EngineState::broadcast_message(uint32_t index, wire::Message& out) const {
  const Member& m = table_[index];
  switch (m.state) {
    case wire::MemberState::kAlive: {
      // Copy-assign into the message we were given when it already holds an ALIVE: its strings
      // and tag vector keep their capacity, so steady-state packing does not allocate.
      auto* alive = std::get_if<wire::Alive>(&out);
      if (alive == nullptr) alive = &out.emplace<wire::Alive>();
      alive->member = *m.record;
      alive->member.state = wire::MemberState::kAlive;
      alive->member.incarnation = m.incarnation;
      return true;
    }
    case wire::MemberState::kSuspect: {
      std::string from =
          m.suspicion != kNoIndex ? suspicions_[m.suspicion].last_from : std::string(self_name());
      out = wire::Suspect{m.incarnation, std::string(m.name()), std::move(from)};
      return true;
    }
    case wire::MemberState::kDead:
      out = wire::Dead{m.incarnation, std::string(m.name()), std::string(self_name())};
      return true;
    case wire::MemberState::kLeft:
      out = wire::Leave{m.incarnation, std::string(m.name())};
      return true;
  }
  return false;
}

bool EngineState::add_broadcast(uint32_t index, PacketWriter& packet) {
  // Nearly full: no update is smaller than this, so stop looking.
  if (packet.remaining() < kSmallestUpdate) return false;
  const Member& m = table_[index];
  if (m.state == wire::MemberState::kAlive && m.incarnation == m.record->incarnation) {
    return packet.add_encoded(pooled_alive_message(*m.record));
  }
  if (!broadcast_message(index, scratch_message_)) return false;
  return packet.add(scratch_message_);
}

void EngineState::piggyback(PacketWriter& packet) {
  if (broadcasts_.empty()) return;
  const uint32_t limit = retransmit_limit(config_.retransmit_mult, live_members());
  broadcasts_.collect(table_, limit, kPackingMisses,
                      [&](uint32_t index) { return add_broadcast(index, packet); });
}

void EngineState::send(const wire::Address& to, PacketWriter& packet) {
  if (packet.empty()) return;
  counters_.messages_out += packet.count();
  Datagram& d = out_.datagrams.emplace_back();
  d.to = to;
  d.bytes = packet.take();
  ++counters_.packets_out;
  counters_.bytes_out += d.bytes.size();
}

void EngineState::send_with_piggyback(const wire::Address& to, const wire::Message& first,
                                      const wire::Message* second) {
  PacketWriter packet(config_.mtu);
  packet.add(first);
  if (second != nullptr) packet.add(*second);
  piggyback(packet);
  send(to, packet);
}

void EngineState::gossip(TimeMs now) {
  if (broadcasts_.empty()) return;
  sample(
      config_.gossip_nodes,
      [&](uint32_t index) {
        if (index == kSelf) return false;
        const Member& m = table_[index];
        if (is_probeable(m.state)) return true;
        return now - m.state_changed_at < config_.gossip_to_the_dead_ms;
      },
      picks_);
  for (const uint32_t target : picks_) {
    PacketWriter packet(config_.mtu);
    piggyback(packet);
    if (packet.empty()) break;  // nothing left to say
    ++counters_.gossip_packets;
    send(table_[target].record->address, packet);
  }
}

}  // namespace constellation::core
