// What a run measured, from the membership events as they happen: crash detection times,
// false suspicions and false deaths. The simulator feeds it every change in what one member
// believes about another (see membership_view.h) and every crash, restart and leave.
//
// "False" means the member was not crashed and had not chosen to leave, and the claim is about
// its current life: after a restart, a death about an incarnation the old life already held is
// stale news of the crash, not a false positive.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "sim/membership_view.h"
#include "sim/sim_time.h"

namespace constellation::sim {

struct CrashReport {
  uint32_t member = 0;
  TimeMs at = 0;
  // Delays from the crash until the first, the median and the last running member marked it
  // dead; `all` is empty if some running member never did (or it restarted first).
  std::optional<TimeMs> first;
  std::optional<TimeMs> median;
  std::optional<TimeMs> all;
  uint32_t detected = 0;   // running members (at the end) that marked it dead
  uint32_t observers = 0;  // running members at the end, the crashed one excluded
  std::optional<TimeMs> restarted_at;
};

// Several crashes summarised as one: the earliest first detection, the median of the
// per-crash medians, the latest last detection (empty if any crash was not seen by everyone).
struct Detection {
  std::optional<TimeMs> first;
  std::optional<TimeMs> median;
  std::optional<TimeMs> all;
};
Detection summarise(const std::vector<CrashReport>& crashes);

class RunMetrics {
 public:
  explicit RunMetrics(uint32_t members);

  // `observer` now believes `after` about `about` (believed `before`), at `incarnation`.
  void on_transition(TimeMs at, uint32_t observer, uint32_t about, ViewState before,
                     ViewState after, uint64_t incarnation, const MembershipView& view);
  // Any event about `about` carrying `incarnation` (for the stale-news floor).
  void on_incarnation(uint32_t about, uint64_t incarnation);
  void on_crash(TimeMs at, uint32_t member);
  void on_restart(TimeMs at, uint32_t member);
  // A member leaves on purpose: what others conclude about it from now on is not false.
  void on_leave(uint32_t member) { leaving_[member] = 1; }
  // A member stopped running or started over (crash, restart, stop after leave): what it had
  // detected no longer counts, since its table is gone.
  void on_observer_reset(uint32_t member);

  // Every crash so far is seen dead by every running member (a crash undone by a restart
  // counts as settled).
  bool all_crashes_detected(const MembershipView& view) const;
  std::vector<CrashReport> crash_reports(const MembershipView& view) const;

  uint64_t false_positives() const { return false_positives_; }
  uint64_t false_suspicions() const { return false_suspicions_; }
  // Distinct (member, incarnation) pairs falsely declared dead / suspected: one accusation
  // that gossip carries to 49 observers is one episode but 49 false positives.
  uint64_t false_death_episodes() const { return false_death_episodes_.size(); }
  uint64_t false_suspicion_episodes() const { return false_suspicion_episodes_.size(); }
  uint32_t falsely_dead_members() const;
  uint32_t falsely_suspected_members() const;

 private:
  struct Crash {
    uint32_t member = 0;
    TimeMs at = 0;
    std::optional<TimeMs> restarted_at;
    std::vector<TimeMs> detected_at;  // per observer, -1 if not (or no longer) detected
    uint32_t detected_count = 0;      // observers with detected_at >= 0
  };
  Crash* open_crash(uint32_t member);
  bool live(uint32_t member, uint64_t incarnation) const;

  uint32_t members_;
  std::vector<Crash> crashes_;
  std::vector<int64_t> open_crash_;  // index into crashes_ of the member's open crash, or -1
  std::vector<uint8_t> leaving_;
  std::vector<uint64_t> max_incarnation_;  // highest incarnation any event carried about it
  std::vector<int64_t> stale_floor_;       // incarnations <= this are about an earlier life
  std::vector<uint8_t> falsely_dead_;
  std::vector<uint8_t> falsely_suspected_;
  std::set<std::pair<uint32_t, uint64_t>> false_death_episodes_;
  std::set<std::pair<uint32_t, uint64_t>> false_suspicion_episodes_;
  uint64_t false_positives_ = 0;
  uint64_t false_suspicions_ = 0;
};

}  // namespace constellation::sim
