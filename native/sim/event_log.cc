#include "sim/event_log.h"

namespace constellation::sim {

void EventLog::mix(uint64_t word) {
  // FNV-1a over 64-bit words instead of bytes: an order of magnitude fewer multiplications,
  // and every field is a fixed-width integer anyway. A final avalanche step keeps nearby
  // words from cancelling.
  hash_ ^= word;
  hash_ *= 0x100000001b3ULL;
  hash_ ^= hash_ >> 32;
}

void EventLog::fold(uint64_t value) { mix(value); }

void EventLog::mix_string(const std::string& text) {
  // 8 bytes at a time, then the length, so "n1" + "2" and "n12" differ.
  uint64_t word = 0;
  size_t filled = 0;
  for (const char c : text) {
    word = (word << 8) | static_cast<uint8_t>(c);
    if (++filled == 8) {
      mix(word);
      word = 0;
      filled = 0;
    }
  }
  mix(word);
  mix(text.size());
}

void EventLog::append(TimeMs at, uint32_t observer, const std::string& about, core::EventKind kind,
                      wire::MemberState state, uint64_t incarnation, const wire::Tags& tags) {
  ++count_;
  mix(static_cast<uint64_t>(at));
  mix((uint64_t{observer} << 16) | (uint64_t{static_cast<uint8_t>(kind)} << 8) |
      uint64_t{static_cast<uint8_t>(state)});
  mix(incarnation);
  mix_string(about);
  mix(tags.size());
  for (const auto& [key, value] : tags) {
    mix_string(key);
    mix_string(value);
  }
  if (keep_) events_.push_back(LoggedEvent{at, observer, about, kind, state, incarnation, tags});
}

}  // namespace constellation::sim
