#include "runtime/stream_conn.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "runtime/socket_address.h"
#include "wire/codec.h"

namespace constellation::runtime {

namespace {
constexpr size_t kReadStep = 64 * 1024;
}  // namespace

StreamConn StreamConn::connect(const wire::Address& to, std::vector<uint8_t> request,
                               size_t max_frame_bytes, core::TimeMs deadline,
                               const std::optional<wire::Address>& local) {
  StreamConn conn;
  conn.role_ = Role::kOutgoing;
  conn.peer_ = to;
  conn.deadline_ = deadline;
  conn.max_frame_bytes_ = max_frame_bytes;
  conn.out_ = std::move(request);
  const int family = to.family == wire::Address::Family::kV4 ? AF_INET : AF_INET6;
  conn.fd_.reset(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!conn.fd_.valid()) {
    conn.fail_errno("socket");
    return conn;
  }
  const int one = 1;
  ::setsockopt(conn.fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (local && local->family == to.family) {
    // The port is picked at connect time, so the 4-tuple (not the local port alone) must be
    // unique: many short connections do not exhaust the ephemeral range.
    ::setsockopt(conn.fd_.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    wire::Address from = *local;
    from.port = 0;
    const SockAddr la = to_sockaddr(from);
    if (::bind(conn.fd_.get(), la.get(), la.length) != 0) {
      conn.fail_errno("bind");
      return conn;
    }
  }
  const SockAddr sa = to_sockaddr(to);
  if (::connect(conn.fd_.get(), sa.get(), sa.length) != 0 && errno != EINPROGRESS) {
    conn.fail_errno("connect");
    return conn;
  }
  conn.connecting_ = true;
  conn.writing_ = true;
  return conn;
}

StreamConn StreamConn::accepted(UniqueFd fd, const wire::Address& from, size_t max_frame_bytes,
                                core::TimeMs deadline) {
  StreamConn conn;
  conn.role_ = Role::kIncoming;
  conn.fd_ = std::move(fd);
  conn.peer_ = from;
  conn.deadline_ = deadline;
  conn.max_frame_bytes_ = max_frame_bytes;
  return conn;
}

uint32_t StreamConn::wanted_events() const { return writing_ ? EPOLLOUT : EPOLLIN; }

StreamConn::Status StreamConn::fail(const std::string& what) {
  if (error_.empty()) error_ = what;
  fd_.reset();
  return Status::kFailed;
}

StreamConn::Status StreamConn::fail_errno(const char* what) {
  return fail(std::string(what) + ": " + std::strerror(errno));
}

StreamConn::Status StreamConn::on_ready(uint32_t events) {
  if (!fd_.valid()) return Status::kFailed;
  if (connecting_) {
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail(std::string("connect: ") + std::strerror(err));
    if (!(events & EPOLLOUT)) return Status::kPending;
    connecting_ = false;
  }
  if (writing_) return write_some();
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) return read_some();
  return Status::kPending;
}

StreamConn::Status StreamConn::send_reply(std::vector<uint8_t> reply) {
  out_ = std::move(reply);
  out_offset_ = 0;
  writing_ = true;
  return write_some();
}

StreamConn::Status StreamConn::write_some() {
  while (out_offset_ < out_.size()) {
    const ssize_t n = ::send(fd_.get(), out_.data() + out_offset_, out_.size() - out_offset_,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::kPending;
      if (errno == EINTR) continue;
      return fail_errno("send");
    }
    out_offset_ += static_cast<size_t>(n);
  }
  writing_ = false;
  out_.clear();
  out_.shrink_to_fit();
  if (role_ == Role::kIncoming) return Status::kWritten;
  return Status::kPending;  // outgoing: now wait for the reply
}

StreamConn::Status StreamConn::read_some() {
  for (;;) {
    const size_t want = expected_ == 0 ? wire::kFrameHeaderSize : expected_;
    if (in_.size() < want) {
      // Grow in steps as bytes actually arrive: a length prefix alone never makes us allocate
      // the whole (bounded) frame.
      const size_t old = in_.size();
      const size_t step = std::min(want - old, kReadStep);
      in_.resize(old + step);
      const ssize_t n = ::recv(fd_.get(), in_.data() + old, step, MSG_DONTWAIT);
      if (n < 0) {
        in_.resize(old);
        if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::kPending;
        if (errno == EINTR) continue;
        return fail_errno("recv");
      }
      if (n == 0) {
        in_.resize(old);
        return fail("connection closed before a whole frame arrived");
      }
      in_.resize(old + static_cast<size_t>(n));
      if (in_.size() < want) continue;
    }
    if (expected_ == 0) {
      uint32_t length = 0;
      const wire::DecodeError error = wire::read_frame_length(in_, max_frame_bytes_, length);
      if (error != wire::DecodeError::kNone) {
        return fail(std::string("bad frame: ") + wire::error_name(error));
      }
      expected_ = wire::kFrameHeaderSize + length;
      continue;
    }
    return Status::kFrameRead;
  }
}

}  // namespace constellation::runtime
