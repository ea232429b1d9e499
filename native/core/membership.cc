// The membership update rules: what ALIVE, SUSPECT, DEAD and LEAVE do to the table.
//
// SWIM §4.2 "Suspicion Mechanism": updates about a member are ordered by its incarnation
// number, which only the member itself raises. At equal incarnation, suspect overrides alive
// and dead overrides both; only a strictly higher incarnation brings a member back to alive.
// LEAVE (a member's own departure) makes it `left`, which nothing but a newer ALIVE undoes.
// A DEAD from another member is an accusation like SUSPECT (issue 5): only our own suspicion
// timer, or the member's own LEAVE, ends a member. A member that hears itself suspected or
// declared dead refutes by announcing ALIVE with a higher incarnation.
#include <algorithm>
#include <utility>

#include "core/engine_state.h"

namespace constellation::core {

namespace {

// Same member process with the same metadata (incarnation and state aside).
bool same_metadata(const wire::MemberRecord& a, const wire::MemberRecord& b) {
  return a.id == b.id && a.address == b.address && a.versions == b.versions &&
         a.resources == b.resources && a.tags == b.tags;
}

bool is_live(wire::MemberState state) {
  return state == wire::MemberState::kAlive || state == wire::MemberState::kSuspect;
}

}  // namespace

void EngineState::on_alive(wire::MemberRecord&& record, TimeMs now, bool gossip_new) {
  if (record.name.empty() || beyond_ceiling(record.incarnation)) {
    ++counters_.ignored_messages;
    return;
  }
  const uint32_t index = table_.find(record.name);
  if (index == kSelf) {
    on_self_alive(record, now);
    return;
  }
  if (index == kNoIndex) {
    if (table_.size() >= config_.max_members) {
      ++counters_.members_refused;
      return;
    }
    const uint64_t incarnation = record.incarnation;
    const uint32_t added =
        table_.add(pool_->intern(std::move(record)), wire::MemberState::kAlive, incarnation, now);
    probe_order_.add(added, rng_);
    news_at_[news_count_++ % kCatchUpNews] = now;
    if (gossip_new) queue_broadcast(added);
    emit(EventKind::kJoin, added, now);
    return;
  }
  Member& m = table_[index];
  // Conflict rule: while a member is alive (or only suspected) its name stays bound to its
  // address; a claim from elsewhere is refused and reported, not merged.
  if (is_live(m.state) && record.address != m.record->address) {
    conflict(record, now);
    return;
  }
  if (record.incarnation <= m.incarnation) {
    ++counters_.ignored_messages;
    return;
  }
  const wire::MemberState before = m.state;
  const bool metadata_changed = !same_metadata(*m.record, record);
  const uint64_t incarnation = record.incarnation;
  m.record = RecordRef(pool_->intern(std::move(record)));
  m.incarnation = incarnation;
  if (m.suspicion != kNoIndex) {
    suspicions_.stop(m.suspicion);
    m.suspicion = kNoIndex;
  }
  table_.set_state(index, wire::MemberState::kAlive, now);
  queue_broadcast(index);
  if (before == wire::MemberState::kAlive) {
    if (metadata_changed) emit(EventKind::kUpdate, index, now);
  } else if (before == wire::MemberState::kLeft) {
    emit(EventKind::kJoin, index, now);  // it left and came back: a new membership
  } else {
    emit(EventKind::kAlive, index, now);  // refuted a suspicion, or back from the dead
  }
}

void EngineState::on_self_alive(const wire::MemberRecord& record, TimeMs now) {
  if (leaving_) return;
  const wire::MemberRecord& me = self_record();
  const uint64_t mine = table_[kSelf].incarnation;
  if (record.address != me.address) {
    // Another process claims our name from another address: report it, do not fight it
    // (two live processes refuting each other would raise incarnations forever).
    conflict(record, now);
    return;
  }
  // Our own address: either our current record or one from a previous life of this name
  // (a restart). Anything newer than what we announce, or different at the same incarnation,
  // must be overridden so the cluster keeps our current record.
  if (record.incarnation > mine || (record.incarnation == mine && !same_metadata(record, me))) {
    refute(record.incarnation, now);
  }
}

uint32_t EngineState::accused(uint64_t incarnation, std::string_view target, TimeMs now) {
  if (beyond_ceiling(incarnation)) return kNoIndex;
  const uint32_t index = table_.find(target);
  if (index == kNoIndex) {
    ++counters_.ignored_messages;
    return kNoIndex;
  }
  if (index == kSelf) {
    answer_accusation(incarnation, now);
    return kNoIndex;
  }
  return index;
}

void EngineState::answer_accusation(uint64_t incarnation, TimeMs now) {
  // Only we announce our own leave; while we run, any SUSPECT, DEAD or LEAVE about us is
  // wrong (or forged).
  if (leaving_) return;
  // A PING after the accusation in the same datagram (a buddy probe or a notice, see
  // notify_accused) comes from a member holding the accusation: its ACK carries our ALIVE.
  answer_in_ack_ = true;
  if (incarnation >= table_[kSelf].incarnation) {
    // SWIM §4.2 and the Lifeguard IV.C buddy system: refute at once, with a higher incarnation.
    refute(incarnation, now);
    return;
  }
  // An accusation older than our incarnation: we refuted already, but its sender evidently
  // never heard it (it may think us dead and no longer gossip with us). Announce our current
  // ALIVE again. Once per gossip interval at most: a flood of stale accusations then costs no
  // more than the one queue entry the gossip rounds already drain.
  if (now < reannounce_after_) {
    ++counters_.ignored_messages;
    return;
  }
  reannounce_after_ = now + config_.gossip_interval_ms;
  queue_broadcast(kSelf);
}

void EngineState::on_suspect(uint64_t incarnation, std::string_view target, std::string_view from,
                             TimeMs now) {
  const uint32_t index = accused(incarnation, target, now);
  if (index != kNoIndex) accuse(index, incarnation, from, /*verdict=*/false, now);
}

void EngineState::accuse(uint32_t index, uint64_t incarnation, std::string_view from, bool verdict,
                         TimeMs now) {
  Member& m = table_[index];
  if (incarnation < m.incarnation) {
    ++counters_.ignored_messages;
    return;
  }
  if (m.state == wire::MemberState::kAlive) {
    suspect(index, incarnation, from, now);
    if (verdict) suspicions_.confirm_fully(m.suspicion, from);
    return;
  }
  if (m.state != wire::MemberState::kSuspect) {
    ++counters_.ignored_messages;
    return;
  }
  if (incarnation > m.incarnation) {
    // SWIM §4.2: a suspicion is about one incarnation, and only the member raises its own.
    // An accusation at a newer one proves it refuted ours (a refutation we missed) and was
    // accused again: a new suspicion that starts its full timeout now, not a confirmation of
    // the old one, whose timer may be nearly spent and would kill the member before it could
    // hear of the new accusation and refute it.
    suspicions_.stop(m.suspicion);
    m.suspicion = kNoIndex;
    suspect(index, incarnation, from, now);
    if (verdict) suspicions_.confirm_fully(m.suspicion, from);
    return;
  }
  // Lifeguard IV.B: an independent accuser shortens the timeout; re-gossip the suspicion
  // under the new accuser's name so others can count it too. A verdict (a DEAD: its sender's
  // own suspicion ran its course) brings the timeout to its floor, even from the member that
  // accused first: otherwise a member that gossip reached only through the first accuser would
  // wait for the maximum.
  const bool sooner = verdict ? suspicions_.confirm_fully(m.suspicion, from)
                              : suspicions_.confirm(m.suspicion, from);
  if (sooner) queue_broadcast(index);
}

void EngineState::suspect(uint32_t index, uint64_t incarnation, std::string_view from, TimeMs now) {
  Member& m = table_[index];
  m.incarnation = incarnation;
  table_.set_state(index, wire::MemberState::kSuspect, now);
  const SuspicionTimeouts timeouts = suspicion_timeouts(
      config_.suspicion_mult, config_.suspicion_max_timeout_mult, config_.suspicion_confirmations,
      config_.probe_interval_ms, live_members());
  m.suspicion = suspicions_.start(index, from, timeouts, now);
  queue_broadcast(index);
  emit(EventKind::kSuspect, index, now);
  if (from != self_name()) notify_accused(index);
}

void EngineState::notify_accused(uint32_t index) {
  // Someone else's accusation (our own probes have just failed to reach it, so that case is
  // left out): tell the accused at once, in one datagram, instead of hoping our gossip finds
  // it before the timeout. Gossip can miss: a member flooded with spoofed members spends its
  // fanout on them, and a forged SUSPECT would then end in a death nobody refuted (issue 5,
  // W5). The SUSPECT comes first, so the accused has refuted by the time it reads the PING;
  // its ACK piggybacks the refutation, which fits because our ALIVE makes this datagram
  // bigger than the answer (a reply never outgrows its request, see send_reply). One
  // datagram per suspicion started, so it costs no more than the suspicion's own gossip.
  const Member& m = table_[index];
  ++counters_.accusations_notified;
  send_accusation(
      m.record->address,
      wire::Message{wire::Suspect{m.incarnation, std::string(m.name()), std::string(self_name())}},
      wire::Message{wire::Ping{next_seq_++, std::string(self_name()), std::string(m.name())}},
      false);
}

void EngineState::send_accusation(const wire::Address& to, const wire::Message& suspect,
                                  const wire::Message& ping, bool fill) {
  // The SUSPECT first, so the accused has refuted by the time it reads the PING; then our own
  // ALIVE, which makes the datagram big enough for the ACK to carry the refutation back (a
  // reply never outgrows its request, see send_reply); then the PING.
  PacketWriter packet(config_.mtu);
  packet.add(suspect);
  wire::Message alive;
  broadcast_message(kSelf, alive);
  packet.add(alive);
  packet.add(ping);
  if (fill) piggyback(packet);
  send(to, packet);
}

void EngineState::on_dead(uint64_t incarnation, std::string_view target, std::string_view from,
                          TimeMs now) {
  const uint32_t index = accused(incarnation, target, now);
  if (index == kNoIndex) return;
  if (from == target) {
    // A member announces its own departure with LEAVE; a DEAD in its own name is no such thing.
    ++counters_.ignored_messages;
    return;
  }
  // Issue 5: no member dies on another's word alone. A DEAD about a member we see alive is an
  // accusation: it starts our own suspicion, or confirms the one we hold, and only our own
  // timer declares the death. Since its sender's suspicion ran out, it counts as all k
  // confirmations (Lifeguard IV.B): our timeout drops to its floor, which still leaves the
  // accused the full minimum to hear our gossiped suspicion and refute, so a forged DEAD costs
  // a suspicion, not a death (as k forged SUSPECTs from invented names already could).
  accuse(index, incarnation, from, /*verdict=*/true, now);
}

void EngineState::on_leave(uint64_t incarnation, std::string_view name, TimeMs now) {
  const uint32_t index = accused(incarnation, name, now);
  if (index == kNoIndex) return;
  const Member& m = table_[index];
  if (incarnation < m.incarnation || m.state == wire::MemberState::kLeft) {
    ++counters_.ignored_messages;
    return;
  }
  // A member's own LEAVE ends it at once: no suspicion, since it said it is going.
  end_membership(index, wire::MemberState::kLeft, incarnation, now);
}

void EngineState::end_membership(uint32_t index, wire::MemberState state, uint64_t incarnation,
                                 TimeMs now) {
  Member& m = table_[index];
  if (m.suspicion != kNoIndex) {
    suspicions_.stop(m.suspicion);
    m.suspicion = kNoIndex;
  }
  m.incarnation = incarnation;
  table_.set_state(index, state, now);
  queue_broadcast(index);
  emit(state == wire::MemberState::kLeft ? EventKind::kLeave : EventKind::kDead, index, now);
}

bool EngineState::beyond_ceiling(uint64_t incarnation) {
  if (incarnation <= kMaxIncarnation) return false;
  ++counters_.ignored_messages;
  return true;
}

void EngineState::refute(uint64_t accused_incarnation, TimeMs now) {
  (void)now;
  wire::MemberRecord record = self_record();
  record.incarnation = std::max(accused_incarnation, table_[kSelf].incarnation) + 1;
  set_local_record(std::move(record));
  // Lifeguard IV.A: having to refute means others could not hear us; probe more gently.
  awareness_.apply(1);
  ++counters_.refutations;
  queue_broadcast(kSelf);
}

void EngineState::set_local_record(wire::MemberRecord record) {
  record.state = wire::MemberState::kAlive;
  table_[kSelf].incarnation = record.incarnation;
  table_[kSelf].record = RecordRef(pool_->intern(std::move(record)));
}

void EngineState::conflict(const wire::MemberRecord& claimant, TimeMs now) {
  ++counters_.conflicts;
  // Report each distinct claim once, however many times gossip repeats it.
  uint64_t key = std::hash<std::string_view>{}(claimant.name);
  key ^= claimant.id * 0x9e3779b97f4a7c15ULL;
  key ^= claimant.incarnation * 0xbf58476d1ce4e5b9ULL;
  key ^= (uint64_t{claimant.address.port} << 32) ^ claimant.address.bytes[3];
  if (std::find(recent_conflicts_.begin(), recent_conflicts_.end(), key) !=
      recent_conflicts_.end()) {
    return;
  }
  recent_conflicts_[next_conflict_slot_] = key;
  next_conflict_slot_ = (next_conflict_slot_ + 1) % recent_conflicts_.size();
  out_.events.push_back(Event{EventKind::kConflict, claimant.state, claimant.incarnation,
                              pool_->intern(claimant), now});
}

void EngineState::expire_suspicions(TimeMs now) {
  for (uint32_t slot = suspicions_.pop_due(now); slot != kNoIndex;
       slot = suspicions_.pop_due(now)) {
    const uint32_t index = suspicions_[slot].member;
    // SWIM §4.2: a suspicion nobody refuted within the timeout becomes a death.
    ++counters_.deaths;
    end_membership(index, wire::MemberState::kDead, table_[index].incarnation, now);
  }
}

}  // namespace constellation::core
