#include "sim/run_metrics.h"

#include <algorithm>

namespace constellation::sim {

namespace {

// Sorts `values` (not empty) and returns their median.
TimeMs median_of(std::vector<TimeMs>& values) {
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

}  // namespace

RunMetrics::RunMetrics(uint32_t members)
    : members_(members),
      open_crash_(members, -1),
      leaving_(members, 0),
      max_incarnation_(members, 0),
      stale_floor_(members, -1),
      falsely_dead_(members, 0),
      falsely_suspected_(members, 0) {}

RunMetrics::Crash* RunMetrics::open_crash(uint32_t member) {
  const int64_t index = open_crash_[member];
  return index < 0 ? nullptr : &crashes_[static_cast<size_t>(index)];
}

bool RunMetrics::live(uint32_t member, uint64_t incarnation) const {
  if (open_crash_[member] >= 0 || leaving_[member] != 0) return false;
  return static_cast<int64_t>(incarnation) > stale_floor_[member];
}

void RunMetrics::on_incarnation(uint32_t about, uint64_t incarnation) {
  if (about < members_) max_incarnation_[about] = std::max(max_incarnation_[about], incarnation);
}

void RunMetrics::on_transition(TimeMs at, uint32_t observer, uint32_t about, ViewState before,
                               ViewState after, uint64_t incarnation, const MembershipView& view) {
  if (observer == about || about >= members_ || before == after) return;
  if (after == ViewState::kDead) {
    if (Crash* crash = open_crash(about)) {
      if (view.running(observer) && crash->detected_at[observer] < 0) {
        crash->detected_at[observer] = at;
        ++crash->detected_count;
      }
    } else if (live(about, incarnation)) {
      ++false_positives_;
      falsely_dead_[about] = 1;
      false_death_episodes_.emplace(about, incarnation);
    }
  } else if (after == ViewState::kSuspect && open_crash_[about] < 0 && live(about, incarnation)) {
    ++false_suspicions_;
    falsely_suspected_[about] = 1;
    false_suspicion_episodes_.emplace(about, incarnation);
  }
}

void RunMetrics::on_crash(TimeMs at, uint32_t member) {
  if (member >= members_ || open_crash_[member] >= 0) return;
  Crash crash;
  crash.member = member;
  crash.at = at;
  crash.detected_at.assign(members_, -1);
  open_crash_[member] = static_cast<int64_t>(crashes_.size());
  crashes_.push_back(std::move(crash));
  on_observer_reset(member);
}

void RunMetrics::on_restart(TimeMs at, uint32_t member) {
  if (member >= members_) return;
  if (Crash* crash = open_crash(member)) crash->restarted_at = at;
  open_crash_[member] = -1;
  leaving_[member] = 0;
  // Whatever the cluster already said about incarnations up to here concerns the old life.
  stale_floor_[member] = static_cast<int64_t>(max_incarnation_[member]);
  on_observer_reset(member);
}

void RunMetrics::on_observer_reset(uint32_t member) {
  for (auto& crash : crashes_) {
    if (crash.restarted_at || crash.detected_at[member] < 0) continue;
    crash.detected_at[member] = -1;
    --crash.detected_count;
  }
}

bool RunMetrics::all_crashes_detected(const MembershipView& view) const {
  for (const auto& crash : crashes_) {
    if (crash.restarted_at) continue;
    if (crash.detected_count < view.running_count()) return false;
  }
  return true;
}

std::vector<CrashReport> RunMetrics::crash_reports(const MembershipView& view) const {
  std::vector<CrashReport> reports;
  for (const auto& crash : crashes_) {
    CrashReport report;
    report.member = crash.member;
    report.at = crash.at;
    report.restarted_at = crash.restarted_at;
    std::vector<TimeMs> delays;
    for (uint32_t observer = 0; observer < members_; ++observer) {
      if (observer == crash.member || !view.running(observer)) continue;
      ++report.observers;
      if (crash.detected_at[observer] >= 0)
        delays.push_back(crash.detected_at[observer] - crash.at);
    }
    report.detected = static_cast<uint32_t>(delays.size());
    if (!delays.empty()) {
      report.median = median_of(delays);
      report.first = delays.front();
      if (report.detected == report.observers) report.all = delays.back();
    }
    reports.push_back(std::move(report));
  }
  return reports;
}

Detection summarise(const std::vector<CrashReport>& crashes) {
  Detection detection;
  std::vector<TimeMs> medians;
  bool all_seen = !crashes.empty();
  TimeMs last = 0;
  for (const auto& crash : crashes) {
    if (crash.first) detection.first = std::min(detection.first.value_or(kNever), *crash.first);
    if (crash.median) medians.push_back(*crash.median);
    if (crash.all) {
      last = std::max(last, *crash.all);
    } else {
      all_seen = false;
    }
  }
  if (!medians.empty()) detection.median = median_of(medians);
  if (all_seen) detection.all = last;
  return detection;
}

uint32_t RunMetrics::falsely_dead_members() const {
  return static_cast<uint32_t>(std::count(falsely_dead_.begin(), falsely_dead_.end(), 1));
}

uint32_t RunMetrics::falsely_suspected_members() const {
  return static_cast<uint32_t>(std::count(falsely_suspected_.begin(), falsely_suspected_.end(), 1));
}

}  // namespace constellation::sim
