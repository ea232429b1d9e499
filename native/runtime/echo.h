// Throughput harness for bench/echo.mjs, not used by the library: a raw UDP echo server on a
// thread of its own, and a client that keeps a window of requests in flight and counts the
// replies, both on recvmmsg/sendmmsg. Pointed at a runtime with PING packets, the client
// measures round trips through the whole runtime (socket, decode, engine, encode, socket);
// pointed at the raw echo, the ceiling of the socket path alone, in the same run.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>

#include "runtime/fd.h"
#include "runtime/udp_socket.h"
#include "wire/messages.h"

namespace constellation::runtime {

class RawEchoServer {
 public:
  // Binds `address` (port 0: any) and starts echoing; null with `error` set on failure.
  static std::unique_ptr<RawEchoServer> start(const wire::Address& address, std::string& error);
  RawEchoServer();
  ~RawEchoServer();
  RawEchoServer(const RawEchoServer&) = delete;
  RawEchoServer& operator=(const RawEchoServer&) = delete;

  wire::Address address() const { return socket_.local_address(); }
  uint64_t echoed() const { return echoed_.load(); }
  void stop();

 private:
  void run();

  UdpSocket socket_;
  UniqueFd wake_fd_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> echoed_{0};
  std::thread thread_;
};

struct EchoResult {
  uint64_t sent = 0;
  uint64_t received = 0;
  double seconds = 0;
};

// Sends `request` to `target` from `from` (port 0) keeping `window` requests in flight for
// `duration_ms`; every datagram that comes back frees a slot. Blocks the calling thread.
EchoResult run_echo_client(const wire::Address& from, const wire::Address& target,
                           std::span<const uint8_t> request, size_t window, int duration_ms,
                           std::string& error);

}  // namespace constellation::runtime
