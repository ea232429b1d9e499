#include "runtime/udp_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace constellation::runtime {

UdpSocket::UdpSocket(size_t max_datagram)
    : slot_bytes_(max_datagram),
      buffers_(std::make_unique_for_overwrite<uint8_t[]>(kBatch * max_datagram)) {}

bool UdpSocket::bind(const wire::Address& address, std::string& error, int& error_number) {
  v6_ = address.family == wire::Address::Family::kV6;
  fd_.reset(::socket(v6_ ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) {
    error_number = errno;
    error = std::strerror(errno);
    return false;
  }
  // Generous kernel buffers: a burst of gossip after a partition heals should not be lost to
  // a small default buffer.
  const int size = 4 * 1024 * 1024;
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  const SockAddr sa = to_sockaddr(address);
  if (::bind(fd_.get(), sa.get(), sa.length) != 0) {
    error_number = errno;
    error = std::strerror(errno);
    fd_.reset();
    return false;
  }
  return true;
}

wire::Address UdpSocket::local_address() const {
  SockAddr sa;
  sa.length = sizeof(sa.storage);
  ::getsockname(fd_.get(), sa.get(), &sa.length);
  return from_sockaddr(sa.get(), sa.length).value_or(wire::Address{});
}

size_t UdpSocket::receive_all(const DatagramHandler& on_datagram) {
  std::array<mmsghdr, kBatch> headers{};
  std::array<iovec, kBatch> iovs{};
  std::array<sockaddr_storage, kBatch> from{};
  size_t total = 0;
  for (;;) {
    for (size_t i = 0; i < kBatch; ++i) {
      iovs[i].iov_base = buffers_.get() + i * slot_bytes_;
      iovs[i].iov_len = slot_bytes_;
      headers[i].msg_hdr = {};
      headers[i].msg_hdr.msg_iov = &iovs[i];
      headers[i].msg_hdr.msg_iovlen = 1;
      headers[i].msg_hdr.msg_name = &from[i];
      headers[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    }
    const int n = ::recvmmsg(fd_.get(), headers.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) break;  // EAGAIN (drained) or an error: wait for the next readiness
    for (int i = 0; i < n; ++i) {
      const auto& header = headers[static_cast<size_t>(i)];
      if (header.msg_hdr.msg_flags & MSG_TRUNC) {
        ++truncated_;
        continue;
      }
      const auto address = from_sockaddr(reinterpret_cast<const sockaddr*>(header.msg_hdr.msg_name),
                                         header.msg_hdr.msg_namelen);
      if (!address) continue;
      on_datagram(*address,
                  std::span<const uint8_t>(buffers_.get() + static_cast<size_t>(i) * slot_bytes_,
                                           header.msg_len));
    }
    total += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < kBatch) break;
  }
  return total;
}

void UdpSocket::send_all(std::span<const Outgoing> datagrams) {
  std::array<mmsghdr, kBatch> headers{};
  std::array<iovec, kBatch> iovs{};
  std::array<SockAddr, kBatch> to{};
  size_t sent = 0;
  while (sent < datagrams.size()) {
    const size_t count = std::min(kBatch, datagrams.size() - sent);
    for (size_t i = 0; i < count; ++i) {
      const Outgoing& d = datagrams[sent + i];
      wire::Address target = d.to;
      to[i] = to_sockaddr(target);
      if (v6_ && target.family == wire::Address::Family::kV4) {
        // An IPv6 socket reaches IPv4 peers through IPv4-mapped addresses.
        wire::Address mapped;
        mapped.family = wire::Address::Family::kV6;
        mapped.bytes[10] = 0xff;
        mapped.bytes[11] = 0xff;
        std::memcpy(mapped.bytes.data() + 12, target.bytes.data(), 4);
        mapped.port = target.port;
        to[i] = to_sockaddr(mapped);
      }
      iovs[i].iov_base = const_cast<uint8_t*>(d.bytes.data());
      iovs[i].iov_len = d.bytes.size();
      headers[i].msg_hdr = {};
      headers[i].msg_hdr.msg_iov = &iovs[i];
      headers[i].msg_hdr.msg_iovlen = 1;
      headers[i].msg_hdr.msg_name = to[i].get();
      headers[i].msg_hdr.msg_namelen = to[i].length;
    }
    const int n = ::sendmmsg(fd_.get(), headers.data(), static_cast<unsigned>(count), 0);
    if (n <= 0) {
      // The first datagram of the batch failed: drop it and go on with the rest.
      ++send_errors_;
      ++sent;
      continue;
    }
    sent += static_cast<size_t>(n);
  }
}

}  // namespace constellation::runtime
