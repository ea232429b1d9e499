// Engine: construction, input dispatch, timers and queries. The protocol rules live in the
// files engine_state.h lists.
#include "core/engine.h"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <variant>

#include "core/engine_state.h"

namespace constellation::core {

const char* event_name(EventKind kind) {
  switch (kind) {
    case EventKind::kJoin:
      return "join";
    case EventKind::kAlive:
      return "alive";
    case EventKind::kSuspect:
      return "suspect";
    case EventKind::kDead:
      return "dead";
    case EventKind::kLeave:
      return "leave";
    case EventKind::kUpdate:
      return "update";
    case EventKind::kConflict:
      return "conflict";
  }
  return "unknown";
}

const char* stream_kind_name(StreamKind kind) {
  switch (kind) {
    case StreamKind::kJoinSync:
      return "join-sync";
    case StreamKind::kSync:
      return "sync";
    case StreamKind::kPing:
      return "ping";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// EngineState

EngineState::EngineState(Config config, wire::MemberRecord local, uint64_t seed,
                         std::shared_ptr<RecordPool> pool)
    : config_(std::move(config)),
      pool_(pool ? std::move(pool) : std::make_shared<RecordPool>()),
      rng_(seed),
      awareness_(config_.awareness_max_multiplier) {
  if (std::string error = config_.validate(); !error.empty()) {
    throw std::invalid_argument("invalid engine config: " + error);
  }
  if (local.name.empty() || local.name.size() > wire::kMaxNameBytes) {
    throw std::invalid_argument("local member name must be 1 .. 255 bytes");
  }
  if (wire::encoded_record_size(local) > config_.max_record_bytes) {
    throw std::invalid_argument("local member record exceeds max_record_bytes");
  }
  limits_.max_record_bytes = config_.max_record_bytes;
  local.state = wire::MemberState::kAlive;
  const uint64_t incarnation = local.incarnation;
  table_.add(pool_->intern(std::move(local)), wire::MemberState::kAlive, incarnation, 0);
  // Announce ourselves (the ALIVE of a join, SWIM §4.1) as soon as there is anyone to tell.
  queue_broadcast(kSelf);
}

void EngineState::start_if_needed(TimeMs now) {
  if (started_) return;
  started_ = true;
  last_tick_ = now;
  table_[kSelf].state_changed_at = now;
  // Random phases, so engines started together do not probe and gossip in lockstep.
  next_probe_at_ = now + static_cast<TimeMs>(rng_.below(config_.probe_interval_ms));
  gossip_at_ = now + static_cast<TimeMs>(rng_.below(config_.gossip_interval_ms));
  if (config_.push_pull_interval_ms > 0) {
    // The first anti-entropy round comes at a random point within the first interval (as
    // memberlist staggers it), not after it: an ALIVE that a join storm's gossip happened to
    // miss is then repaired within one interval instead of up to two.
    push_pull_at_ = now + 1 + static_cast<TimeMs>(rng_.below(config_.push_pull_interval_ms));
  }
  if (config_.reconnect_interval_ms > 0) reconnect_at_ = now + reconnect_delay();
  reap_at_ = now + reap_check_interval();
}

void EngineState::receive(const wire::Address& from, std::span<const uint8_t> datagram,
                          TimeMs now) {
  start_if_needed(now);
  ++counters_.packets_in;
  counters_.bytes_in += datagram.size();
  decoded_.messages.clear();
  const wire::DecodeError error = wire::decode_packet(datagram, limits_, decoded_);
  if (error != wire::DecodeError::kNone) {
    ++counters_.rejected[static_cast<size_t>(error)];
    return;
  }
  counters_.unknown_messages += decoded_.skipped_unknown;
  counters_.messages_in += decoded_.messages.size();
  reply_budget_ = datagram.size();
  prefetch_subjects();
  answer_in_ack_ = false;
  for (auto& message : decoded_.messages) dispatch(from, message, now);
}

void EngineState::prefetch_subjects() const {
  // Gossip is mostly lookups of the members it names; see MemberTable::prefetch_slot.
  const auto subject = [](const wire::Message& message) -> std::string_view {
    if (const auto* m = std::get_if<wire::Alive>(&message)) return m->member.name;
    if (const auto* m = std::get_if<wire::Suspect>(&message)) return m->target;
    if (const auto* m = std::get_if<wire::Dead>(&message)) return m->target;
    if (const auto* m = std::get_if<wire::Leave>(&message)) return m->name;
    return {};
  };
  if (decoded_.messages.size() < 2) return;
  for (const auto& message : decoded_.messages) table_.prefetch_slot(subject(message));
  for (const auto& message : decoded_.messages) table_.prefetch_entry(subject(message));
}

void EngineState::dispatch(const wire::Address& from, wire::Message& message, TimeMs now) {
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, wire::Ping>) {
          on_ping(from, m, now);
        } else if constexpr (std::is_same_v<T, wire::Ack>) {
          on_ack(m, now);
        } else if constexpr (std::is_same_v<T, wire::PingReq>) {
          on_ping_req(from, m, now);
        } else if constexpr (std::is_same_v<T, wire::Nack>) {
          on_nack(m);
        } else if constexpr (std::is_same_v<T, wire::Alive>) {
          on_alive(std::move(m.member), now);
        } else if constexpr (std::is_same_v<T, wire::Suspect>) {
          on_suspect(m.incarnation, m.target, m.from, now);
        } else if constexpr (std::is_same_v<T, wire::Dead>) {
          on_dead(m.incarnation, m.target, m.from, now);
        } else if constexpr (std::is_same_v<T, wire::Leave>) {
          on_leave(m.incarnation, m.name, now);
        } else {
          // SYNC belongs on streams; user messages have no handler yet.
          ++counters_.ignored_messages;
        }
      },
      message);
}

void EngineState::tick(TimeMs now) {
  start_if_needed(now);
  // A host that follows next_deadline() ticks at least once per (stretched) probe interval.
  // A much longer gap means we were not running (a GC pause, SIGSTOP, an overloaded host).
  if (now - last_tick_ >
      2 * awareness_.scale(config_.probe_interval_ms) + config_.probe_interval_ms) {
    recover_from_stall(now);
  }
  last_tick_ = now;
  expire_suspicions(now);
  relay_tick(now);
  stream_tick(now);
  probe_tick(now);
  if (now >= gossip_at_) {
    gossip(now);
    gossip_at_ = now + config_.gossip_interval_ms;
  }
  push_pull_tick(now);
  catch_up_tick(now);
  reconnect_tick(now);
  reap_tick(now);
  if (leaving_ && !leave_timed_out_ && now >= leave_deadline_) leave_timed_out_ = true;
}

void EngineState::recover_from_stall(TimeMs now) {
  // Every timer that ran out while we were stopped measured our absence, not the peers'. The
  // probe in flight is dropped without penalty; suspicions that expired meanwhile get one more
  // protocol period, so the refutations queued for us while we were stopped (delivered now)
  // can arrive before we declare anyone dead; and, in Lifeguard's spirit (IV.A), a member
  // that was unresponsive trusts its own judgement less for a while.
  ++counters_.stalls;
  probe_.phase = ProbePhase::kIdle;
  next_probe_at_ = now;
  relays_.clear();
  suspicions_.postpone_until(now + config_.probe_interval_ms);
  awareness_.apply(1);
}

TimeMs EngineState::next_deadline() const {
  if (!started_) return 0;
  TimeMs next = suspicions_.next_deadline();
  next = std::min(next, next_probe_at_);
  if (probe_.phase == ProbePhase::kDirect) next = std::min(next, probe_.direct_deadline);
  if (!broadcasts_.empty()) next = std::min(next, gossip_at_);
  next = std::min(next, push_pull_at_);
  next = std::min(next, settle_sync_at_);
  next = std::min(next, catch_up_at());
  next = std::min(next, reconnect_at_);
  if (table_.count(wire::MemberState::kDead) + table_.count(wire::MemberState::kLeft) > 0) {
    next = std::min(next, reap_at_);
  }
  for (const auto& r : relays_) next = std::min(next, r.due());
  for (const auto& s : streams_) next = std::min(next, s.deadline);
  if (leaving_ && !leave_timed_out_) next = std::min(next, leave_deadline_);
  return next;
}

void EngineState::emit(EventKind kind, uint32_t member, TimeMs now) {
  const Member& m = table_[member];
  out_.events.push_back(Event{kind, m.state, m.incarnation, m.record.shared(), now});
}

MemberInfo EngineState::info(uint32_t index) const {
  const Member& m = table_[index];
  return MemberInfo{m.record.shared(), m.state, m.incarnation, m.state_changed_at, index == kSelf};
}

size_t EngineState::live_members() const {
  return table_.count(wire::MemberState::kAlive) + table_.count(wire::MemberState::kSuspect);
}

UpdateError EngineState::update_local(wire::Resources resources, wire::Tags tags, TimeMs now) {
  start_if_needed(now);
  if (leaving_) return UpdateError::kLeft;
  wire::MemberRecord record = self_record();
  record.resources = resources;
  record.tags = std::move(tags);
  record.incarnation = table_[kSelf].incarnation + 1;
  if (wire::encoded_record_size(record) > config_.max_record_bytes) {
    return UpdateError::kRecordTooLarge;
  }
  // A metadata change is announced like a refutation: a higher incarnation wins everywhere.
  set_local_record(std::move(record));
  queue_broadcast(kSelf);
  return UpdateError::kNone;
}

void EngineState::leave(TimeMs now) {
  start_if_needed(now);
  if (leaving_) return;
  leaving_ = true;
  leave_deadline_ = now + config_.leave_propagate_ms;
  probe_.phase = ProbePhase::kIdle;
  table_.set_state(kSelf, wire::MemberState::kLeft, now);
  queue_broadcast(kSelf);
  if (live_members() == 0 || config_.leave_propagate_ms == 0) leave_timed_out_ = true;
}

bool EngineState::force_leave(std::string_view name, TimeMs now) {
  start_if_needed(now);
  const uint32_t index = table_.find(name);
  if (index == kNoIndex || index == kSelf) return false;
  const Member& m = table_[index];
  if (m.state != wire::MemberState::kSuspect && m.state != wire::MemberState::kDead) {
    return false;
  }
  end_membership(index, wire::MemberState::kLeft, m.incarnation, now);
  return true;
}

bool EngineState::leave_complete() const {
  return leaving_ && (leave_timed_out_ || !table_[kSelf].queued);
}

size_t EngineState::memory_bytes() const {
  size_t total = sizeof(EngineState) + table_.memory_bytes() + suspicions_.memory_bytes() +
                 broadcasts_.memory_bytes() + probe_order_.memory_bytes() +
                 relays_.capacity() * sizeof(Relay) + streams_.capacity() * sizeof(PendingStream) +
                 seeds_.capacity() * sizeof(wire::Address) + picks_.capacity() * sizeof(uint32_t) +
                 decoded_.messages.capacity() * sizeof(wire::Message) +
                 sync_entries_.capacity() * sizeof(wire::TableEntry) +
                 out_.datagrams.capacity() * sizeof(Datagram) +
                 out_.streams.capacity() * sizeof(StreamRequest) +
                 out_.events.capacity() * sizeof(Event);
  return total;
}

// ---------------------------------------------------------------------------------------------
// Engine: the public face, forwarding to EngineState.

Engine::Engine(Config config, wire::MemberRecord local, uint64_t seed,
               std::shared_ptr<RecordPool> pool)
    : state_(std::make_unique<EngineState>(std::move(config), std::move(local), seed,
                                           std::move(pool))) {}
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

void Engine::receive(const wire::Address& from, std::span<const uint8_t> datagram, TimeMs now) {
  state_->receive(from, datagram, now);
}
void Engine::tick(TimeMs now) { state_->tick(now); }
void Engine::join(const std::vector<wire::Address>& seeds, TimeMs now) { state_->join(seeds, now); }
void Engine::leave(TimeMs now) { state_->leave(now); }
UpdateError Engine::update_local(wire::Resources resources, wire::Tags tags, TimeMs now) {
  return state_->update_local(resources, std::move(tags), now);
}
bool Engine::force_leave(std::string_view name, TimeMs now) {
  return state_->force_leave(name, now);
}
bool Engine::stream_response(uint64_t id, std::span<const uint8_t> frame, TimeMs now) {
  return state_->stream_response(id, frame, now);
}
void Engine::stream_failed(uint64_t id, TimeMs now) { state_->stream_failed(id, now); }
std::vector<uint8_t> Engine::serve_stream(const wire::Address& from, std::span<const uint8_t> frame,
                                          TimeMs now) {
  return state_->serve_stream(from, frame, now);
}

Outputs& Engine::outputs() { return state_->out_; }
TimeMs Engine::next_deadline() const { return state_->next_deadline(); }
const Config& Engine::config() const { return state_->config_; }
const wire::MemberRecord& Engine::local() const { return state_->self_record(); }
std::string_view Engine::name() const { return state_->self_name(); }
uint64_t Engine::incarnation() const { return state_->table_[kSelf].incarnation; }
bool Engine::has_left() const { return state_->leaving_; }
bool Engine::leave_complete() const { return state_->leave_complete(); }
uint32_t Engine::health_score() const { return state_->awareness_.score(); }
const Counters& Engine::counters() const { return state_->counters_; }
size_t Engine::member_count() const { return state_->table_.size(); }
size_t Engine::count(wire::MemberState state) const { return state_->table_.count(state); }

std::optional<MemberInfo> Engine::member(std::string_view name) const {
  const uint32_t index = state_->table_.find(name);
  if (index == kNoIndex) return std::nullopt;
  return state_->info(index);
}

void Engine::for_each_member(const std::function<void(const MemberInfo&)>& visit) const {
  for (uint32_t i = 0; i < state_->table_.size(); ++i) visit(state_->info(i));
}

std::vector<MemberInfo> Engine::members() const {
  std::vector<MemberInfo> all;
  all.reserve(state_->table_.size());
  for (uint32_t i = 0; i < state_->table_.size(); ++i) all.push_back(state_->info(i));
  return all;
}

std::optional<TimeMs> Engine::suspicion_deadline(std::string_view name) const {
  const uint32_t index = state_->table_.find(name);
  if (index == kNoIndex) return std::nullopt;
  const Member& m = state_->table_[index];
  if (m.suspicion == kNoIndex) return kNever;
  return state_->suspicions_[m.suspicion].deadline;
}

uint32_t Engine::suspicion_confirmations(std::string_view name) const {
  const uint32_t index = state_->table_.find(name);
  if (index == kNoIndex) return 0;
  const Member& m = state_->table_[index];
  if (m.suspicion == kNoIndex) return 0;
  return state_->suspicions_[m.suspicion].confirmations;
}

size_t Engine::pending_broadcasts() const { return state_->broadcasts_.pending(); }
void Engine::reserve(size_t members) {
  state_->table_.reserve(members);
  state_->probe_order_.reserve(members);
}
size_t Engine::memory_bytes() const { return state_->memory_bytes(); }
RecordPool& Engine::record_pool() const { return *state_->pool_; }

}  // namespace constellation::core
