#include "sim/sim_address.h"

#include <charconv>

namespace constellation::sim {

std::string member_name(uint32_t index) { return "n" + std::to_string(index); }

wire::Address member_address(uint32_t index) {
  wire::Address address;
  address.family = wire::Address::Family::kV4;
  if (index == kOutsider) {
    address.bytes[0] = 198;
    address.bytes[1] = 51;
    address.bytes[2] = 100;
    address.bytes[3] = 7;
    address.port = kSimPort;
    return address;
  }
  const uint32_t host = index + 1;
  address.bytes[0] = 10;
  address.bytes[1] = static_cast<uint8_t>(host >> 16);
  address.bytes[2] = static_cast<uint8_t>(host >> 8);
  address.bytes[3] = static_cast<uint8_t>(host);
  address.port = kSimPort;
  return address;
}

std::optional<uint32_t> member_at(const wire::Address& address) {
  if (address.family != wire::Address::Family::kV4 || address.port != kSimPort ||
      address.bytes[0] != 10) {
    return std::nullopt;
  }
  const uint32_t host = (uint32_t{address.bytes[1]} << 16) | (uint32_t{address.bytes[2]} << 8) |
                        uint32_t{address.bytes[3]};
  if (host == 0) return std::nullopt;
  return host - 1;
}

std::optional<uint32_t> member_named(std::string_view name) {
  if (name.size() < 2 || name.size() > 9 || name[0] != 'n') return std::nullopt;
  // Reject "n01": only the canonical spelling names a member.
  if (name[1] == '0' && name.size() > 2) return std::nullopt;
  uint32_t index = 0;
  const auto [end, error] = std::from_chars(name.data() + 1, name.data() + name.size(), index);
  if (error != std::errc() || end != name.data() + name.size()) return std::nullopt;
  return index;
}

}  // namespace constellation::sim
