// Time in the core is a plain number the caller supplies: milliseconds on any monotonic clock
// (real in the runtime, virtual in the simulator). The core never reads a clock itself.
#pragma once

#include <cstdint>
#include <limits>

namespace constellation::core {

using TimeMs = int64_t;
inline constexpr TimeMs kNever = std::numeric_limits<TimeMs>::max();

}  // namespace constellation::core
