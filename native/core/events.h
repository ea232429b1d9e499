// Membership events an engine reports to its host, in the order they happened.
#pragma once

#include <cstdint>

#include "core/record_pool.h"
#include "core/time.h"
#include "wire/messages.h"

namespace constellation::core {

enum class EventKind : uint8_t {
  kJoin = 0,      // a member first seen (or seen again after it left or was reaped)
  kAlive = 1,     // a suspect or dead member is alive again (it refuted, or came back)
  kSuspect = 2,   // a member is suspected (by us or by gossip)
  kDead = 3,      // a member is declared dead
  kLeave = 4,     // a member left on purpose (state `left`, distinct from dead)
  kUpdate = 5,    // an alive member's record changed (resources, tags, address on restart)
  kConflict = 6,  // a second member claims an alive member's name from another address
};
inline constexpr uint8_t kEventKindCount = 7;
const char* event_name(EventKind kind);

struct Event {
  EventKind kind = EventKind::kJoin;
  // The member's state and incarnation in this engine's table right after the event. For
  // kConflict: the refused claimant's state and incarnation, and `member` is its record.
  wire::MemberState state = wire::MemberState::kAlive;
  uint64_t incarnation = 0;
  // The member's record (pooled; `member->state` is not meaningful, use `state`).
  RecordPtr member;
  TimeMs at = 0;
};

}  // namespace constellation::core
