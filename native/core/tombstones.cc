// Tombstones: dead and left members stay in the table (so gossip about them is not mistaken
// for news, and dead ones can be retried for reconnection) for a reap period, then go.
#include <algorithm>

#include "core/engine_state.h"

namespace constellation::core {

TimeMs EngineState::reap_check_interval() const {
  // Reaping is O(n); a check every eighth of the shortest period keeps it rare and timely.
  const TimeMs shortest = std::min(config_.dead_reap_ms, config_.left_reap_ms);
  return std::clamp<TimeMs>(shortest / 8, 100, 60000);
}

void EngineState::reap_tick(TimeMs now) {
  if (now < reap_at_) return;
  reap_at_ = now + reap_check_interval();
  if (table_.count(wire::MemberState::kDead) + table_.count(wire::MemberState::kLeft) == 0) {
    return;
  }
  const auto expired = [&](const Member& m) {
    return (m.state == wire::MemberState::kDead &&
            now - m.state_changed_at >= config_.dead_reap_ms) ||
           (m.state == wire::MemberState::kLeft &&
            now - m.state_changed_at >= config_.left_reap_ms);
  };
  size_t doomed = 0;
  for (uint32_t i = 1; i < table_.size(); ++i) {
    if (expired(table_[i])) {
      broadcasts_.cancel(table_, i);
      ++doomed;
    }
  }
  if (doomed == 0) return;
  // Our own entry (index 0) is never reaped, even after we left.
  bool first = true;
  const std::vector<uint32_t> remap = table_.remove_if([&](const Member& m) {
    const bool self = first;
    first = false;
    return !self && expired(m);
  });
  counters_.members_reaped += doomed;
  broadcasts_.remap(remap);
  suspicions_.remap(remap);
  probe_order_.remap(remap);
}

}  // namespace constellation::core
