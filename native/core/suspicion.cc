// Lifeguard IV.B dynamic suspicion timeout (see suspicion.h).
#include "core/suspicion.h"

#include <algorithm>
#include <cmath>

namespace constellation::core {

SuspicionTimeouts suspicion_timeouts(uint32_t suspicion_mult, uint32_t max_timeout_mult,
                                     uint32_t confirmations, TimeMs probe_interval_ms,
                                     size_t members) {
  SuspicionTimeouts t;
  // The floor grows with log10 of the cluster size: dissemination takes O(log n) rounds.
  const double node_scale = std::max(1.0, std::log10(std::max<double>(1.0, members)));
  t.min_ms = static_cast<TimeMs>(
      std::floor(suspicion_mult * node_scale * static_cast<double>(probe_interval_ms)));
  t.max_ms = t.min_ms * max_timeout_mult;
  // Neither the suspect nor the first accuser can confirm, hence n - 2.
  const uint32_t k = confirmations;
  t.expected_confirmations = (members < 2 || members - 2 < k) ? 0 : k;
  return t;
}

TimeMs suspicion_timeout(const SuspicionTimeouts& t, uint32_t confirmations) {
  if (t.expected_confirmations == 0) return t.min_ms;
  const double fraction = std::log(static_cast<double>(confirmations) + 1.0) /
                          std::log(static_cast<double>(t.expected_confirmations) + 1.0);
  const double raw =
      static_cast<double>(t.max_ms) - fraction * static_cast<double>(t.max_ms - t.min_ms);
  return std::max(t.min_ms, static_cast<TimeMs>(std::floor(raw)));
}

uint32_t SuspicionSet::start(uint32_t member, std::string_view from,
                             const SuspicionTimeouts& timeouts, TimeMs now) {
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Suspicion& s = slots_[slot];
  const uint32_t generation = s.generation + 1;
  s = Suspicion{};
  s.generation = generation;
  s.member = member;
  s.started = now;
  s.probed = now;
  s.timeouts = timeouts;
  s.last_from.assign(from);
  s.accusers.emplace_back(from);
  s.deadline = now + suspicion_timeout(timeouts, 0);
  ++active_;
  schedule(slot);
  return slot;
}

bool SuspicionSet::confirm(uint32_t slot, std::string_view from) {
  Suspicion& s = slots_[slot];
  if (from.empty()) return false;
  if (std::find(s.accusers.begin(), s.accusers.end(), from) != s.accusers.end()) return false;
  // Past k confirmations the timeout is already at its floor; stop tracking names.
  if (s.confirmations >= s.timeouts.expected_confirmations) return false;
  s.accusers.emplace_back(from);
  s.last_from.assign(from);
  ++s.confirmations;
  const TimeMs deadline = s.started + suspicion_timeout(s.timeouts, s.confirmations);
  if (deadline != s.deadline) {
    s.deadline = deadline;
    ++s.generation;
    schedule(slot);
  }
  return true;
}

bool SuspicionSet::confirm_fully(uint32_t slot, std::string_view from) {
  Suspicion& s = slots_[slot];
  if (s.confirmations >= s.timeouts.expected_confirmations) return false;
  s.confirmations = s.timeouts.expected_confirmations;
  if (!from.empty()) s.last_from.assign(from);
  const TimeMs deadline = s.started + suspicion_timeout(s.timeouts, s.confirmations);
  if (deadline != s.deadline) {
    s.deadline = deadline;
    ++s.generation;
    schedule(slot);
  }
  return true;
}

void SuspicionSet::stop(uint32_t slot) {
  Suspicion& s = slots_[slot];
  if (s.member == kNoIndex) return;
  s.member = kNoIndex;
  ++s.generation;
  s.accusers.clear();
  s.accusers.shrink_to_fit();
  s.last_from.clear();
  s.last_from.shrink_to_fit();
  free_.push_back(slot);
  --active_;
}

uint32_t SuspicionSet::take_due_probe(TimeMs before, TimeMs now) {
  uint32_t best = kNoIndex;
  for (uint32_t slot = 0; slot < slots_.size(); ++slot) {
    const Suspicion& s = slots_[slot];
    if (s.member == kNoIndex || s.probed > before) continue;
    // Confirmed by k independent accusers (Lifeguard IV.B): the cluster agrees, and our own
    // probe would only add a failure, and its missing NACKs to our local health score.
    const uint32_t k = s.timeouts.expected_confirmations;
    if (k > 0 && s.confirmations >= k) continue;
    if (best == kNoIndex || s.probed < slots_[best].probed) best = slot;
  }
  if (best == kNoIndex) return kNoIndex;
  slots_[best].probed = now;
  return slots_[best].member;
}

void SuspicionSet::schedule(uint32_t slot) {
  heap_.push(Due{slots_[slot].deadline, slot, slots_[slot].generation});
}

void SuspicionSet::drop_stale() const {
  while (!heap_.empty()) {
    const Due& top = heap_.top();
    const Suspicion& s = slots_[top.slot];
    if (s.member != kNoIndex && s.generation == top.generation) return;
    heap_.pop();
  }
}

TimeMs SuspicionSet::next_deadline() const {
  drop_stale();
  return heap_.empty() ? kNever : heap_.top().deadline;
}

uint32_t SuspicionSet::pop_due(TimeMs now) {
  drop_stale();
  if (heap_.empty() || heap_.top().deadline > now) return kNoIndex;
  const uint32_t slot = heap_.top().slot;
  heap_.pop();
  return slot;
}

size_t SuspicionSet::postpone_until(TimeMs until) {
  size_t moved = 0;
  for (uint32_t slot = 0; slot < slots_.size(); ++slot) {
    Suspicion& s = slots_[slot];
    if (s.member == kNoIndex || s.deadline >= until) continue;
    s.deadline = until;
    ++s.generation;
    schedule(slot);
    ++moved;
  }
  return moved;
}

void SuspicionSet::remap(const std::vector<uint32_t>& remap) {
  for (auto& s : slots_) {
    if (s.member != kNoIndex) s.member = remap[s.member];
  }
}

size_t SuspicionSet::memory_bytes() const {
  size_t total = slots_.capacity() * sizeof(Suspicion) + free_.capacity() * sizeof(uint32_t) +
                 heap_.size() * sizeof(Due);
  for (const auto& s : slots_) {
    for (const auto& a : s.accusers) total += a.capacity() > 15 ? a.capacity() + 1 : 0;
    total += s.accusers.capacity() * sizeof(std::string);
  }
  return total;
}

}  // namespace constellation::core
