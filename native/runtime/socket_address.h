// Conversions between wire::Address and the socket API's sockaddr.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string>

#include "wire/messages.h"

namespace constellation::runtime {

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t length = 0;

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

SockAddr to_sockaddr(const wire::Address& address);
// Empty for an address family other than IPv4/IPv6. An IPv4-mapped IPv6 address becomes IPv4.
std::optional<wire::Address> from_sockaddr(const sockaddr* address, socklen_t length);

// "1.2.3.4" / "::1" -> address (port 0). Empty if it is not a numeric IP address.
std::optional<wire::Address> parse_ip(const std::string& text, uint16_t port);
std::string format_ip(const wire::Address& address);

}  // namespace constellation::runtime
