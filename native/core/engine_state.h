// The engine's state and the rules that change it. Private to native/core: the host sees only
// engine.h. The methods are spread over files by idea:
//   engine.cc      construction, input dispatch, timers, queries
//   membership.cc  the update ordering rules (alive/suspect/dead/leave), refutation, conflicts
//   probe.cc       the probe cycle, indirect probes and relays (SWIM §4, Lifeguard)
//   gossip.cc      packing updates into packets, the gossip round
//   sync.cc        join, anti-entropy, reconnection, stream requests and serving
//   tombstones.cc  reaping dead and left members
#pragma once

#include <array>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/awareness.h"
#include "core/broadcast_queue.h"
#include "core/config.h"
#include "core/counters.h"
#include "core/engine.h"
#include "core/member_table.h"
#include "core/packet_writer.h"
#include "core/probe.h"
#include "core/record_pool.h"
#include "core/rng.h"
#include "core/suspicion.h"
#include "wire/codec.h"
#include "wire/messages.h"

namespace constellation::core {

inline constexpr uint32_t kSelf = 0;  // our own entry is always first in the table
inline constexpr size_t kMaxPendingStreams = 64;

// Members we probe and count as part of the cluster: alive, or suspected but not yet dead.
inline bool is_probeable(wire::MemberState state) {
  return state == wire::MemberState::kAlive || state == wire::MemberState::kSuspect;
}

struct PendingStream {
  uint64_t id = 0;
  StreamKind kind = StreamKind::kSync;
  TimeMs deadline = 0;
  uint32_t seq = 0;  // kPing: the probe's sequence number
  wire::Address to;
  bool catch_up = false;  // a catch-up pull (SyncMode::kCatchUp)
};

// What a SYNC we ask for sends, and what we do with the members it teaches us (sync.cc).
enum class SyncMode : uint8_t {
  kPushPull,  // our whole table goes too; what we learn is gossiped like any news
  kPull,      // our own record and a filter of what we know; what we learn is gossiped
  kCatchUp,   // a pull whose news is not gossiped again (sync.cc, "Catching up")
};

class EngineState {
 public:
  EngineState(Config config, wire::MemberRecord local, uint64_t seed,
              std::shared_ptr<RecordPool> pool);

  // ---- engine.cc ----
  void start_if_needed(TimeMs now);
  void receive(const wire::Address& from, std::span<const uint8_t> datagram, TimeMs now);
  void prefetch_subjects() const;
  void dispatch(const wire::Address& from, wire::Message& message, TimeMs now);
  void tick(TimeMs now);
  void recover_from_stall(TimeMs now);
  TimeMs next_deadline() const;
  void emit(EventKind kind, uint32_t member, TimeMs now);
  MemberInfo info(uint32_t index) const;
  size_t live_members() const;  // alive + suspect, ourselves included
  std::string_view self_name() const { return table_[kSelf].name(); }
  const wire::MemberRecord& self_record() const { return *table_[kSelf].record; }
  UpdateError update_local(wire::Resources resources, wire::Tags tags, TimeMs now);
  void leave(TimeMs now);
  bool force_leave(std::string_view name, TimeMs now);
  bool leave_complete() const;
  size_t memory_bytes() const;

  // ---- membership.cc ----
  // `gossip_new`: a member this adds to the table is queued for gossip (false only for the
  // table a fresh member receives with its join, see stream_response).
  void on_alive(wire::MemberRecord&& record, TimeMs now, bool gossip_new = true);
  void on_suspect(uint64_t incarnation, std::string_view target, std::string_view from, TimeMs now);
  void on_dead(uint64_t incarnation, std::string_view target, std::string_view from, TimeMs now);
  void on_leave(uint64_t incarnation, std::string_view name, TimeMs now);
  void on_self_alive(const wire::MemberRecord& record, TimeMs now);
  // The shared start of SUSPECT/DEAD/LEAVE: the index of the (other) member `target`, or
  // kNoIndex when there is nothing more to do (unknown, forged incarnation, or ourselves, in
  // which case the accusation has been answered).
  uint32_t accused(uint64_t incarnation, std::string_view target, TimeMs now);
  // Someone says we are suspect, dead or gone: refute, or re-announce if the claim is stale.
  void answer_accusation(uint64_t incarnation, TimeMs now);
  // A SUSPECT or DEAD (`verdict`) about another member from `from`: start or confirm our
  // suspicion.
  void accuse(uint32_t index, uint64_t incarnation, std::string_view from, bool verdict,
              TimeMs now);
  void notify_accused(uint32_t index);
  // One datagram to an accused member: `suspect`, our ALIVE, `ping`; `fill`: then gossip.
  // Used by notify_accused and by the buddy probe of a suspect (probe.cc).
  void send_accusation(const wire::Address& to, const wire::Message& suspect,
                       const wire::Message& ping, bool fill);
  void suspect(uint32_t index, uint64_t incarnation, std::string_view from, TimeMs now);
  // Ends a membership as kDead (our suspicion ran out) or kLeft (its LEAVE, or force_leave).
  void end_membership(uint32_t index, wire::MemberState state, uint64_t incarnation, TimeMs now);
  void refute(uint64_t accused_incarnation, TimeMs now);
  void conflict(const wire::MemberRecord& claimant, TimeMs now);
  void expire_suspicions(TimeMs now);
  void set_local_record(wire::MemberRecord record);

  // ---- probe.cc ----
  void probe_tick(TimeMs now);
  void start_probe(TimeMs now);
  void start_indirect(TimeMs now);
  void conclude_probe(TimeMs now);
  void on_ping(const wire::Address& from, const wire::Ping& ping, TimeMs now);
  void on_ack(const wire::Ack& ack, TimeMs now);
  void on_nack(const wire::Nack& nack);
  void on_ping_req(const wire::Address& from, const wire::PingReq& request, TimeMs now);
  void relay_tick(TimeMs now);
  void probe_acked(bool direct);

  // ---- gossip.cc ----
  void queue_broadcast(uint32_t index);
  bool broadcast_message(uint32_t index, wire::Message& out) const;
  bool add_broadcast(uint32_t index, PacketWriter& packet);
  void piggyback(PacketWriter& packet);
  void send(const wire::Address& to, PacketWriter& packet);
  // Incarnations above this are refused as forged. Nothing honest gets there (one refutation
  // a millisecond would take 10^8 years), and refusing them is what keeps a refutation's
  // max(accused, ours) + 1 from wrapping to 0 and handing the member's name to the attacker.
  static constexpr uint64_t kMaxIncarnation = uint64_t{1} << 62;
  bool beyond_ceiling(uint64_t incarnation);
  // Bytes of the datagram being handled: a reply to it piggybacks at most this much (no
  // amplification: an unauthenticated packet never draws a bigger answer than itself).
  size_t reply_budget_ = 0;
  // Answers the datagram being handled: `first` (and `second`) always go, piggybacked updates
  // only up to reply_budget_.
  void send_reply(const wire::Address& to, const wire::Message& first,
                  const wire::Message* second = nullptr);
  void send_with_piggyback(const wire::Address& to, const wire::Message& first,
                           const wire::Message* second = nullptr);
  void gossip(TimeMs now);
  template <class Pred>
  void sample(size_t k, Pred eligible, std::vector<uint32_t>& out);

  // ---- sync.cc ----
  void join(const std::vector<wire::Address>& seeds, TimeMs now);
  // False if too many streams are pending to start another.
  bool request_sync(const wire::Address& to, StreamKind kind, TimeMs now,
                    SyncMode mode = SyncMode::kPushPull);
  uint64_t request_stream(const wire::Address& to, StreamKind kind, std::vector<uint8_t> frame,
                          uint32_t seq, TimeMs now);
  // Our table as a SYNC request or response frame: every member but those `have` says the
  // requester already knows (ourselves always, first).
  std::vector<uint8_t> sync_frame(bool response, bool join, const wire::HaveFilter& have = {});
  // A pulling SYNC request: our own record and a filter of our table (SyncMode kPull).
  std::vector<uint8_t> pull_frame();
  void merge(std::vector<wire::MemberRecord>& members, TimeMs now, bool gossip_new = true);
  bool stream_response(uint64_t id, std::span<const uint8_t> frame, TimeMs now);
  void stream_failed(uint64_t id, TimeMs now);
  std::vector<uint8_t> serve_stream(const wire::Address& from, std::span<const uint8_t> frame,
                                    TimeMs now);
  bool decode_frame(std::span<const uint8_t> frame, wire::DecodedPacket& out);
  void stream_tick(TimeMs now);
  // A SYNC with a random live member (anti-entropy; a catch-up pull, see sync.cc "Catching
  // up").
  void sync_with_random_member(TimeMs now, SyncMode mode);
  void catch_up_tick(TimeMs now);
  TimeMs catch_up_at() const;  // kNever while not armed
  void push_pull_tick(TimeMs now);
  void reconnect_tick(TimeMs now);
  TimeMs reconnect_delay();  // the next reconnect interval, with random jitter
  TimeMs push_pull_interval() const;

  // ---- tombstones.cc ----
  void reap_tick(TimeMs now);
  TimeMs reap_check_interval() const;

  Config config_;
  std::shared_ptr<RecordPool> pool_;
  wire::Limits limits_;
  Rng rng_;
  MemberTable table_;
  Awareness awareness_;
  SuspicionSet suspicions_;
  BroadcastQueue broadcasts_;
  ProbeOrder probe_order_;
  Probe probe_;
  std::vector<Relay> relays_;
  std::vector<PendingStream> streams_;
  std::vector<wire::Address> seeds_;
  Outputs out_;
  Counters counters_;

  bool started_ = false;
  bool leaving_ = false;
  std::vector<wire::TableEntry> sync_entries_;  // scratch for sync_frame
  bool leave_timed_out_ = false;
  TimeMs leave_deadline_ = kNever;
  TimeMs next_probe_at_ = 0;
  TimeMs gossip_at_ = 0;
  TimeMs push_pull_at_ = kNever;
  // The one SYNC after a join (sync.cc), and with whom.
  TimeMs settle_sync_at_ = kNever;
  std::vector<wire::Address> settle_sync_to_;
  // The join reached us fresh through a single seed: the follow-up SYNC only pulls.
  bool settle_pull_only_ = false;
  size_t join_seeds_ = 0;  // seeds the last join() asked
  // Catching up (sync.cc): the table's size and the time when a whole table we asked for last
  // arrived (or when we last asked for a catch-up pull), and when we learned of the most
  // recent new members since (a ring of the last kCatchUpNews; news_count_ counts them all).
  static constexpr size_t kCatchUpNews = 32;
  // The tail of the chain: after a fruitless catch-up pull, more pulls 4, 8, 16 and 32 probe
  // periods apart (sync.cc "Catching up").
  static constexpr TimeMs kCatchUpFirstBackoff = 4;
  static constexpr TimeMs kCatchUpLastBackoff = 32;
  size_t synced_size_ = 1;
  TimeMs synced_at_ = 0;
  std::array<TimeMs, kCatchUpNews> news_at_{};
  size_t news_count_ = 0;
  // The last whole table we asked for (any SYNC but a join's) taught us of new members.
  bool catch_up_fruitful_ = false;
  // After a catch-up pull that found nothing: the wait before the next one (doubling), and
  // whether it is still to come. 0 and false once a whole table came any other way.
  TimeMs catch_up_backoff_ = 0;
  bool catch_up_tail_ = false;
  TimeMs reconnect_at_ = kNever;
  TimeMs reap_at_ = kNever;
  // The datagram being handled accused us: a PING in it is answered with our ALIVE.
  bool answer_in_ack_ = false;
  // Before this, a stale accusation about us does not re-announce our ALIVE (rate limit).
  TimeMs reannounce_after_ = 0;
  TimeMs last_tick_ = 0;
  uint32_t next_seq_ = 1;
  uint64_t next_stream_id_ = 1;
  size_t next_seed_ = 0;
  // Recently reported conflicts (hashes), so a claimant gossiped many times is reported once.
  std::array<uint64_t, 16> recent_conflicts_{};
  size_t next_conflict_slot_ = 0;
  // Scratch kept between calls to avoid allocating per packet.
  wire::DecodedPacket decoded_;
  std::vector<uint32_t> picks_;
  wire::Message scratch_message_;
};

template <class Pred>
void EngineState::sample(size_t k, Pred eligible, std::vector<uint32_t>& out) {
  // Uniform choice of up to k distinct eligible members. Small tables: collect and partially
  // shuffle. Large ones: bounded random tries, O(k) whatever the table size.
  out.clear();
  if (k == 0) return;
  const size_t n = table_.size();
  if (n <= 8 * k + 32) {
    for (uint32_t i = 0; i < n; ++i) {
      if (eligible(i)) out.push_back(i);
    }
    const size_t take = std::min(k, out.size());
    for (size_t i = 0; i < take; ++i) {
      const size_t j = i + static_cast<size_t>(rng_.below(out.size() - i));
      std::swap(out[i], out[j]);
    }
    out.resize(take);
    return;
  }
  for (size_t tries = 0; tries < 8 * k && out.size() < k; ++tries) {
    const auto i = static_cast<uint32_t>(rng_.below(n));
    if (!eligible(i)) continue;
    if (std::find(out.begin(), out.end(), i) != out.end()) continue;
    out.push_back(i);
  }
}

}  // namespace constellation::core
