#include "sim/membership_view.h"

namespace constellation::sim {

ViewState view_state(wire::MemberState state) {
  switch (state) {
    case wire::MemberState::kAlive:
      return ViewState::kAlive;
    case wire::MemberState::kSuspect:
      return ViewState::kSuspect;
    case wire::MemberState::kDead:
      return ViewState::kDead;
    case wire::MemberState::kLeft:
      return ViewState::kLeft;
  }
  return ViewState::kUnknown;
}

MembershipView::MembershipView(uint32_t members)
    : members_(members),
      matrix_(static_cast<size_t>(members) * members, static_cast<uint8_t>(ViewState::kUnknown)),
      running_(members, 0),
      alive_seen_(members, 0) {}

ViewState MembershipView::set(uint32_t observer, uint32_t about, ViewState state) {
  if (observer == about || observer >= members_ || about >= members_) return ViewState::kUnknown;
  uint8_t& cell = matrix_[index(observer, about)];
  const auto before = static_cast<ViewState>(cell);
  if (before == state) return before;
  cell = static_cast<uint8_t>(state);
  if (running_[about] != 0) {
    const bool was_alive = before == ViewState::kAlive;
    const bool is_alive = state == ViewState::kAlive;
    if (was_alive != is_alive) {
      const bool was_complete = complete(observer);
      if (is_alive) {
        ++alive_seen_[observer];
      } else {
        --alive_seen_[observer];
      }
      const bool is_complete = complete(observer);
      if (was_complete && !is_complete) --complete_count_;
      if (!was_complete && is_complete) ++complete_count_;
    }
  }
  return before;
}

void MembershipView::set_running(uint32_t member, bool running) {
  if (member >= members_ || (running_[member] != 0) == running) return;
  running_[member] = running ? 1 : 0;
  if (running) {
    ++running_count_;
  } else {
    --running_count_;
  }
  // Everyone who sees this member alive gains or loses one running member seen alive.
  for (uint32_t observer = 0; observer < members_; ++observer) {
    if (observer == member || get(observer, member) != ViewState::kAlive) continue;
    if (running) {
      ++alive_seen_[observer];
    } else {
      --alive_seen_[observer];
    }
  }
  recount_complete();
}

void MembershipView::forget(uint32_t observer) {
  if (observer >= members_) return;
  const size_t row = index(observer, 0);
  for (uint32_t about = 0; about < members_; ++about) {
    matrix_[row + about] = static_cast<uint8_t>(ViewState::kUnknown);
  }
  alive_seen_[observer] = 0;
  recount_complete();
}

void MembershipView::recount_complete() {
  complete_count_ = 0;
  for (uint32_t member = 0; member < members_; ++member) {
    if (complete(member)) ++complete_count_;
  }
}

uint64_t MembershipView::missing_pairs() const {
  uint64_t missing = 0;
  for (uint32_t m = 0; m < members_; ++m) {
    if (running_[m] != 0) missing += running_count_ - 1 - alive_seen_[m];
  }
  return missing;
}

}  // namespace constellation::sim
