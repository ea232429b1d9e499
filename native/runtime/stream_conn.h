// One TCP connection carrying a single framed exchange (DESIGN.md: SYNC and TCP pings travel
// over TCP in length-prefixed frames). Outgoing: connect, write the request frame, read one
// reply frame. Incoming: read one request frame, write the reply, close. Every read is bounded
// by `max_frame_bytes` and every connection by a deadline, so a peer that trickles bytes or
// never answers costs one slot for a bounded time.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/time.h"
#include "runtime/fd.h"
#include "wire/messages.h"

namespace constellation::runtime {

class StreamConn {
 public:
  enum class Role : uint8_t { kOutgoing, kIncoming };
  enum class Status : uint8_t {
    kPending,    // waiting for the socket
    kFrameRead,  // a whole frame is in `frame()`
    kWritten,    // the reply is out (incoming) — close
    kFailed,     // see `error()`
  };

  // Starts a non-blocking connect to `to` and queues `request` for writing. With `local`, the
  // connection leaves from that IP (any port), so a member bound to one address of a
  // multi-homed host (or to 127.0.0.x) speaks TCP from the address it speaks UDP from.
  static StreamConn connect(const wire::Address& to, std::vector<uint8_t> request,
                            size_t max_frame_bytes, core::TimeMs deadline,
                            const std::optional<wire::Address>& local = std::nullopt);
  // Wraps an accepted socket.
  static StreamConn accepted(UniqueFd fd, const wire::Address& from, size_t max_frame_bytes,
                             core::TimeMs deadline);

  int fd() const { return fd_.get(); }
  Role role() const { return role_; }
  const wire::Address& peer() const { return peer_; }
  core::TimeMs deadline() const { return deadline_; }
  const std::string& error() const { return error_; }
  std::span<const uint8_t> frame() const { return in_; }
  // epoll events this connection waits for now.
  uint32_t wanted_events() const;

  // Makes progress after readiness; returns the new status.
  Status on_ready(uint32_t events);
  // Queues a reply (incoming) and starts writing it.
  Status send_reply(std::vector<uint8_t> reply);

 private:
  StreamConn() = default;
  Status fail(const std::string& what);
  Status fail_errno(const char* what);
  Status write_some();
  Status read_some();

  UniqueFd fd_;
  Role role_ = Role::kOutgoing;
  wire::Address peer_;
  core::TimeMs deadline_ = 0;
  size_t max_frame_bytes_ = 0;
  bool connecting_ = false;
  bool writing_ = false;
  std::vector<uint8_t> out_;
  size_t out_offset_ = 0;
  std::vector<uint8_t> in_;
  size_t expected_ = 0;  // whole frame size once the length prefix is read
  std::string error_;
};

}  // namespace constellation::runtime
