// The deterministic simulator: N engines (native/core) over a virtual network in virtual time.
// One event queue; every input to an engine is stamped with the queue's current time, and
// everything an engine outputs is scheduled back onto the queue through the network model.
// Same scenario, same seed -> the same events in the same order, byte for byte.
//
// Time runs in rounds: a round takes every item due at the current millisecond. Scripted
// things (starts, actions, floods) run first, one by one. Then the engines' work — receiving,
// ticking, serving streams, the expensive part — runs for all members at once, split across
// `Scenario::threads` (each member's items in queue order on one thread; an engine call
// touches nothing but its own member). Last, one by one in queue order, what came out goes
// through the network model onto the queue and into the metrics. Nothing an engine does in a
// round can reach another engine in the same round, so the result does not depend on the
// number of threads, only on the scenario.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/engine.h"
#include "core/record_pool.h"
#include "sim/event_log.h"
#include "sim/event_queue.h"
#include "sim/membership_view.h"
#include "sim/network_model.h"
#include "sim/round_workers.h"
#include "sim/run_metrics.h"
#include "sim/scenario.h"
#include "sim/sim_rng.h"

namespace constellation::sim {

struct ActionReport {
  ActionKind kind = ActionKind::kCrash;
  TimeMs at = 0;  // when it ran (absolute virtual time)
  bool ran = false;
  // First time at or after the action when every running member saw every running member
  // alive (e.g. after a heal, a resume or a restart).
  std::optional<TimeMs> all_alive_at;
};

struct Traffic {
  uint64_t datagrams = 0;
  uint64_t datagram_bytes = 0;
  uint64_t stream_frames = 0;  // requests and replies
  uint64_t stream_bytes = 0;
};

struct SimResult {
  TimeMs ended_at = 0;
  uint64_t queue_events = 0;  // events the queue processed (simulation work)
  std::optional<TimeMs> converged_at;
  TimeMs first_join_at = 0;
  std::vector<CrashReport> crashes;
  Detection detection;  // all crashes summarised
  std::vector<ActionReport> actions;
  uint64_t false_positives = 0;
  uint64_t false_suspicions = 0;
  uint64_t false_death_episodes = 0;
  uint64_t false_suspicion_episodes = 0;
  uint32_t falsely_dead_members = 0;
  uint32_t falsely_suspected_members = 0;
  // Steady state: from convergence until the first action (or the end).
  TimeMs steady_from = 0;
  TimeMs steady_until = 0;
  uint32_t steady_members = 0;
  Traffic steady;
  Traffic total;
  uint64_t datagrams_lost = 0;         // by the network model's loss
  uint64_t datagrams_unreachable = 0;  // partition, crashed or stopped receiver
  uint64_t datagrams_overflowed = 0;   // a paused member's buffer was full
  uint64_t streams_failed = 0;
  // Floods: datagrams delivered to running members, and the real time their engines spent
  // on them (receive plus sending what it produced), in nanoseconds.
  uint64_t flood_delivered = 0;
  uint64_t flood_engine_ns = 0;
  // Each member's engine memory when the run ended (0: not running).
  std::vector<size_t> memory_at_end;
  uint64_t stream_retransmits = 0;  // TCP segments the network lost and the sender resent
  // Memory, taken when the cluster converged (or at the end if it never did).
  size_t engine_memory_bytes = 0;  // sum over running engines
  size_t pool_memory_bytes = 0;    // the shared record pool(s)
  uint32_t memory_members = 0;     // running engines when memory was taken
  bool all_alive_at_end = false;
  uint32_t running_at_end = 0;
  EventLog log{false};
};

class Simulator {
 public:
  explicit Simulator(Scenario scenario);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  SimResult run();

 private:
  enum class Status : uint8_t { kNotStarted, kRunning, kPaused, kCrashed, kStopped };
  enum class Kind : uint8_t {
    kStart,
    kTick,
    kDatagram,
    kStreamArrive,
    kStreamReply,
    kStreamFail,
    kAction,
    kFlood
  };

  enum class Outcome : uint8_t {
    kNone,
    kUnreachable,  // a datagram for a member that cannot or does not receive it
    kOverflowed,   // a datagram a paused member's full buffer dropped
    kRefused,      // a stream request that found nobody: it fails at origin + timeout
    kServed,       // a stream request answered; `bytes` now holds the reply
    kClosed,       // a stream request served with nothing to say: the connection closes
    kReset,        // a stream reply cut off by a partition
  };

  // One scheduled thing. `member` is who it happens to; `from` the other end of a datagram or
  // stream; `life` the requester's life for stream events (a restarted member never sees its
  // predecessor's replies); `id` the stream id or action index.
  struct Item {
    Kind kind = Kind::kTick;
    uint32_t member = 0;
    uint32_t from = 0;
    uint32_t life = 0;
    uint64_t id = 0;
    TimeMs origin = 0;  // when a stream request was made
    std::vector<uint8_t> bytes;
    // What the engine step (engine_step) found, for the scheduling step (finish_step).
    Outcome outcome = Outcome::kNone;
  };

  struct Member {
    std::optional<core::Engine> engine;
    Status status = Status::kNotStarted;
    uint32_t life = 0;
    TimeMs tick_at = kNever;  // the one tick item that is current; others are stale
    std::vector<wire::Address> seeds;
    std::vector<Item> inbox;  // what arrived while paused
    size_t inbox_bytes = 0;
    bool leaving = false;
  };

  // Handles one item on its own: the engine step, then the scheduling step and a drain.
  void dispatch(Item item);
  // Handles every item due now (see the top of this file). True if the run should stop.
  bool run_round(std::vector<Item>& items);
  static bool is_engine_work(Kind kind);
  // The engine's part of a tick, datagram or stream item: touches only `item.member`.
  void engine_step(Item& item);
  // What follows in the simulator: counters, stream replies and failures onto the queue.
  void finish_step(Item& item);
  void start(uint32_t member);
  void restart(uint32_t member);
  void crash(uint32_t member);
  void stop(uint32_t member);
  void pause(uint32_t member);
  void resume(uint32_t member);
  void run_action(size_t index);
  void schedule_actions(TimeMs base);

  // Delivers flood datagram `item.from` of action `item.id` and schedules the next one.
  void on_flood(const Item& item);
  // Queues an item for a paused member; false if its buffer is full (the item is dropped).
  bool hold(Member& member, Item item);

  core::Engine make_engine(uint32_t member);
  // Sends what the engine produced, records its events, schedules its next tick.
  void drain(uint32_t member);
  void record(uint32_t observer, const core::Event& event);
  void fail_stream(uint32_t requester, uint32_t life, uint64_t id, TimeMs at);
  void after_event();
  bool should_stop() const;
  void take_memory();

  Scenario scenario_;
  TimeMs now_ = 0;
  SimRng rng_;
  NetworkModel network_;
  EventQueue<Item> queue_;
  std::vector<Member> members_;
  // Engine work is split into this many parts of members (member % kParts), each with its own
  // record pool (core/record_pool.h, not thread-safe) when Scenario::share_pool is on. Few
  // parts keep the records warm in cache (every engine of a part shares them), many balance
  // the threads better; at 4,000 members 2 parts ran 72 s, 4 and 16 parts 78 s, on 2 threads.
  // Part p runs on thread p % threads.
  static constexpr uint32_t kParts = 2;
  std::vector<std::shared_ptr<core::RecordPool>> pools_;
  std::array<std::vector<uint32_t>, kParts> parts_;  // this round's engine items, by part
  std::unique_ptr<RoundWorkers> workers_;
  std::vector<Item> round_;
  std::vector<uint32_t> last_in_round_;  // per member: index of its last item this round
  MembershipView view_;
  RunMetrics metrics_;
  SimResult result_;
  uint32_t started_ = 0;
  size_t actions_run_ = 0;
  bool actions_scheduled_ = false;
  std::optional<TimeMs> first_action_at_;
  Traffic steady_start_;
  bool memory_taken_ = false;
};

// Convenience for callers: build and run.
SimResult simulate(Scenario scenario);

}  // namespace constellation::sim
