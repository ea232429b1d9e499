// Streams: join, anti-entropy (SYNC), reconnection to dead members and seeds, the TCP
// fallback ping, and serving the same for others.
//
// Anti-entropy (memberlist push/pull): now and then two members exchange their whole tables
// over a stream and merge them by the usual ordering rules, which repairs whatever gossip lost.
// Reconnection (serf's reconnect): dead members and absent seeds are tried periodically, so
// the halves of a healed partition find each other with no call to join.
#include <algorithm>
#include <bit>
#include <variant>

#include "core/engine_state.h"
#include "wire/have_filter.h"

namespace constellation::core {

void EngineState::join(const std::vector<wire::Address>& seeds, TimeMs now) {
  start_if_needed(now);
  join_seeds_ = 0;
  for (const auto& seed : seeds) {
    if (seed == self_record().address) continue;
    ++join_seeds_;
    if (std::find(seeds_.begin(), seeds_.end(), seed) == seeds_.end() &&
        seeds_.size() < kMaxPendingStreams) {
      seeds_.push_back(seed);
    }
    request_sync(seed, StreamKind::kJoinSync, now);
  }
}

namespace {
// How far ahead a pass over the table asks for records.
constexpr uint32_t kRecordAhead = 8;
}  // namespace

std::vector<uint8_t> EngineState::sync_frame(bool response, bool join,
                                             const wire::HaveFilter& have) {
  // Ourselves first, always: the receiver takes the first record's name as the sender's, to
  // count the sender as one accuser of whatever it reports suspect.
  sync_entries_.clear();
  const auto entries = static_cast<uint32_t>(table_.size());
  if (have.empty()) sync_entries_.reserve(entries);
  for (uint32_t i = 0; i < entries; ++i) {
    // Every entry's record is a load from the pool, a miss in a big table: ask a few ahead.
    if (i + kRecordAhead < entries) __builtin_prefetch(table_[i + kRecordAhead].record.get());
    const Member& m = table_[i];
    // (Without a filter, as in a join's or a push-pull's whole table, nothing is tested.)
    if (i != kSelf && !have.empty() &&
        wire::have_filter_contains(have, pooled_name_hash(*m.record), m.incarnation, m.state)) {
      continue;
    }
    sync_entries_.push_back(
        wire::TableEntry{m.record.get(), m.state, m.incarnation, pooled_alive_message(*m.record)});
  }
  std::vector<uint8_t> frame = wire::encode_sync_frame(response, join, sync_entries_);
  // A big table's scratch is not kept between SYNCs (minutes apart). (Assigning {} would
  // keep the capacity: in the simulator that was 40 bytes per member in every engine that
  // ever sent its table, 4 GB at 10,000 members.)
  if (sync_entries_.capacity() > 1024) std::vector<wire::TableEntry>().swap(sync_entries_);
  return frame;
}

bool EngineState::request_sync(const wire::Address& to, StreamKind kind, TimeMs now,
                               SyncMode mode) {
  if (streams_.size() >= kMaxPendingStreams) return false;
  ++counters_.syncs_requested;
  std::vector<uint8_t> frame =
      mode == SyncMode::kPushPull ? sync_frame(false, kind == StreamKind::kJoinSync) : pull_frame();
  request_stream(to, kind, std::move(frame), 0, now);
  streams_.back().catch_up = mode == SyncMode::kCatchUp;
  return true;
}

std::vector<uint8_t> EngineState::pull_frame() {
  // Our own record (the peer learns of us, or refutes what it thought), and a filter of what
  // we know, so the reply carries only what we lack (wire/have_filter.h). A peer that does not
  // know the filter replies with its whole table, which merges just the same.
  wire::SyncRequest request;
  wire::MemberRecord& me = request.members.emplace_back(*table_[kSelf].record);
  me.state = table_[kSelf].state;
  me.incarnation = table_[kSelf].incarnation;
  request.have = wire::make_have_filter(table_.size(), rng_.next());
  const auto entries = static_cast<uint32_t>(table_.size());
  for (uint32_t i = 0; i < entries; ++i) {
    if (i + kRecordAhead < entries) __builtin_prefetch(table_[i + kRecordAhead].record.get());
    const Member& m = table_[i];
    wire::have_filter_add(request.have, pooled_name_hash(*m.record), m.incarnation, m.state);
  }
  return wire::encode_frame(wire::Message{std::move(request)});
}

uint64_t EngineState::request_stream(const wire::Address& to, StreamKind kind,
                                     std::vector<uint8_t> frame, uint32_t seq, TimeMs now) {
  const uint64_t id = next_stream_id_++;
  // A TCP ping only matters within its probe period; a SYNC gets the stream timeout.
  const TimeMs deadline = kind == StreamKind::kPing
                              ? std::max(next_probe_at_, now + config_.probe_timeout_ms)
                              : now + config_.stream_timeout_ms;
  streams_.push_back(PendingStream{id, kind, deadline, seq, to});
  counters_.stream_bytes_out += frame.size();
  out_.streams.push_back(StreamRequest{id, to, kind, std::move(frame)});
  return id;
}

bool EngineState::decode_frame(std::span<const uint8_t> frame, wire::DecodedPacket& out) {
  counters_.stream_bytes_in += frame.size();
  uint32_t length = 0;
  wire::DecodeError error = wire::read_frame_length(frame, wire::kMaxStreamFrameBytes, length);
  if (error == wire::DecodeError::kNone && frame.size() - wire::kFrameHeaderSize < length) {
    error = wire::DecodeError::kTruncated;
  }
  if (error == wire::DecodeError::kNone) {
    out.messages.clear();
    error = wire::decode_packet(frame.subspan(wire::kFrameHeaderSize, length), limits_, out);
  }
  if (error != wire::DecodeError::kNone) {
    ++counters_.rejected[static_cast<size_t>(error)];
    return false;
  }
  counters_.unknown_messages += out.skipped_unknown;
  return true;
}

void EngineState::merge(std::vector<wire::MemberRecord>& members, TimeMs now, bool gossip_new) {
  if (members.empty()) return;
  const std::string sender = members.front().name;
  for (auto& record : members) {
    switch (record.state) {
      case wire::MemberState::kAlive:
        on_alive(std::move(record), now, gossip_new);
        break;
      case wire::MemberState::kSuspect:
        on_suspect(record.incarnation, record.name, sender, now);
        break;
      case wire::MemberState::kDead:
        // As by gossip (and memberlist's mergeState): a death we did not witness is only a
        // suspicion here, so a member the other side lost (a partition) can refute.
        on_dead(record.incarnation, record.name, sender, now);
        break;
      case wire::MemberState::kLeft:
        on_leave(record.incarnation, record.name, now);
        break;
    }
  }
}

bool EngineState::stream_response(uint64_t id, std::span<const uint8_t> frame, TimeMs now) {
  start_if_needed(now);
  const auto it = std::find_if(streams_.begin(), streams_.end(),
                               [id](const PendingStream& s) { return s.id == id; });
  if (it == streams_.end()) return false;
  const PendingStream pending = *it;
  streams_.erase(it);
  wire::DecodedPacket packet;
  if (!decode_frame(frame, packet)) {
    ++counters_.streams_failed;
    return false;
  }
  for (auto& message : packet.messages) {
    if (pending.kind == StreamKind::kPing) {
      const auto* ack = std::get_if<wire::Ack>(&message);
      if (ack == nullptr || ack->seq != pending.seq) continue;
      if ((probe_.phase == ProbePhase::kDirect || probe_.phase == ProbePhase::kIndirect) &&
          probe_.seq == pending.seq) {
        probe_acked(false);
      }
      return true;
    }
    auto* response = std::get_if<wire::SyncResponse>(&message);
    if (response == nullptr) continue;
    const uint64_t incarnation_before = table_[kSelf].incarnation;
    // A fresh member joining through one seed knows nobody else, so everyone the seed tells
    // it about is already known to the cluster (or being spread by the seed, which heard of
    // them first): gossiping them again would only repeat the seed's news to those who have
    // it. In a join storm of n members that repetition is n^2/2 updates, each sent
    // retransmit-limit times. Members it learns any other way are gossiped as usual. A member
    // that knew others, or joins through several seeds at once (they may be in different
    // clusters, each of which must hear of the other at once), gossips everything.
    const bool fresh =
        pending.kind == StreamKind::kJoinSync && table_.size() == 1 && join_seeds_ == 1;
    const size_t known_before = table_.size();
    // A catch-up pull's news is not gossiped either: the peer learned it by gossip that
    // reached most of the cluster, and the members that missed it pull too. Gossiping it again
    // kept every queue full for minutes after a 10,000-member join storm.
    merge(response->members, now, !fresh && !pending.catch_up);
    const bool fruitful = table_.size() > known_before;
    catch_up_fruitful_ = pending.kind == StreamKind::kSync && fruitful;
    if (pending.catch_up && !fruitful) {
      catch_up_backoff_ = catch_up_backoff_ == 0 ? kCatchUpFirstBackoff * config_.probe_interval_ms
                                                 : 2 * catch_up_backoff_;
      catch_up_tail_ = catch_up_backoff_ <= kCatchUpLastBackoff * config_.probe_interval_ms;
    } else {
      catch_up_backoff_ = 0;
      catch_up_tail_ = false;
    }
    synced_size_ = table_.size();
    synced_at_ = now;
    news_count_ = 0;
    ++counters_.syncs_completed;
    if (pending.kind == StreamKind::kJoinSync) {
      // Joined: announce ourselves afresh to the cluster we now know (SWIM §4.1 join).
      queue_broadcast(kSelf);
      // Until our ALIVE has spread, nobody gossips to us: news that went round in the
      // meantime (other members joining with us) passes us by and would wait for the next
      // anti-entropy round, minutes away in a big cluster. So one more SYNC with each member
      // we joined through, two probe periods on: it heard directly from everyone who
      // joined through it since.
      settle_sync_at_ = now + 2 * config_.probe_interval_ms;
      // Fresh, we have nothing the seed lacks, so that SYNC only pulls: one record out instead
      // of the whole table. Otherwise it pushes everything.
      settle_pull_only_ = fresh;
      // Having just merged the whole table (and with the follow-up to come), the next
      // anti-entropy round is due one interval on, scaled now that we know how big the cluster
      // is (memberlist's pushPullScale), at a random point so that members that joined
      // together do not sync together. Before joining we knew nobody and the first round was
      // staggered over the unscaled interval: in a 10,000-member cluster that would be 10,000
      // whole-table exchanges within the first 30 s of a join storm.
      if (config_.push_pull_interval_ms > 0) {
        push_pull_at_ =
            now + 1 + static_cast<TimeMs>(rng_.below(static_cast<uint64_t>(push_pull_interval())));
      }
      if (std::find(settle_sync_to_.begin(), settle_sync_to_.end(), pending.to) ==
              settle_sync_to_.end() &&
          settle_sync_to_.size() < kMaxPendingStreams) {
        settle_sync_to_.push_back(pending.to);
      }
    }
    if (table_[kSelf].incarnation != incarnation_before && !leaving_) {
      // We had to refute what the peer believed about us; tell it straight away, since
      // gossip may not reach it (it may think us dead and not talk to us).
      wire::Message alive;
      broadcast_message(kSelf, alive);
      send_with_piggyback(pending.to, alive);
    }
    return true;
  }
  ++counters_.ignored_messages;
  return false;
}

void EngineState::stream_failed(uint64_t id, TimeMs now) {
  start_if_needed(now);
  const auto it = std::find_if(streams_.begin(), streams_.end(),
                               [id](const PendingStream& s) { return s.id == id; });
  if (it == streams_.end()) return;
  streams_.erase(it);
  ++counters_.streams_failed;
}

std::vector<uint8_t> EngineState::serve_stream(const wire::Address& from,
                                               std::span<const uint8_t> frame, TimeMs now) {
  (void)from;
  start_if_needed(now);
  wire::DecodedPacket packet;
  if (!decode_frame(frame, packet)) return {};
  for (auto& message : packet.messages) {
    if (auto* request = std::get_if<wire::SyncRequest>(&message)) {
      // Merge first: if the peer's view made us refute, our reply already carries the fix.
      merge(request->members, now);
      ++counters_.syncs_served;
      std::vector<uint8_t> reply = sync_frame(true, request->join, request->have);
      counters_.stream_bytes_out += reply.size();
      return reply;
    }
    if (const auto* ping = std::get_if<wire::Ping>(&message)) {
      if (!ping->target.empty() && ping->target != self_name()) return {};
      std::vector<uint8_t> reply =
          wire::encode_frame(wire::Message{wire::Ack{ping->seq, std::string(self_name())}});
      counters_.stream_bytes_out += reply.size();
      return reply;
    }
  }
  ++counters_.ignored_messages;
  return {};
}

void EngineState::stream_tick(TimeMs now) {
  std::erase_if(streams_, [&](const PendingStream& s) {
    if (s.deadline > now) return false;
    ++counters_.streams_failed;
    return true;
  });
}

TimeMs EngineState::push_pull_interval() const {
  // memberlist pushPullScale: above 32 members, one more interval per doubling, so the
  // cluster-wide SYNC load (each one O(n)) grows like n log n rather than n^2.
  constexpr size_t kThreshold = 32;
  const size_t n = live_members();
  if (n <= kThreshold) return config_.push_pull_interval_ms;
  // ceil(log2 n) - log2 32 + 1
  const auto multiplier = static_cast<TimeMs>(std::bit_width(n - 1) - 5 + 1);
  return multiplier * config_.push_pull_interval_ms;
}

void EngineState::push_pull_tick(TimeMs now) {
  if (now >= settle_sync_at_) {
    settle_sync_at_ = kNever;
    // Every seed we joined through: if they were in different clusters, this is also where
    // each side learns the members of the other.
    if (!leaving_) {
      for (const wire::Address& seed : settle_sync_to_) {
        request_sync(seed, StreamKind::kSync, now,
                     settle_pull_only_ ? SyncMode::kPull : SyncMode::kPushPull);
      }
    }
    settle_sync_to_.clear();
  }
  if (now < push_pull_at_) return;
  push_pull_at_ = now + push_pull_interval();
  if (leaving_) return;
  sync_with_random_member(now, SyncMode::kPushPull);
}

// Catching up. A member that joined early in a join storm learns of everyone who joined after
// it by gossip alone. Members that join later learn the table from their seed's SYNC and, to
// keep a storm of n joins from costing n^2/2 extra updates, do not gossip it again (the
// "fresh" merge in stream_response). So an update about a member that joined mid-storm has
// fewer members spreading it than memberlist's arithmetic assumes, and it waits behind newer
// news in every queue (newest first) until the storm is over. Measured at 4,000 members
// joining 2 ms apart (the storm is over at 8 s): at 60 s, early joiners still missed 992
// pairs, mostly mid-storm joiners, and those waited for their next anti-entropy round (the
// scaled interval, 240 s at that size); the cluster converged at 252 s.
// So a member pulls one whole table from a random live member when
// - gossip has grown its table by a quarter (and by at least kCatchUpMinMembers) since it
//   last merged a whole one it asked for, or that table (any SYNC but a join's) taught it of
//   members gossip had not brought: a chain of pulls, each one squaring the share of pairs
//   still missing, until a pull finds nothing new; then a tail of four more pulls, 4, 8, 16
//   and 32 probe periods apart, a fruitful one starting the chain again. A fruitless pull
//   only says the peer knew no more than we do, and mid-convergence that is often so: at
//   4,000 members the last pair (a member that joined at 3.2 s, not knowing one that joined
//   at 5.3 s) waited from 24 s to 41 s because its chain had ended (23.3 s with the tail).
//   At 10,000, a tail of two (4 and 8 periods) converged at 64.4 s, this one at 57.2 s;
// - and no sooner than two probe periods after that merge, once gossip has gone quiet: fewer
//   than 1/kCatchUpQuietShare of the table (at least one, at most kCatchUpNews) new in the
//   last two probe periods. A big table always hears a trickle of stragglers after a storm;
//   waiting for silence there left the pulls until the tail was all that was left.
// A single join never arms it. Measured at 4,000 members (2 threads): waiting for silence
// and chaining only catch-up pulls converged at 80 s; with the chain started by any fruitful
// SYNC (members whose anti-entropy round fell mid-storm were the last pairs) and the
// proportional quiet, at 34.5 s, for 1.4 more whole-table pulls per member. At 6,000: more
// than 200 s (2 pairs still missing), now 32.9 s.
// A pull carries a filter of what we know (wire/have_filter.h), so a peer sends back only
// what we lack: a pull from a 10,000-member table costs a 25 KB request and, once we are
// nearly complete, a reply of a few records, where it was the whole 600 KB table. What it
// teaches us we do not gossip (stream_response).
namespace {
constexpr size_t kCatchUpMinMembers = 32;
constexpr size_t kCatchUpQuietShare = 128;
constexpr size_t kCatchUpGrowthShare = 4;
}  // namespace

TimeMs EngineState::catch_up_at() const {
  if (leaving_) return kNever;
  const bool grown = table_.size() >= synced_size_ + std::max(synced_size_ / kCatchUpGrowthShare,
                                                              kCatchUpMinMembers);
  if (!catch_up_fruitful_ && !grown && !catch_up_tail_) return kNever;
  const TimeMs wait =
      catch_up_fruitful_ || grown ? 2 * config_.probe_interval_ms : catch_up_backoff_;
  // Quiet: fewer than `allowed` new members in the last two probe periods.
  const size_t allowed = std::clamp<size_t>(table_.size() / kCatchUpQuietShare, 1, kCatchUpNews);
  TimeMs from = synced_at_;
  if (news_count_ >= allowed) {
    from = std::max(from, news_at_[(news_count_ - allowed) % kCatchUpNews]);
  }
  return from + wait;
}

void EngineState::catch_up_tick(TimeMs now) {
  if (now < catch_up_at()) return;
  // Counted as synced when asked: a pull that fails is not retried; anti-entropy follows.
  synced_size_ = table_.size();
  synced_at_ = now;
  news_count_ = 0;
  catch_up_fruitful_ = false;
  catch_up_tail_ = false;
  sync_with_random_member(now, SyncMode::kCatchUp);
}

void EngineState::sync_with_random_member(TimeMs now, SyncMode mode) {
  sample(
      1,
      [&](uint32_t index) {
        return index != kSelf && table_[index].state == wire::MemberState::kAlive;
      },
      picks_);
  if (picks_.empty()) return;
  request_sync(table_[picks_.front()].record->address, StreamKind::kSync, now, mode);
}

TimeMs EngineState::reconnect_delay() {
  // The interval +-25 %, drawn afresh each time: members that lost the same peers at the same
  // moment (one partition) would otherwise all retry them in the same tick, every interval.
  const TimeMs interval = config_.reconnect_interval_ms;
  return interval - interval / 4 +
         static_cast<TimeMs>(rng_.below(static_cast<uint64_t>(interval / 2 + 1)));
}

void EngineState::reconnect_tick(TimeMs now) {
  if (now < reconnect_at_) return;
  reconnect_at_ = now + reconnect_delay();
  if (leaving_) return;
  // One dead member, chosen at random (serf reconnect): if it is in fact alive on the other
  // side of a healed partition, the SYNC makes both sides refute and re-merge.
  if (table_.count(wire::MemberState::kDead) > 0) {
    const auto n = static_cast<uint32_t>(table_.size());
    const auto start = static_cast<uint32_t>(rng_.below(n));
    for (uint32_t k = 0; k < n; ++k) {
      const uint32_t i = (start + k) % n;
      if (table_[i].state == wire::MemberState::kDead) {
        request_sync(table_[i].record->address, StreamKind::kSync, now);
        break;
      }
    }
  }
  // One seed, in turn, if no live member of ours is at its address: after a partition or a
  // restart of the whole cluster, the seeds are where the others will be.
  if (!seeds_.empty()) {
    const wire::Address& seed = seeds_[next_seed_++ % seeds_.size()];
    bool present = false;
    for (uint32_t i = 1; i < table_.size() && !present; ++i) {
      present = is_probeable(table_[i].state) && table_[i].record->address == seed;
    }
    if (!present) request_sync(seed, StreamKind::kSync, now);
  }
}

}  // namespace constellation::core
