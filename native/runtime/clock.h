// The runtime's clocks. The engine takes time as a number; the runtime reads it here.
#pragma once

#include <chrono>

#include "core/time.h"

namespace constellation::runtime {

// Monotonic milliseconds: what the engine is fed.
inline core::TimeMs monotonic_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// Wall-clock milliseconds since the epoch: what JavaScript is shown (Date-compatible).
inline int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace constellation::runtime
