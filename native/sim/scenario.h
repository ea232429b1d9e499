// One simulation run, as plain values: who starts when, what the network does, what happens
// to whom at which virtual time, and when to stop. The JavaScript binding builds it from the
// `simulate(scenario)` argument; everything here is already validated.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/config.h"
#include "sim/network_model.h"
#include "sim/sim_time.h"
#include "wire/messages.h"

namespace constellation::sim {

enum class ActionKind : uint8_t {
  kCrash,        // the member stops and never answers again (its host is gone)
  kRestart,      // a crashed member comes back: same name and address, fresh engine, new id
  kPause,        // neither ticks nor receives; packets queue (GC pause, SIGSTOP)
  kResume,       // gets the queued packets, then its overdue timers fire
  kPartition,    // `groups` cannot reach each other
  kHeal,         // the partition ends
  kIngressLoss,  // `value` of the datagrams to `members` is lost
  kEgressLoss,   // `value` of the datagrams from `members` is lost
  kLoss,         // uniform loss becomes `value`
  kUpdate,       // `members` publish new resources and tags
  kLeave,        // `members` leave on purpose, then stop once the leave has spread
  kFlood,        // `count` datagrams from outside the cluster reach `members`, spread evenly
                 // over `spread_ms`, cycling through `packets` (garbage, spoofed members...)
};
const char* action_name(ActionKind kind);

struct Action {
  TimeMs at = 0;
  ActionKind kind = ActionKind::kCrash;
  std::vector<uint32_t> members;
  std::vector<std::vector<uint32_t>> groups;
  double value = 0.0;
  wire::Resources resources;
  wire::Tags tags;
  // kFlood only. The sender is kOutsider's address, which no member has.
  std::vector<std::vector<uint8_t>> packets;
  uint64_t count = 0;
  TimeMs spread_ms = 0;
};

enum class JoinMode : uint8_t {
  kSeed,       // everyone joins through n0
  kStaggered,  // each member joins through one member that started before it
};

enum class StopWhen : uint8_t {
  kDuration,   // run the whole duration
  kConverged,  // every member sees all N alive
  kDetected,   // after the actions: every crash is seen dead by every running member
  kAllAlive,   // after the actions: every running member sees every running member alive
};

// A look at a long run while it goes (the 10,000-member benchmark runs for minutes).
struct Progress {
  TimeMs at = 0;
  uint64_t queue_events = 0;
  uint32_t running = 0;
  bool converged = false;
  uint64_t missing_pairs = 0;  // (observer, member) pairs not yet seen alive
};

struct Scenario {
  uint64_t seed = 1;
  uint32_t nodes = 5;
  core::Config config = core::Config::lan();
  LinkParams link;
  JoinMode join_mode = JoinMode::kSeed;
  // Member i starts at i * join_spread_ms / nodes: 0 starts everyone at once.
  TimeMs join_spread_ms = 0;
  TimeMs duration_ms = 60000;
  std::vector<Action> actions;  // sorted by `at`
  // Action times count from the moment the cluster first converged instead of from 0; the
  // actions never run if it does not converge within the duration.
  bool actions_after_convergence = false;
  StopWhen stop_when = StopWhen::kDuration;
  // Keep every membership event for the caller (the hash covers them either way). A 10,000
  // member run produces N^2 join events and cannot keep them.
  bool record_events = true;
  // One record pool shared by all engines (see core/record_pool.h); off gives each its own.
  bool share_pool = true;
  // A paused member's socket buffer: datagrams beyond it are dropped, as the kernel would
  // (Linux net.core.rmem_default is 212992 bytes).
  size_t pause_buffer_bytes = 212992;
  // Threads that run the engines (see simulator.h; at most Simulator::kParts are used). The
  // result is the same for any number.
  uint32_t threads = 1;
  // Called every `progress_every_ms` of virtual time, if set.
  TimeMs progress_every_ms = 0;
  std::function<void(const Progress&)> on_progress;
};

}  // namespace constellation::sim
