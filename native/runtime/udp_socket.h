// One non-blocking UDP socket with batched receive and send (recvmmsg / sendmmsg).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "runtime/fd.h"
#include "runtime/socket_address.h"
#include "wire/messages.h"

namespace constellation::runtime {

class UdpSocket {
 public:
  static constexpr size_t kBatch = 16;

  // `max_datagram`: the largest datagram received whole; a larger one is truncated by the
  // kernel, dropped and counted. Receive buffers are kBatch x max_datagram, allocated without
  // being written, so only slots the kernel has filled take resident memory: with the default
  // MTU a member costs about 25 KB here, not 1 MB per 64 KB slot.
  explicit UdpSocket(size_t max_datagram);
  // Binds `address` (port 0 = any free port). On failure returns false and sets `error`
  // (strerror text) and `error_number`.
  bool bind(const wire::Address& address, std::string& error, int& error_number);
  int fd() const { return fd_.get(); }
  // The bound address (with the port the kernel chose).
  wire::Address local_address() const;

  // Reads every queued datagram (in batches) and calls `on_datagram` for each. Returns the
  // number read. Truncated datagrams (larger than kMaxDatagram) are dropped and counted.
  using DatagramHandler =
      std::function<void(const wire::Address& from, std::span<const uint8_t> bytes)>;
  size_t receive_all(const DatagramHandler& on_datagram);

  struct Outgoing {
    wire::Address to;
    std::span<const uint8_t> bytes;
  };
  // Sends the datagrams in batches. A datagram the kernel refuses (no route, buffer full) is
  // dropped and counted: UDP is lossy and the protocol is built for it.
  void send_all(std::span<const Outgoing> datagrams);

  uint64_t send_errors() const { return send_errors_; }
  uint64_t truncated() const { return truncated_; }

 private:
  UniqueFd fd_;
  bool v6_ = false;
  size_t slot_bytes_;
  std::unique_ptr<uint8_t[]> buffers_;  // kBatch x slot_bytes_, uninitialised
  uint64_t send_errors_ = 0;
  uint64_t truncated_ = 0;
};

}  // namespace constellation::runtime
