#include "sim/simulator.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "sim/sim_address.h"

namespace constellation::sim {

Simulator::Simulator(Scenario scenario)
    : scenario_(std::move(scenario)),
      rng_(mix_seed(scenario_.seed, 0)),
      network_(scenario_.nodes, scenario_.link, mix_seed(scenario_.seed, 1)),
      members_(scenario_.nodes),
      view_(scenario_.nodes),
      metrics_(scenario_.nodes) {
  // No fixed mmap threshold (mallopt M_MMAP_THRESHOLD): with one, every SYNC frame and its
  // decoded table above the threshold came from a fresh mmap and was paged in again, and
  // glibc's sliding threshold, which moves such blocks into the reusable heap after the first,
  // was off. Removing it cut the CPU of 4,000 members' first 40 virtual seconds from 75.5 s to
  // 58.0 s at the same RSS (1.25 against 1.23 GB).
  // More threads than parts would have nothing to do.
  const uint32_t threads = std::clamp<uint32_t>(scenario_.threads, 1, kParts);
  if (scenario_.share_pool) {
    for (uint32_t i = 0; i < kParts; ++i) pools_.push_back(std::make_shared<core::RecordPool>());
  }
  if (threads > 1) workers_ = std::make_unique<RoundWorkers>(threads);
  last_in_round_.assign(scenario_.nodes, 0);
  result_.log = EventLog(scenario_.record_events);
  result_.actions.resize(scenario_.actions.size());
  for (size_t i = 0; i < scenario_.actions.size(); ++i) {
    result_.actions[i].kind = scenario_.actions[i].kind;
  }
}

core::Engine Simulator::make_engine(uint32_t member) {
  wire::MemberRecord local;
  local.name = member_name(member);
  // A fresh random id per life: what tells a restarted member from its predecessor.
  local.id = rng_.next() | 1;
  local.address = member_address(member);
  local.state = wire::MemberState::kAlive;
  local.incarnation = 0;
  const uint64_t engine_seed =
      mix_seed(scenario_.seed, (uint64_t{members_[member].life} << 32 | member) + 2);
  // The pool of the member's part (see run_round).
  std::shared_ptr<core::RecordPool> pool = pools_.empty() ? nullptr : pools_[member % kParts];
  core::Engine engine(scenario_.config, std::move(local), engine_seed, std::move(pool));
  engine.reserve(scenario_.nodes);
  return engine;
}

void Simulator::start(uint32_t member) {
  Member& m = members_[member];
  if (m.status != Status::kNotStarted) return;
  if (started_ == 0) result_.first_join_at = now_;
  ++started_;
  // Seeds: n0 for everyone in seed mode; in staggered mode one member that started earlier.
  if (member != 0) {
    uint32_t seed = 0;
    if (scenario_.join_mode == JoinMode::kStaggered) {
      seed = static_cast<uint32_t>(rng_.below(member));
    }
    m.seeds = {member_address(seed)};
  }
  m.engine.emplace(make_engine(member));
  m.status = Status::kRunning;
  view_.set_running(member, true);
  if (!m.seeds.empty()) m.engine->join(m.seeds, now_);
  drain(member);
}

void Simulator::restart(uint32_t member) {
  Member& m = members_[member];
  if (m.status != Status::kCrashed) return;
  ++m.life;
  m.tick_at = kNever;
  m.leaving = false;
  // n0 has no seed of its own; it rejoins through n1 (any member that is not itself).
  if (m.seeds.empty() && scenario_.nodes > 1) m.seeds = {member_address(member == 0 ? 1 : 0)};
  m.engine.emplace(make_engine(member));
  m.status = Status::kRunning;
  view_.forget(member);
  view_.set_running(member, true);
  metrics_.on_restart(now_, member);
  if (!m.seeds.empty()) m.engine->join(m.seeds, now_);
  drain(member);
}

void Simulator::crash(uint32_t member) {
  Member& m = members_[member];
  if (m.status != Status::kRunning && m.status != Status::kPaused) return;
  m.engine.reset();
  m.status = Status::kCrashed;
  m.inbox.clear();
  m.inbox_bytes = 0;
  m.tick_at = kNever;
  view_.set_running(member, false);
  metrics_.on_crash(now_, member);
}

void Simulator::stop(uint32_t member) {
  // After a completed leave the process exits: like a crash for the network, but announced.
  Member& m = members_[member];
  m.engine.reset();
  m.status = Status::kStopped;
  m.inbox.clear();
  m.inbox_bytes = 0;
  m.tick_at = kNever;
  view_.set_running(member, false);
  metrics_.on_observer_reset(member);
}

void Simulator::pause(uint32_t member) {
  Member& m = members_[member];
  if (m.status != Status::kRunning) return;
  m.status = Status::kPaused;
  m.tick_at = kNever;
}

void Simulator::resume(uint32_t member) {
  Member& m = members_[member];
  if (m.status != Status::kPaused) return;
  m.status = Status::kRunning;
  // The socket buffer is read first, then the overdue timers fire — the order an event loop
  // waking from SIGSTOP sees them in (readable fds and expired timers in the same poll).
  std::vector<Item> inbox;
  inbox.swap(m.inbox);
  m.inbox_bytes = 0;
  for (auto& item : inbox) {
    if (members_[member].status != Status::kRunning) break;
    dispatch(std::move(item));
  }
  if (members_[member].status != Status::kRunning) return;
  members_[member].engine->tick(now_);
  drain(member);
}

bool Simulator::hold(Member& member, Item item) {
  if (item.kind == Kind::kDatagram) {
    if (member.inbox_bytes + item.bytes.size() > scenario_.pause_buffer_bytes) return false;
    member.inbox_bytes += item.bytes.size();
  }
  member.inbox.push_back(std::move(item));
  return true;
}

void Simulator::drain(uint32_t member) {
  Member& m = members_[member];
  if (!m.engine) return;
  core::Outputs& out = m.engine->outputs();
  for (auto& datagram : out.datagrams) {
    ++result_.total.datagrams;
    result_.total.datagram_bytes += datagram.bytes.size();
    const auto to = member_at(datagram.to);
    if (!to || *to >= scenario_.nodes) {
      ++result_.datagrams_unreachable;
      continue;
    }
    const auto arrival = network_.send_datagram(member, *to, now_);
    if (!arrival) continue;
    Item item;
    item.kind = Kind::kDatagram;
    item.member = *to;
    item.from = member;
    item.bytes = std::move(datagram.bytes);
    queue_.push(*arrival, std::move(item));
  }
  for (auto& stream : out.streams) {
    ++result_.total.stream_frames;
    result_.total.stream_bytes += stream.frame.size();
    const auto to = member_at(stream.to);
    if (!to || *to >= scenario_.nodes) {
      fail_stream(member, m.life, stream.id, now_ + scenario_.config.stream_timeout_ms);
      continue;
    }
    // SYN, SYN-ACK, then the request frame. Whether anyone answers at the far end is decided
    // when it arrives; here only the network's delay is drawn.
    const auto syn = network_.stream_leg(member, *to, true);
    const auto syn_ack = network_.stream_leg(*to, member, true);
    const auto request = network_.stream_leg(member, *to, false);
    if (!syn || !syn_ack || !request) {
      fail_stream(member, m.life, stream.id, now_ + scenario_.config.stream_timeout_ms);
      continue;
    }
    Item item;
    item.kind = Kind::kStreamArrive;
    item.member = *to;
    item.from = member;
    item.life = m.life;
    item.id = stream.id;
    item.origin = now_;
    item.bytes = std::move(stream.frame);
    queue_.push(now_ + *syn + *syn_ack + *request, std::move(item));
  }
  for (const auto& event : out.events) record(member, event);
  out.clear();

  if (m.engine->has_left() && m.engine->leave_complete()) {
    stop(member);
    return;
  }
  if (m.status != Status::kRunning) return;
  TimeMs deadline = m.engine->next_deadline();
  if (deadline == kNever) {
    m.tick_at = kNever;
    return;
  }
  deadline = std::max(deadline, now_);
  if (deadline != m.tick_at) {
    m.tick_at = deadline;
    Item item;
    item.kind = Kind::kTick;
    item.member = member;
    item.life = m.life;
    queue_.push(deadline, std::move(item));
  }
}

void Simulator::record(uint32_t observer, const core::Event& event) {
  if (!event.member) return;
  const std::string& about_name = event.member->name;
  result_.log.append(now_, observer, about_name, event.kind, event.state, event.incarnation,
                     event.member->tags);
  const auto about = member_named(about_name);
  if (!about || *about >= scenario_.nodes || event.kind == core::EventKind::kConflict) return;
  metrics_.on_incarnation(*about, event.incarnation);
  const ViewState after = view_state(event.state);
  const ViewState before = view_.set(observer, *about, after);
  metrics_.on_transition(now_, observer, *about, before, after, event.incarnation, view_);
}

void Simulator::fail_stream(uint32_t requester, uint32_t life, uint64_t id, TimeMs at) {
  ++result_.streams_failed;
  Item item;
  item.kind = Kind::kStreamFail;
  item.member = requester;
  item.life = life;
  item.id = id;
  queue_.push(std::max(at, now_), std::move(item));
}

bool Simulator::is_engine_work(Kind kind) {
  return kind == Kind::kTick || kind == Kind::kDatagram || kind == Kind::kStreamArrive ||
         kind == Kind::kStreamReply || kind == Kind::kStreamFail;
}

void Simulator::dispatch(Item item) {
  switch (item.kind) {
    case Kind::kStart:
      start(item.member);
      return;
    case Kind::kAction:
      run_action(item.id);
      return;
    case Kind::kFlood:
      on_flood(item);
      return;
    default:
      engine_step(item);
      finish_step(item);
      drain(item.member);
      return;
  }
}

void Simulator::engine_step(Item& item) {
  Member& m = members_[item.member];
  switch (item.kind) {
    case Kind::kTick:
      if (m.status != Status::kRunning || item.life != m.life || now_ != m.tick_at) return;
      m.tick_at = kNever;
      m.engine->tick(now_);
      return;
    case Kind::kDatagram:
      if (!network_.reachable(item.from, item.member)) {
        item.outcome = Outcome::kUnreachable;
      } else if (m.status == Status::kPaused) {
        if (!hold(m, std::move(item))) item.outcome = Outcome::kOverflowed;
      } else if (m.status != Status::kRunning) {
        item.outcome = Outcome::kUnreachable;
      } else {
        m.engine->receive(member_address(item.from), item.bytes, now_);
      }
      return;
    case Kind::kStreamArrive: {
      // The requester's life and engine change only between rounds, so reading another
      // member's here is safe.
      const Member& r = members_[item.from];
      if (r.life != item.life || !r.engine) return;  // the requester is gone; nobody waits
      // Unreachable, crashed or paused: the connection never completes and the requester
      // gives up after its stream timeout.
      if (m.status != Status::kRunning || !network_.reachable(item.from, item.member)) {
        item.outcome = Outcome::kRefused;
        return;
      }
      item.bytes = m.engine->serve_stream(member_address(item.from), item.bytes, now_);
      item.outcome = item.bytes.empty() ? Outcome::kClosed : Outcome::kServed;
      return;
    }
    case Kind::kStreamReply:
      if (m.life != item.life || !m.engine) return;
      if (m.status == Status::kPaused) {
        hold(m, std::move(item));
      } else if (!network_.reachable(item.from, item.member)) {
        // Cut mid-stream by a partition: the connection resets.
        item.outcome = Outcome::kReset;
        m.engine->stream_failed(item.id, now_);
      } else {
        m.engine->stream_response(item.id, item.bytes, now_);
      }
      return;
    case Kind::kStreamFail:
      if (m.life != item.life || !m.engine) return;
      if (m.status == Status::kPaused) {
        hold(m, item);
      } else {
        m.engine->stream_failed(item.id, now_);
      }
      return;
    default:
      return;
  }
}

void Simulator::finish_step(Item& item) {
  switch (item.outcome) {
    case Outcome::kNone:
      return;
    case Outcome::kUnreachable:
      ++result_.datagrams_unreachable;
      return;
    case Outcome::kOverflowed:
      ++result_.datagrams_overflowed;
      return;
    case Outcome::kReset:
      ++result_.streams_failed;
      return;
    case Outcome::kRefused:
      fail_stream(item.from, item.life, item.id, item.origin + scenario_.config.stream_timeout_ms);
      return;
    case Outcome::kClosed:
      // Served but nothing to say: the connection closes, which the requester sees one
      // (lossless, for simplicity) FIN later.
      fail_stream(item.from, item.life, item.id, now_ + scenario_.link.latency_ms);
      return;
    case Outcome::kServed:
      break;
  }
  const uint32_t requester = item.from;
  const auto leg = network_.stream_leg(item.member, requester, false);
  if (!leg) {
    fail_stream(requester, item.life, item.id, item.origin + scenario_.config.stream_timeout_ms);
    return;
  }
  ++result_.total.stream_frames;
  result_.total.stream_bytes += item.bytes.size();
  Item answer;
  answer.kind = Kind::kStreamReply;
  answer.member = requester;
  answer.from = item.member;
  answer.life = item.life;
  answer.id = item.id;
  answer.origin = item.origin;
  answer.bytes = std::move(item.bytes);
  queue_.push(now_ + *leg, std::move(answer));
}

bool Simulator::run_round(std::vector<Item>& items) {
  // Scripted things first, in queue order: they may start, stop or pause members.
  size_t engine_items = 0;
  for (auto& item : items) {
    if (is_engine_work(item.kind)) {
      ++engine_items;
      continue;
    }
    ++result_.queue_events;
    dispatch(std::move(item));
    after_event();
    if (should_stop()) return true;
  }
  if (engine_items == 0) return false;
  // The engines. Members fall into kParts fixed parts (a part's engines share one record
  // pool, which is not thread-safe); threads take whole parts, the next free one each.
  // Within a part, each member's items run in queue order. Who runs a part does not change
  // its result.
  for (auto& part : parts_) part.clear();
  for (uint32_t i = 0; i < items.size(); ++i) {
    if (is_engine_work(items[i].kind)) parts_[items[i].member % kParts].push_back(i);
  }
  const unsigned threads = workers_ ? workers_->threads() : 1;
  const auto work = [&](unsigned thread) {
    // Always the same thread for a part: an engine then allocates from one malloc arena,
    // instead of scattering its table over every thread's.
    for (uint32_t p = thread; p < kParts; p += threads) {
      for (const uint32_t i : parts_[p]) engine_step(items[i]);
    }
  };
  // A small round is not worth the hand-off.
  constexpr size_t kWorthSharing = 16;
  if (threads > 1 && engine_items >= kWorthSharing) {
    workers_->run(work);
  } else {
    for (unsigned t = 0; t < threads; ++t) work(t);
  }
  // Then, in queue order, everything that follows, and each member's outputs once, after its
  // last item of the round.
  for (uint32_t i = 0; i < items.size(); ++i) {
    if (is_engine_work(items[i].kind)) last_in_round_[items[i].member] = i;
  }
  for (uint32_t i = 0; i < items.size(); ++i) {
    Item& item = items[i];
    if (!is_engine_work(item.kind)) continue;
    ++result_.queue_events;
    finish_step(item);
    if (last_in_round_[item.member] == i) drain(item.member);
    after_event();
    if (should_stop()) return true;
  }
  return false;
}

void Simulator::schedule_actions(TimeMs base) {
  actions_scheduled_ = true;
  for (size_t i = 0; i < scenario_.actions.size(); ++i) {
    Item item;
    item.kind = Kind::kAction;
    item.id = i;
    queue_.push(base + scenario_.actions[i].at, std::move(item));
  }
}

void Simulator::run_action(size_t index) {
  const Action& action = scenario_.actions[index];
  ActionReport& report = result_.actions[index];
  report.ran = true;
  report.at = now_;
  ++actions_run_;
  if (!first_action_at_) {
    first_action_at_ = now_;
    // The steady-state window closes when the first scripted disturbance happens.
    result_.steady_until = now_;
    result_.steady.datagrams = result_.total.datagrams - steady_start_.datagrams;
    result_.steady.datagram_bytes = result_.total.datagram_bytes - steady_start_.datagram_bytes;
    result_.steady.stream_frames = result_.total.stream_frames - steady_start_.stream_frames;
    result_.steady.stream_bytes = result_.total.stream_bytes - steady_start_.stream_bytes;
  }
  switch (action.kind) {
    case ActionKind::kPartition:
      network_.partition(action.groups);
      return;
    case ActionKind::kHeal:
      network_.heal();
      return;
    case ActionKind::kLoss:
      network_.set_loss(action.value);
      return;
    case ActionKind::kFlood:
      if (action.packets.empty() || action.count == 0) return;
      for (const uint32_t member : action.members) {
        if (member >= scenario_.nodes) continue;
        Item item;
        item.kind = Kind::kFlood;
        item.member = member;
        item.from = 0;  // the packet counter
        item.id = index;
        item.origin = now_;
        queue_.push(now_, std::move(item));
      }
      return;
    default:
      break;
  }
  for (const uint32_t member : action.members) {
    if (member >= scenario_.nodes) continue;
    Member& m = members_[member];
    switch (action.kind) {
      case ActionKind::kCrash:
        crash(member);
        break;
      case ActionKind::kRestart:
        restart(member);
        break;
      case ActionKind::kPause:
        pause(member);
        break;
      case ActionKind::kResume:
        resume(member);
        break;
      case ActionKind::kIngressLoss:
        network_.set_ingress_loss(member, action.value);
        break;
      case ActionKind::kEgressLoss:
        network_.set_egress_loss(member, action.value);
        break;
      case ActionKind::kUpdate:
        if (m.status == Status::kRunning) {
          m.engine->update_local(action.resources, action.tags, now_);
          drain(member);
        }
        break;
      case ActionKind::kLeave:
        if (m.status == Status::kRunning && !m.leaving) {
          m.leaving = true;
          metrics_.on_leave(member);
          m.engine->leave(now_);
          drain(member);
        }
        break;
      default:
        break;
    }
  }
}

void Simulator::on_flood(const Item& item) {
  const Action& action = scenario_.actions[item.id];
  Member& m = members_[item.member];
  // A flood is generated lazily, one datagram in the queue per target at a time, so a
  // million-packet flood costs the queue nothing. It goes around the network model: the
  // attacker's link is not the cluster's.
  if (m.status == Status::kRunning) {
    const std::vector<uint8_t>& packet = action.packets[item.from % action.packets.size()];
    const auto started = std::chrono::steady_clock::now();
    m.engine->receive(member_address(kOutsider), packet, now_);
    drain(item.member);
    result_.flood_engine_ns +=
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::steady_clock::now() - started)
                                  .count());
    ++result_.flood_delivered;
  }
  const uint64_t next = uint64_t{item.from} + 1;
  if (next >= action.count) return;
  Item following = item;
  following.from = static_cast<uint32_t>(next);
  queue_.push(item.origin + static_cast<TimeMs>(next * action.spread_ms / action.count),
              std::move(following));
}

void Simulator::take_memory() {
  memory_taken_ = true;
  result_.engine_memory_bytes = 0;
  result_.memory_members = 0;
  result_.pool_memory_bytes = 0;
  for (const auto& m : members_) {
    if (!m.engine) continue;
    result_.engine_memory_bytes += m.engine->memory_bytes();
    ++result_.memory_members;
  }
  for (const auto& pool : pools_) result_.pool_memory_bytes += pool->memory_bytes();
}

void Simulator::after_event() {
  if (!result_.converged_at && started_ == scenario_.nodes && view_.all_alive() &&
      view_.running_count() == scenario_.nodes) {
    result_.converged_at = now_;
    result_.steady_from = now_;
    steady_start_ = result_.total;
    take_memory();
    if (scenario_.actions_after_convergence && !actions_scheduled_) schedule_actions(now_);
  }
  if (view_.all_alive()) {
    for (auto& report : result_.actions) {
      if (report.ran && !report.all_alive_at) report.all_alive_at = now_;
    }
  }
}

bool Simulator::should_stop() const {
  switch (scenario_.stop_when) {
    case StopWhen::kDuration:
      return false;
    case StopWhen::kConverged:
      return result_.converged_at.has_value();
    case StopWhen::kDetected:
      return actions_scheduled_ && actions_run_ == scenario_.actions.size() &&
             metrics_.all_crashes_detected(view_);
    case StopWhen::kAllAlive:
      return actions_scheduled_ && actions_run_ == scenario_.actions.size() &&
             started_ == scenario_.nodes && view_.all_alive();
  }
  return false;
}

SimResult Simulator::run() {
  const uint32_t n = scenario_.nodes;
  for (uint32_t i = 0; i < n; ++i) {
    Item item;
    item.kind = Kind::kStart;
    item.member = i;
    const TimeMs at = n > 1 ? scenario_.join_spread_ms * i / n : 0;
    queue_.push(at, std::move(item));
  }
  if (!scenario_.actions_after_convergence) schedule_actions(0);

  const TimeMs end = scenario_.duration_ms;
  const bool reporting = scenario_.on_progress && scenario_.progress_every_ms > 0;
  TimeMs next_report = reporting ? scenario_.progress_every_ms : kNever;
  bool stopped = false;
  while (!queue_.empty() && queue_.next_time() <= end) {
    now_ = queue_.next_time();
    round_.clear();
    while (!queue_.empty() && queue_.next_time() == now_) round_.push_back(queue_.pop().payload);
    if (now_ >= next_report) {
      scenario_.on_progress(Progress{now_, result_.queue_events, view_.running_count(),
                                     result_.converged_at.has_value(), view_.missing_pairs()});
      next_report = now_ - now_ % scenario_.progress_every_ms + scenario_.progress_every_ms;
    }
    if (run_round(round_)) {
      stopped = true;
      break;
    }
  }
  if (!stopped) now_ = end;  // the run lasted its whole duration, quiet or not

  result_.ended_at = now_;
  if (!first_action_at_) {
    result_.steady_until = now_;
    result_.steady.datagrams = result_.total.datagrams - steady_start_.datagrams;
    result_.steady.datagram_bytes = result_.total.datagram_bytes - steady_start_.datagram_bytes;
    result_.steady.stream_frames = result_.total.stream_frames - steady_start_.stream_frames;
    result_.steady.stream_bytes = result_.total.stream_bytes - steady_start_.stream_bytes;
  }
  if (!result_.converged_at) {
    result_.steady_from = result_.steady_until;  // no steady state to speak of
    result_.steady = Traffic{};
  }
  // Everyone runs during the steady window: it ends at the first scripted disturbance.
  result_.steady_members = scenario_.nodes;
  if (!memory_taken_) take_memory();
  result_.crashes = metrics_.crash_reports(view_);
  result_.detection = summarise(result_.crashes);
  result_.false_positives = metrics_.false_positives();
  result_.false_suspicions = metrics_.false_suspicions();
  result_.false_death_episodes = metrics_.false_death_episodes();
  result_.false_suspicion_episodes = metrics_.false_suspicion_episodes();
  result_.falsely_dead_members = metrics_.falsely_dead_members();
  result_.falsely_suspected_members = metrics_.falsely_suspected_members();
  result_.datagrams_lost = network_.lost_datagrams();
  result_.stream_retransmits = network_.stream_retransmits();
  result_.all_alive_at_end = view_.all_alive();
  result_.running_at_end = view_.running_count();
  result_.memory_at_end.assign(members_.size(), 0);
  for (size_t i = 0; i < members_.size(); ++i) {
    if (members_[i].engine && members_[i].status == Status::kRunning) {
      result_.memory_at_end[i] = members_[i].engine->memory_bytes();
    }
  }
  // The traffic totals are part of what must replay exactly.
  result_.log.fold(result_.total.datagrams);
  result_.log.fold(result_.total.datagram_bytes);
  result_.log.fold(result_.total.stream_frames);
  result_.log.fold(result_.total.stream_bytes);
  return std::move(result_);
}

Simulator::~Simulator() = default;

SimResult simulate(Scenario scenario) {
  Simulator simulator(std::move(scenario));
  return simulator.run();
}

}  // namespace constellation::sim
