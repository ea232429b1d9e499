// The probe cycle (SWIM §4.1-4.3 with Lifeguard IV.A and IV.C).
//
// Each protocol period (the probe interval, stretched by the local health multiplier) probes
// one member: PING, then after the (stretched) probe timeout PING_REQ through
// `indirect_checks` random members and optionally a TCP ping through the host; if no ACK has
// come by the end of the period, the member is suspected. Missed NACKs count against our own
// health, since helpers that could not even answer us suggest the problem is here.
#include <algorithm>

#include "core/engine_state.h"

namespace constellation::core {

void EngineState::probe_tick(TimeMs now) {
  if (probe_.phase == ProbePhase::kDirect && now >= probe_.direct_deadline) start_indirect(now);
  if (now < next_probe_at_) return;
  conclude_probe(now);
  if (!leaving_) start_probe(now);
  next_probe_at_ = now + awareness_.scale(config_.probe_interval_ms);
}

void EngineState::start_probe(TimeMs now) {
  // A suspicion we hold unconfirmed is probed again every kSuspectReprobePeriods period(s),
  // ahead of the round-robin order (see probe.h): this is how a member that missed the
  // suspect's refutation learns of it before its own timer runs out.
  uint32_t target =
      suspicions_.take_due_probe(now - kSuspectReprobePeriods * config_.probe_interval_ms, now);
  if (target == kNoIndex) {
    target = probe_order_.next(
        rng_, [&](uint32_t index) { return index != kSelf && is_probeable(table_[index].state); });
  }
  if (target == kNoIndex) {
    probe_.phase = ProbePhase::kIdle;
    return;
  }
  const Member& m = table_[target];
  probe_.phase = ProbePhase::kDirect;
  probe_.target.assign(m.name());
  probe_.target_address = m.record->address;
  probe_.seq = next_seq_++;
  probe_.started = now;
  probe_.direct_deadline = now + awareness_.scale(config_.probe_timeout_ms);
  probe_.expected_nacks = 0;
  probe_.nacks = 0;
  ++counters_.probes_sent;
  const wire::Message ping{wire::Ping{probe_.seq, std::string(self_name()), probe_.target}};
  if (m.state == wire::MemberState::kSuspect) {
    // Lifeguard IV.C buddy system: tell a suspect it is suspected, so it can refute at once
    // instead of waiting for gossip to reach it. As in notify_accused, the SUSPECT goes before
    // the PING and our ALIVE pays for the answer: the ACK carries the suspect's refutation (or
    // the one it made earlier, which we missed) straight back to us.
    send_accusation(probe_.target_address,
                    wire::Message{wire::Suspect{m.incarnation, probe_.target,
                                                suspicions_[m.suspicion].last_from}},
                    ping, true);
  } else {
    send_with_piggyback(probe_.target_address, ping);
  }
}

void EngineState::start_indirect(TimeMs now) {
  probe_.phase = ProbePhase::kIndirect;
  const uint32_t target = table_.find(probe_.target);
  sample(
      config_.indirect_checks,
      [&](uint32_t index) {
        return index != kSelf && index != target &&
               table_[index].state == wire::MemberState::kAlive;
      },
      picks_);
  const wire::Message request{wire::PingReq{probe_.seq, std::string(self_name()), probe_.target,
                                            probe_.target_address, true}};
  for (const uint32_t helper : picks_) {
    send_with_piggyback(table_[helper].record->address, request);
    ++counters_.indirect_probes_sent;
  }
  probe_.expected_nacks = static_cast<uint32_t>(picks_.size());
  if (config_.tcp_fallback_probe && streams_.size() < kMaxPendingStreams) {
    // memberlist's TCP fallback: some networks drop UDP but pass TCP. The host opens a stream,
    // sends the PING frame and returns the reply; an ACK in it counts like a UDP ACK.
    std::vector<uint8_t> frame = wire::encode_frame(
        wire::Message{wire::Ping{probe_.seq, std::string(self_name()), probe_.target}});
    request_stream(probe_.target_address, StreamKind::kPing, std::move(frame), probe_.seq, now);
    ++counters_.tcp_pings_requested;
  }
}

void EngineState::conclude_probe(TimeMs now) {
  const ProbePhase phase = probe_.phase;
  probe_.phase = ProbePhase::kIdle;
  if (phase != ProbePhase::kDirect && phase != ProbePhase::kIndirect) return;
  // No ACK within the whole period.
  ++counters_.probe_failures;
  if (probe_.expected_nacks > 0) {
    awareness_.apply(static_cast<int64_t>(probe_.expected_nacks) -
                     static_cast<int64_t>(std::min(probe_.nacks, probe_.expected_nacks)));
  } else {
    awareness_.apply(1);
  }
  const uint32_t index = table_.find(probe_.target);
  if (index == kNoIndex || index == kSelf) return;
  const Member& m = table_[index];
  if (m.state == wire::MemberState::kAlive) {
    ++counters_.suspicions;
    suspect(index, m.incarnation, self_name(), now);
  } else if (m.state == wire::MemberState::kSuspect &&
             suspicions_.confirm(m.suspicion, self_name())) {
    // Lifeguard IV.B: our own failed probe of a member someone else suspects is an independent
    // confirmation; it shortens our timeout and, gossiped under our name, everyone else's.
    ++counters_.suspicions;
    queue_broadcast(index);
  }
}

void EngineState::probe_acked(bool direct) {
  ++counters_.acks_received;
  probe_.phase = ProbePhase::kDone;
  // Lifeguard IV.A: a timely direct ACK is evidence our own node is healthy.
  if (direct) awareness_.apply(-1);
}

void EngineState::on_ping(const wire::Address& from, const wire::Ping& ping, TimeMs now) {
  (void)now;
  // The target name guards against a new process now living at a dead member's address.
  if (!ping.target.empty() && ping.target != self_name()) {
    ++counters_.ignored_messages;
    return;
  }
  const wire::Message ack{wire::Ack{ping.seq, std::string(self_name())}};
  // Replies piggyback only as many bytes as the ping carried (send_reply): a spoofed ping
  // never draws a bigger answer at its victim. A member we believe dead or gone is pinging
  // us: tell it, so it refutes (heals a forged or partition-era death without waiting for
  // the next anti-entropy round).
  const uint32_t source = table_.find(ping.source);
  if (source != kNoIndex && source != kSelf) {
    const Member& m = table_[source];
    if (m.state == wire::MemberState::kDead) {
      const wire::Message news{
          wire::Dead{m.incarnation, std::string(m.name()), std::string(self_name())}};
      send_reply(from, ack, &news);
      return;
    }
    if (m.state == wire::MemberState::kLeft) {
      const wire::Message news{wire::Leave{m.incarnation, std::string(m.name())}};
      send_reply(from, ack, &news);
      return;
    }
  }
  if ((table_[kSelf].queued && table_[kSelf].transmits == 0) || answer_in_ack_) {
    // Our own ALIVE is fresh news (we have just refuted, perhaps an accusation that came in
    // this very packet, as a notice or a buddy probe from a suspecting member carries one), or
    // news the pinging member lacks (this packet accused us of an incarnation we refuted
    // already, and the refutation missed it): it goes first, if the request was big enough to
    // pay for it.
    wire::Message alive;
    broadcast_message(kSelf, alive);
    if (wire::kHeaderSize + wire::encoded_size(ack) + wire::encoded_size(alive) <= reply_budget_) {
      answer_in_ack_ = false;
      send_reply(from, ack, &alive);
      return;
    }
  }
  send_reply(from, ack);
}

void EngineState::on_ack(const wire::Ack& ack, TimeMs now) {
  if ((probe_.phase == ProbePhase::kDirect || probe_.phase == ProbePhase::kIndirect) &&
      ack.seq == probe_.seq) {
    // Only a direct-phase ACK measures the path to the target: once PING_REQs are out, the
    // same sequence number may come back relayed through a helper.
    if (probe_.phase == ProbePhase::kDirect) counters_.probe_rtt.record(now - probe_.started);
    probe_acked(probe_.phase == ProbePhase::kDirect);
    return;
  }
  for (auto it = relays_.begin(); it != relays_.end(); ++it) {
    if (it->seq != ack.seq) continue;
    // Forward the target's ACK to the member that asked, under its sequence number.
    const wire::Message forward{wire::Ack{it->origin_seq, it->target}};
    const wire::Address requester = it->requester;
    relays_.erase(it);
    send_with_piggyback(requester, forward);
    return;
  }
  ++counters_.ignored_messages;
}

void EngineState::on_nack(const wire::Nack& nack) {
  if (probe_.phase == ProbePhase::kIndirect && nack.seq == probe_.seq) {
    ++counters_.nacks_received;
    ++probe_.nacks;
    return;
  }
  ++counters_.ignored_messages;
}

void EngineState::on_ping_req(const wire::Address& from, const wire::PingReq& request, TimeMs now) {
  if (leaving_ || request.target == self_name() || relays_.size() >= kMaxRelays) {
    ++counters_.ignored_messages;
    return;
  }
  // No reflection: relay only for a member we know to be live, and only to a member we know
  // at the address given, so a stranger cannot aim our probes at a third address.
  const uint32_t source = table_.find(request.source);
  const uint32_t target = table_.find(request.target);
  if (source == kNoIndex || source == kSelf ||
      (table_[source].state != wire::MemberState::kAlive &&
       table_[source].state != wire::MemberState::kSuspect) ||
      target == kNoIndex || target == kSelf ||
      table_[target].record->address != request.target_address) {
    ++counters_.ignored_messages;
    return;
  }
  ++counters_.ping_reqs_served;
  Relay relay;
  relay.seq = next_seq_++;
  relay.origin_seq = request.seq;
  relay.requester = from;
  relay.target = request.target;
  // Lifeguard IV.A: a NACK tells the requester that we, at least, are reachable, so missing
  // NACKs point at the requester's own health. It only counts if it arrives within the
  // requester's protocol period, which ends (probe interval - probe timeout) after it sent the
  // PING_REQ. Waiting a whole probe timeout, as this engine did, made every NACK arrive just
  // after that under `lan` (1000 / 500 ms): each failed probe, even of a member that had
  // simply crashed, counted as indirect_checks missed NACKs and stretched the prober's
  // interval six-fold. So the NACK goes after 80 % of the shorter of the two (400 ms under
  // `lan`), while an ACK from the target is still forwarded for the full probe timeout.
  const TimeMs window =
      std::min(config_.probe_timeout_ms, config_.probe_interval_ms - config_.probe_timeout_ms);
  relay.nack_at = now + std::max<TimeMs>(1, window * 4 / 5);
  relay.deadline = now + config_.probe_timeout_ms;
  relay.want_nack = request.want_nack;
  const wire::Message ping{wire::Ping{relay.seq, std::string(self_name()), request.target}};
  relays_.push_back(std::move(relay));
  send_with_piggyback(request.target_address, ping);
}

void EngineState::relay_tick(TimeMs now) {
  for (size_t i = 0; i < relays_.size();) {
    Relay& relay = relays_[i];
    if (relay.want_nack && relay.nack_at <= now) {
      relay.want_nack = false;
      ++counters_.nacks_sent;
      send_with_piggyback(relay.requester,
                          wire::Message{wire::Nack{relay.origin_seq, std::string(self_name())}});
    }
    if (relay.deadline > now) {
      ++i;
      continue;
    }
    relays_.erase(relays_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

}  // namespace constellation::core
