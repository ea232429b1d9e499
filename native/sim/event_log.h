// The run's membership events, in the order they happened, and a running hash of them. The
// hash covers every event whether or not it is kept, so two runs can be compared byte for
// byte even when they are too large to keep their logs (10,000 members -> 10^8 join events).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/events.h"
#include "sim/sim_time.h"
#include "wire/messages.h"

namespace constellation::sim {

struct LoggedEvent {
  TimeMs at = 0;
  uint32_t observer = 0;  // the member whose engine reported it
  std::string about;      // the member it is about
  core::EventKind kind = core::EventKind::kJoin;
  wire::MemberState state = wire::MemberState::kAlive;
  uint64_t incarnation = 0;
  wire::Tags tags;  // the member's tags as the event carried them (kept events only)
};

class EventLog {
 public:
  explicit EventLog(bool keep) : keep_(keep) {}

  void append(TimeMs at, uint32_t observer, const std::string& about, core::EventKind kind,
              wire::MemberState state, uint64_t incarnation, const wire::Tags& tags);
  // Folds a value that is not an event (final traffic totals) into the hash.
  void fold(uint64_t value);

  uint64_t hash() const { return hash_; }
  uint64_t count() const { return count_; }
  const std::vector<LoggedEvent>& events() const { return events_; }

 private:
  void mix(uint64_t word);
  void mix_string(const std::string& text);

  bool keep_;
  uint64_t hash_ = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  uint64_t count_ = 0;
  std::vector<LoggedEvent> events_;
};

}  // namespace constellation::sim
