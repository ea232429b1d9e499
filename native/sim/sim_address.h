// How simulated members are named and addressed: member i is "n{i}" at 10.x.y.z:7946, where
// x.y.z is i + 1 in base 256 (so n0 is 10.0.0.1 and no member sits on a .0 network address).
// The mapping is arithmetic both ways, so routing a datagram needs no lookup table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wire/messages.h"

namespace constellation::sim {

inline constexpr uint16_t kSimPort = 7946;  // memberlist's default port, for familiarity
inline constexpr uint32_t kMaxSimMembers = (1u << 24) - 2;

// The sender of a flood: an address on no member (198.51.100.7, TEST-NET-2), so what the
// flooded member answers goes nowhere.
inline constexpr uint32_t kOutsider = ~uint32_t{0};

std::string member_name(uint32_t index);
wire::Address member_address(uint32_t index);
// The member at this address, if the address is one the simulator hands out.
std::optional<uint32_t> member_at(const wire::Address& address);
// The member with this name ("n17" -> 17), if it is one of ours.
std::optional<uint32_t> member_named(std::string_view name);

}  // namespace constellation::sim
