#include "runtime/socket_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace constellation::runtime {

SockAddr to_sockaddr(const wire::Address& address) {
  SockAddr out;
  if (address.family == wire::Address::Family::kV4) {
    auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(address.port);
    std::memcpy(&in->sin_addr, address.bytes.data(), 4);
    out.length = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(address.port);
    std::memcpy(&in6->sin6_addr, address.bytes.data(), 16);
    out.length = sizeof(sockaddr_in6);
  }
  return out;
}

std::optional<wire::Address> from_sockaddr(const sockaddr* address, socklen_t length) {
  wire::Address out;
  if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    out.family = wire::Address::Family::kV4;
    std::memcpy(out.bytes.data(), &in->sin_addr, 4);
    out.port = ntohs(in->sin_port);
    return out;
  }
  if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    out.port = ntohs(in6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      out.family = wire::Address::Family::kV4;
      std::memcpy(out.bytes.data(), reinterpret_cast<const uint8_t*>(&in6->sin6_addr) + 12, 4);
    } else {
      out.family = wire::Address::Family::kV6;
      std::memcpy(out.bytes.data(), &in6->sin6_addr, 16);
    }
    return out;
  }
  return std::nullopt;
}

std::optional<wire::Address> parse_ip(const std::string& text, uint16_t port) {
  wire::Address out;
  out.port = port;
  if (inet_pton(AF_INET, text.c_str(), out.bytes.data()) == 1) {
    out.family = wire::Address::Family::kV4;
    return out;
  }
  if (inet_pton(AF_INET6, text.c_str(), out.bytes.data()) == 1) {
    out.family = wire::Address::Family::kV6;
    return out;
  }
  return std::nullopt;
}

std::string format_ip(const wire::Address& address) {
  char buffer[INET6_ADDRSTRLEN] = {};
  const int family = address.family == wire::Address::Family::kV4 ? AF_INET : AF_INET6;
  if (inet_ntop(family, address.bytes.data(), buffer, sizeof(buffer)) == nullptr) return {};
  return buffer;
}

}  // namespace constellation::runtime
