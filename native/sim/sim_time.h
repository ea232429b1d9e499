// Virtual time: int64 milliseconds since the start of a run, the same unit the engine takes.
// Nothing in the simulator reads a wall clock; time advances only when the event queue pops
// its next event.
#pragma once

#include "core/time.h"

namespace constellation::sim {

using TimeMs = core::TimeMs;
inline constexpr TimeMs kNever = core::kNever;

}  // namespace constellation::sim
