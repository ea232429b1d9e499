#include "runtime/runtime.h"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "runtime/clock.h"
#include "runtime/fd.h"
#include "runtime/reactor.h"
#include "runtime/socket_address.h"
#include "runtime/stream_conn.h"
#include "runtime/udp_socket.h"
#include "wire/codec.h"
#include "wire/envelope.h"

namespace constellation::runtime {

namespace {

constexpr uint64_t kWakeToken = 0;
constexpr uint64_t kUdpToken = 1;
constexpr uint64_t kListenToken = 2;
constexpr uint64_t kFirstConnToken = 16;
// The loop wakes at least this often even with nothing due: a safety net only, since every
// input and every engine deadline wakes it anyway (and each wake publishes the counters).
constexpr core::TimeMs kMaxWaitMs = 1000;
// Pending TCP connections the kernel may queue (it caps this at net.core.somaxconn). A seed
// that hundreds of members join at once must queue them all: a connection the queue cannot
// take has its SYN dropped and retried by the joiner only a second later.
constexpr int kListenBacklog = 4096;
// How stale the member snapshot may get after inputs that changed the table without an event.
constexpr core::TimeMs kQuietPublishMs = 100;
// How long the listener rests after accept() ran out of descriptors.
constexpr core::TimeMs kAcceptPauseMs = 100;

// The largest datagram received whole: our own MTU or a standard Ethernet payload, whichever is
// larger (so a peer configured for 1500 is still heard), plus room for an envelope around the
// packet (encryption adds a nonce and a tag).
size_t receive_slot_bytes(size_t mtu) {
  constexpr size_t kEthernetPayload = 1472;
  constexpr size_t kEnvelopeRoom = 128;
  return std::max(mtu, kEthernetPayload) + kEnvelopeRoom;
}

std::string describe(const wire::Address& address) {
  const std::string ip = format_ip(address);
  if (address.family == wire::Address::Family::kV6) {
    return "[" + ip + "]:" + std::to_string(address.port);
  }
  return ip + ":" + std::to_string(address.port);
}

}  // namespace

// Everything the I/O thread owns. Only `Runtime::run` (on the I/O thread) touches it after
// start, except `wake()`, which writes the eventfd.
class Runtime::Loop : public Reactor::Client {
 public:
  Loop(RuntimeOptions options, Sink sink)
      : options_(std::move(options)),
        sink_(std::move(sink)),
        udp_(receive_slot_bytes(options_.config.mtu)) {}

  bool open(std::string& error, StartError& kind, wire::Address& bound);
  void wake() const {
    const uint64_t one = 1;
    // A full eventfd counter still wakes the loop; nothing to do on failure.
    [[maybe_unused]] const ssize_t n = ::write(wake_fd_.get(), &one, sizeof(one));
  }
  // Its own thread: runs until the owner stops.
  void run(Runtime& owner);
  // Reactor::Client, for the shared thread.
  int poll_fd() const override { return epoll_fd_.get(); }
  core::TimeMs run_once(core::TimeMs now) override;
  void set_owner(Runtime* owner) { owner_ = owner; }
  // Publishes stats and, if `members_changed`, a new snapshot. Called by the I/O thread, and
  // once by `start` before the thread exists so queries see the local member at once.
  void publish(Runtime& owner, bool members_changed);
  bool shared_thread() const { return options_.shared_thread; }

 private:
  struct JoinAttempt {
    uint64_t token = 0;
    size_t outstanding = 0;
    uint64_t answered = 0;
    std::vector<std::string> failures;
  };

  // Handles `n` ready events, then runs the engine's timers, publishes and delivers.
  void handle(Runtime& owner, const epoll_event* events, int n);
  void on_wake(Runtime& owner);
  void on_udp(core::TimeMs now);
  void on_accept(core::TimeMs now);
  void set_listening(bool on);
  void on_conn(uint64_t token, uint32_t events, core::TimeMs now);
  void expire_conns(core::TimeMs now);
  void finish_outgoing(uint64_t conn_token, bool ok, std::string error, core::TimeMs now);
  // Counts one seed's answer (or failure) towards the join that asked it, if any, and
  // completes the join once every seed of it is settled.
  void settle_join(uint64_t request_id, const wire::Address& peer, bool used,
                   const std::string& error);
  void apply(Command& command, core::TimeMs now);
  void flush(core::TimeMs now);
  void start_stream(core::StreamRequest& request, core::TimeMs now);
  void add_conn(StreamConn conn, uint64_t request_id, bool is_join);
  void close_conn(uint64_t token);
  core::TimeMs wait_ms(core::TimeMs now) const;
  // The keyring as it is now (null: no encryption); taken once per batch of packets.
  std::shared_ptr<const wire::Keyring> keyring() const {
    return options_.keys ? options_.keys->snapshot() : nullptr;
  }
  // Opens a frame read from a stream into `out`; counts a refusal and returns false. Frames
  // use their own buffer (they can be megabytes), released when the exchange is done.
  bool open_frame(std::span<const uint8_t> frame, std::vector<uint8_t>& out);

  RuntimeOptions options_;
  Sink sink_;
  Runtime* owner_ = nullptr;
  std::unique_ptr<core::Engine> engine_;
  UdpSocket udp_;
  UniqueFd listen_fd_;
  UniqueFd epoll_fd_;
  UniqueFd wake_fd_;

  struct ConnEntry {
    StreamConn conn;
    uint64_t request_id = 0;  // outgoing: the engine's stream request id
    bool is_join = false;
  };
  std::map<uint64_t, ConnEntry> conns_;
  // The bind IP when it is a specific address: outgoing TCP leaves from it too.
  std::optional<wire::Address> outgoing_from_;
  uint64_t next_conn_token_ = kFirstConnToken;
  core::TimeMs listen_paused_until_ = 0;  // 0: not resting after EMFILE
  bool listen_full_ = false;              // max_incoming_streams connections are open
  size_t incoming_ = 0;
  size_t outgoing_ = 0;
  uint64_t streams_refused_ = 0;

  // The envelope: our cluster name, refusals by reason, and reused buffers.
  wire::ClusterLabel label_;
  std::array<uint64_t, wire::kOpenErrorCount> envelope_rejected_{};
  std::vector<uint8_t> opened_;
  std::vector<std::vector<uint8_t>> sealed_;
  wire::OpenError last_frame_error_ = wire::OpenError::kNone;

  std::unordered_map<uint64_t, uint64_t> join_of_request_;  // stream request id -> join token
  std::map<uint64_t, JoinAttempt> joins_;
  std::vector<uint64_t> leave_tokens_;

  Batch batch_;
  std::shared_ptr<const Snapshot> published_;  // the last snapshot, for carrying stamps over
  uint64_t last_stamp_ = 0;
  uint64_t snapshot_version_ = 0;
  uint64_t published_incarnation_ = 0;
  core::TimeMs members_published_at_ = 0;
  bool unsure_ = false;  // inputs since the last snapshot may have changed the table
  // Offset from the monotonic clock to the wall clock, fixed at start, for event times.
  int64_t wall_offset_ = 0;
};

bool Runtime::Loop::open(std::string& error, StartError& kind, wire::Address& bound) {
  const std::string config_error = options_.config.validate();
  if (!config_error.empty()) {
    error = config_error;
    kind = StartError::kConfig;
    return false;
  }
  const size_t record_bytes = wire::encoded_record_size(options_.local);
  if (record_bytes > options_.config.max_record_bytes) {
    error = "the member record is " + std::to_string(record_bytes) +
            " bytes encoded, more than maxRecordBytes (" +
            std::to_string(options_.config.max_record_bytes) + ")";
    kind = StartError::kRecordTooLarge;
    return false;
  }
  if (options_.cluster_name.size() > wire::kMaxClusterNameBytes) {
    error = "clusterName must be at most 255 bytes";
    kind = StartError::kConfig;
    return false;
  }
  label_ = wire::ClusterLabel(options_.cluster_name);
  // The engine packs datagrams to its MTU; the envelope adds a fixed overhead, so the engine
  // gets the MTU less that overhead and sealed datagrams still fit the configured MTU.
  const size_t overhead = wire::seal_overhead(keyring().get(), label_);
  if (options_.config.mtu < overhead + 256) {
    error = "mtu too small for the envelope (" + std::to_string(overhead) + " bytes)";
    kind = StartError::kConfig;
    return false;
  }
  options_.config.mtu -= overhead;
  int error_number = 0;
  if (!udp_.bind(options_.bind, error, error_number)) {
    error = "cannot bind UDP " + describe(options_.bind) + ": " + error;
    kind = StartError::kBind;
    return false;
  }
  bound = udp_.local_address();

  // TCP on the same port number as UDP.
  const int family = bound.family == wire::Address::Family::kV4 ? AF_INET : AF_INET6;
  listen_fd_.reset(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  const int one = 1;
  wire::Address tcp_bind = options_.bind;
  tcp_bind.port = bound.port;
  const SockAddr sa = to_sockaddr(tcp_bind);
  if (!listen_fd_.valid() ||
      ::setsockopt(listen_fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      ::bind(listen_fd_.get(), sa.get(), sa.length) != 0 ||
      ::listen(listen_fd_.get(), kListenBacklog) != 0) {
    error = "cannot bind TCP " + describe(tcp_bind) + ": " + std::strerror(errno);
    kind = StartError::kBind;
    return false;
  }

  epoll_fd_.reset(::epoll_create1(EPOLL_CLOEXEC));
  wake_fd_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!epoll_fd_.valid() || !wake_fd_.valid()) {
    error = std::string("cannot create epoll/eventfd: ") + std::strerror(errno);
    kind = StartError::kSystem;
    return false;
  }
  auto watch = [this](int fd, uint64_t token) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = token;
    return ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) == 0;
  };
  if (!watch(wake_fd_.get(), kWakeToken) || !watch(udp_.fd(), kUdpToken) ||
      !watch(listen_fd_.get(), kListenToken)) {
    error = std::string("epoll_ctl: ") + std::strerror(errno);
    kind = StartError::kSystem;
    return false;
  }

  // The address others use: the advertised one, else the bound one (a wildcard bind needs an
  // advertise address; the TypeScript layer picks one).
  wire::MemberRecord local = options_.local;
  local.address = options_.advertise.value_or(bound);
  if (local.address.port == 0) local.address.port = bound.port;
  try {
    engine_ = std::make_unique<core::Engine>(options_.config, std::move(local), options_.seed);
  } catch (const std::exception& e) {
    error = e.what();
    kind = StartError::kConfig;
    return false;
  }
  const bool wildcard = std::all_of(options_.bind.bytes.begin(), options_.bind.bytes.end(),
                                    [](uint8_t b) { return b == 0; });
  if (!wildcard) outgoing_from_ = options_.bind;
  wall_offset_ = wall_ms() - monotonic_ms();
  return true;
}

core::TimeMs Runtime::Loop::wait_ms(core::TimeMs now) const {
  core::TimeMs until = std::min(engine_->next_deadline(), now + kMaxWaitMs);
  for (const auto& [token, entry] : conns_) until = std::min(until, entry.conn.deadline());
  if (listen_paused_until_ != 0) until = std::min(until, listen_paused_until_);
  if (unsure_) until = std::min(until, members_published_at_ + kQuietPublishMs);
  return std::max<core::TimeMs>(0, until - now);
}

void Runtime::Loop::run(Runtime& owner) {
  std::array<epoll_event, 64> events{};
  while (!owner.stopping_.load()) {
    const core::TimeMs now = monotonic_ms();
    const int n = ::epoll_wait(epoll_fd_.get(), events.data(), static_cast<int>(events.size()),
                               static_cast<int>(wait_ms(now)));
    handle(owner, events.data(), n);
  }
  // Commands still queued at stop never run; their promises are settled by the addon.
}

core::TimeMs Runtime::Loop::run_once(core::TimeMs) {
  std::array<epoll_event, 64> events{};
  const int n = ::epoll_wait(epoll_fd_.get(), events.data(), static_cast<int>(events.size()), 0);
  handle(*owner_, events.data(), n);
  const core::TimeMs now = monotonic_ms();
  return now + wait_ms(now);
}

void Runtime::Loop::handle(Runtime& owner, const epoll_event* events, int n) {
  const core::TimeMs now = monotonic_ms();
  for (int i = 0; i < n; ++i) {
    const uint64_t token = events[i].data.u64;
    const uint32_t what = events[i].events;
    if (token == kWakeToken) {
      on_wake(owner);
    } else if (token == kUdpToken) {
      on_udp(now);
    } else if (token == kListenToken) {
      on_accept(now);
    } else {
      on_conn(token, what, now);
    }
    flush(now);
  }
  if (listen_paused_until_ != 0 && now >= listen_paused_until_) {
    listen_paused_until_ = 0;
    if (!listen_full_) set_listening(true);
  }
  expire_conns(now);
  engine_->tick(now);
  flush(now);
  if (!leave_tokens_.empty() && engine_->leave_complete()) {
    for (uint64_t token : leave_tokens_) batch_.completions.push_back(Completion::success(token));
    leave_tokens_.clear();
  }
  // Reaped tombstones leave the table without an event; the count catches them.
  // Some changes come without an event (a member's incarnation rising on gossip with no
  // state change): after any input, republish within kQuietPublishMs even without one.
  const bool changed = !batch_.events.empty() || engine_->incarnation() != published_incarnation_ ||
                       (unsure_ && now - members_published_at_ >= kQuietPublishMs) ||
                       engine_->member_count() != published_->members.size();
  publish(owner, changed);
  if (!batch_.events.empty() || !batch_.completions.empty()) {
    sink_(std::move(batch_));
    batch_ = Batch{};
  }
}

void Runtime::Loop::on_wake(Runtime& owner) {
  uint64_t value = 0;
  [[maybe_unused]] const ssize_t n = ::read(wake_fd_.get(), &value, sizeof(value));
  std::deque<Command> commands;
  {
    std::lock_guard lock(owner.commands_mutex_);
    commands.swap(owner.commands_);
  }
  const core::TimeMs now = monotonic_ms();
  for (Command& command : commands) {
    apply(command, now);
    flush(now);
  }
}

void Runtime::Loop::apply(Command& command, core::TimeMs now) {
  switch (command.kind) {
    case Command::Kind::kJoin: {
      engine_->join(command.seeds, now);
      JoinAttempt attempt;
      attempt.token = command.token;
      std::vector<wire::Address> asked;
      for (const core::StreamRequest& request : engine_->outputs().streams) {
        if (request.kind != core::StreamKind::kJoinSync) continue;
        join_of_request_[request.id] = command.token;
        asked.push_back(request.to);
        ++attempt.outstanding;
      }
      // The engine skips our own address and seeds beyond its bound on streams in flight;
      // name them too, so the caller learns what happened to every seed it gave.
      for (const wire::Address& seed : command.seeds) {
        if (std::find(asked.begin(), asked.end(), seed) != asked.end()) continue;
        attempt.failures.push_back(describe(seed) + ": " +
                                   (seed == engine_->local().address
                                        ? "this member's own address"
                                        : "not contacted: too many connections in flight"));
      }
      if (attempt.outstanding == 0) {
        batch_.completions.push_back(Completion::failure(command.token, "ERR_JOIN_FAILED",
                                                         "no seed could be contacted",
                                                         std::move(attempt.failures)));
      } else {
        joins_[command.token] = std::move(attempt);
      }
      break;
    }
    case Command::Kind::kLeave:
      if (!engine_->has_left()) engine_->leave(now);
      leave_tokens_.push_back(command.token);
      break;
    case Command::Kind::kUpdate: {
      const core::UpdateError result =
          engine_->update_local(std::move(command.resources), std::move(command.tags), now);
      if (result == core::UpdateError::kNone) {
        batch_.completions.push_back(Completion::success(command.token));
      } else if (result == core::UpdateError::kRecordTooLarge) {
        batch_.completions.push_back(
            Completion::failure(command.token, "ERR_METADATA_TOO_LARGE",
                                "the member record would exceed maxRecordBytes (" +
                                    std::to_string(options_.config.max_record_bytes) + " bytes)"));
      } else {
        batch_.completions.push_back(Completion::failure(command.token, "ERR_NOT_RUNNING",
                                                         "the member has left the cluster"));
      }
      break;
    }
    case Command::Kind::kForceLeave: {
      if (engine_->force_leave(command.name, now)) {
        batch_.completions.push_back(Completion::success(command.token, 1));
      } else {
        batch_.completions.push_back(
            Completion::failure(command.token, "ERR_FORCE_LEAVE",
                                "no suspect or dead member named '" + command.name + "'"));
      }
      break;
    }
  }
}

void Runtime::Loop::on_udp(core::TimeMs now) {
  const auto keys = keyring();
  if (udp_.receive_all([&](const wire::Address& from, std::span<const uint8_t> bytes) {
        const wire::OpenError error = wire::open(bytes, keys.get(), label_, opened_);
        if (error != wire::OpenError::kNone) {
          ++envelope_rejected_[static_cast<size_t>(error)];
          return;
        }
        engine_->receive(from, opened_, now);
      }) > 0) {
    unsure_ = true;
  }
}

void Runtime::Loop::on_accept(core::TimeMs now) {
  for (;;) {
    if (incoming_ >= options_.max_incoming_streams) {
      // At the bound, leave further connections in the kernel's backlog (a burst of joins
      // waits its turn rather than fail) and stop watching until a connection closes.
      listen_full_ = true;
      set_listening(false);
      return;
    }
    SockAddr from;
    from.length = sizeof(from.storage);
    const int fd =
        ::accept4(listen_fd_.get(), from.get(), &from.length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors or memory: the connection stays queued and the listener stays
        // readable, so stop watching it for a moment rather than spin on it.
        set_listening(false);
        listen_paused_until_ = now + kAcceptPauseMs;
      }
      return;  // EAGAIN, or a transient error: wait for the next readiness
    }
    UniqueFd owned(fd);
    const auto peer = from_sockaddr(from.get(), from.length);
    if (!peer) {
      ++streams_refused_;
      continue;  // closed by UniqueFd
    }
    add_conn(StreamConn::accepted(std::move(owned), *peer, options_.max_stream_frame_bytes,
                                  now + options_.config.stream_timeout_ms),
             0, false);
  }
}

void Runtime::Loop::set_listening(bool on) {
  epoll_event ev{};
  ev.events = on ? static_cast<uint32_t>(EPOLLIN) : 0u;
  ev.data.u64 = kListenToken;
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, listen_fd_.get(), &ev);
}

void Runtime::Loop::add_conn(StreamConn conn, uint64_t request_id, bool is_join) {
  const uint64_t token = next_conn_token_++;
  epoll_event ev{};
  ev.events = conn.wanted_events();
  ev.data.u64 = token;
  if (conn.role() == StreamConn::Role::kIncoming) {
    ++incoming_;
  } else {
    ++outgoing_;
  }
  const bool watched = ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, conn.fd(), &ev) == 0;
  conns_.emplace(token, ConnEntry{std::move(conn), request_id, is_join});
  if (!watched) {
    // Never registered: fail it now rather than wait for its deadline.
    auto& entry = conns_.at(token);
    if (entry.conn.role() == StreamConn::Role::kOutgoing) {
      finish_outgoing(token, false, "cannot watch socket", monotonic_ms());
    } else {
      close_conn(token);
    }
  }
}

void Runtime::Loop::close_conn(uint64_t token) {
  auto it = conns_.find(token);
  if (it == conns_.end()) return;
  if (it->second.conn.fd() >= 0) {
    ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, it->second.conn.fd(), nullptr);
  }
  if (it->second.conn.role() == StreamConn::Role::kIncoming) {
    --incoming_;
    if (listen_full_) {
      listen_full_ = false;
      if (listen_paused_until_ == 0) set_listening(true);
    }
  } else {
    --outgoing_;
  }
  conns_.erase(it);
}

void Runtime::Loop::on_conn(uint64_t token, uint32_t events, core::TimeMs now) {
  auto it = conns_.find(token);
  if (it == conns_.end()) return;
  StreamConn& conn = it->second.conn;
  StreamConn::Status status = conn.on_ready(events);
  if (status == StreamConn::Status::kFrameRead) unsure_ = true;
  if (status == StreamConn::Status::kFrameRead && conn.role() == StreamConn::Role::kIncoming) {
    std::vector<uint8_t> request;
    if (!open_frame(conn.frame(), request)) {
      status = StreamConn::Status::kWritten;  // refused and counted: close without a reply
    } else {
      std::vector<uint8_t> reply = engine_->serve_stream(conn.peer(), request, now);
      std::vector<uint8_t> sealed;
      if (!reply.empty() && wire::seal_frame(reply, keyring().get(), label_, sealed)) {
        status = conn.send_reply(std::move(sealed));
      } else {
        status = StreamConn::Status::kWritten;
      }
    }
  }
  switch (status) {
    case StreamConn::Status::kPending: {
      epoll_event ev{};
      ev.events = conn.wanted_events();
      ev.data.u64 = token;
      ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, conn.fd(), &ev);
      break;
    }
    case StreamConn::Status::kFrameRead:  // outgoing: the reply is in
      finish_outgoing(token, true, {}, now);
      break;
    case StreamConn::Status::kWritten:
      close_conn(token);
      break;
    case StreamConn::Status::kFailed:
      if (conn.role() == StreamConn::Role::kOutgoing) {
        finish_outgoing(token, false, conn.error(), now);
      } else {
        close_conn(token);
      }
      break;
  }
}

// `error` is taken by value: callers pass the connection's own error, and the connection is
// destroyed below.
void Runtime::Loop::finish_outgoing(uint64_t conn_token, bool ok, std::string error,
                                    core::TimeMs now) {
  auto it = conns_.find(conn_token);
  if (it == conns_.end()) return;
  const uint64_t request_id = it->second.request_id;
  const wire::Address peer = it->second.conn.peer();
  bool used = false;
  std::string why = ok ? std::string("reply did not decode") : error;
  if (ok) {
    std::vector<uint8_t> response;
    if (open_frame(it->second.conn.frame(), response)) {
      used = engine_->stream_response(request_id, response, now);
    } else {
      // The seed answered in another cluster's envelope or under a key we do not hold.
      why = std::string("reply refused: ") + wire::open_error_name(last_frame_error_);
    }
  }
  if (!used) engine_->stream_failed(request_id, now);
  close_conn(conn_token);

  settle_join(request_id, peer, used, why);
}

void Runtime::Loop::settle_join(uint64_t request_id, const wire::Address& peer, bool used,
                                const std::string& error) {
  auto join = join_of_request_.find(request_id);
  if (join == join_of_request_.end()) return;
  const uint64_t join_token = join->second;
  join_of_request_.erase(join);
  auto attempt_it = joins_.find(join_token);
  if (attempt_it == joins_.end()) return;
  JoinAttempt& attempt = attempt_it->second;
  if (used) {
    ++attempt.answered;
  } else {
    attempt.failures.push_back(describe(peer) + ": " + error);
  }
  if (--attempt.outstanding > 0) return;
  if (attempt.answered > 0) {
    batch_.completions.push_back(Completion::success(join_token, attempt.answered));
  } else {
    batch_.completions.push_back(Completion::failure(
        join_token, "ERR_JOIN_FAILED", "no seed answered", std::move(attempt.failures)));
  }
  joins_.erase(attempt_it);
}

void Runtime::Loop::expire_conns(core::TimeMs now) {
  std::vector<uint64_t> expired;
  for (const auto& [token, entry] : conns_) {
    if (entry.conn.deadline() <= now) expired.push_back(token);
  }
  for (uint64_t token : expired) {
    auto it = conns_.find(token);
    if (it->second.conn.role() == StreamConn::Role::kOutgoing) {
      finish_outgoing(token, false, "timed out", now);
    } else {
      close_conn(token);
    }
  }
}

void Runtime::Loop::start_stream(core::StreamRequest& request, core::TimeMs now) {
  if (outgoing_ >= options_.max_outgoing_streams) {
    engine_->stream_failed(request.id, now);
    settle_join(request.id, request.to, false, "too many outgoing connections in flight");
    return;
  }
  std::vector<uint8_t> sealed;
  if (!wire::seal_frame(request.frame, keyring().get(), label_, sealed)) {
    engine_->stream_failed(request.id, now);
    settle_join(request.id, request.to, false, "the request could not be sealed");
    return;
  }
  StreamConn conn =
      StreamConn::connect(request.to, std::move(sealed), options_.max_stream_frame_bytes,
                          now + options_.config.stream_timeout_ms, outgoing_from_);
  const bool is_join = request.kind == core::StreamKind::kJoinSync;
  if (conn.fd() < 0) {
    // The connect failed at once (no route, bad address).
    const uint64_t token = next_conn_token_++;
    ++outgoing_;
    conns_.emplace(token, ConnEntry{std::move(conn), request.id, is_join});
    finish_outgoing(token, false, conns_.at(token).conn.error(), now);
    return;
  }
  add_conn(std::move(conn), request.id, is_join);
}

bool Runtime::Loop::open_frame(std::span<const uint8_t> frame, std::vector<uint8_t>& out) {
  last_frame_error_ = wire::open_frame(frame, keyring().get(), label_, out);
  if (last_frame_error_ == wire::OpenError::kNone) return true;
  ++envelope_rejected_[static_cast<size_t>(last_frame_error_)];
  return false;
}

void Runtime::Loop::flush(core::TimeMs now) {
  // Outputs can produce more outputs (a failed stream makes the engine react), so loop until
  // the engine has nothing more to say.
  for (int round = 0; round < 8 && !engine_->outputs().empty(); ++round) {
    core::Outputs out;
    std::swap(out, engine_->outputs());
    if (!out.datagrams.empty()) {
      const auto keys = keyring();
      // Sealed copies live in sealed_ (capacity reused) until send_all has sent them.
      if (sealed_.size() < out.datagrams.size()) sealed_.resize(out.datagrams.size());
      std::vector<UdpSocket::Outgoing> send;
      send.reserve(out.datagrams.size());
      for (size_t i = 0; i < out.datagrams.size(); ++i) {
        const core::Datagram& d = out.datagrams[i];
        if (wire::seal(d.bytes, keys.get(), label_, sealed_[i])) send.push_back({d.to, sealed_[i]});
      }
      udp_.send_all(send);
    }
    for (core::StreamRequest& request : out.streams) start_stream(request, now);
    for (const core::Event& event : out.events) {
      batch_.events.push_back(
          {event.kind, event.state, event.incarnation, event.member, event.at + wall_offset_});
    }
  }
}

void Runtime::Loop::publish(Runtime& owner, bool members_changed) {
  Stats stats;
  stats.counters = engine_->counters();
  stats.health_score = engine_->health_score();
  stats.incarnation = engine_->incarnation();
  stats.udp_send_errors = udp_.send_errors();
  stats.udp_truncated = udp_.truncated();
  stats.streams_refused = streams_refused_;
  stats.envelope_rejected = envelope_rejected_;
  stats.members = engine_->member_count();
  stats.alive = engine_->count(wire::MemberState::kAlive);
  stats.suspect = engine_->count(wire::MemberState::kSuspect);
  stats.dead = engine_->count(wire::MemberState::kDead);
  stats.left = engine_->count(wire::MemberState::kLeft);

  std::shared_ptr<Snapshot> snapshot;
  if (members_changed) {
    snapshot = std::make_shared<Snapshot>();
    snapshot->members.reserve(engine_->member_count());
    const std::vector<MemberView>* previous = published_ ? &published_->members : nullptr;
    bool any_new = false;
    engine_->for_each_member([&](const core::MemberInfo& info) {
      MemberView view{info.record,      info.state,
                      info.incarnation, info.state_changed_at + wall_offset_,
                      info.is_local,    0};
      // Pointer equality is sound: the previous snapshot still holds its records, so an
      // address cannot have been reused for a different record in between.
      const size_t i = snapshot->members.size();
      if (previous != nullptr && i < previous->size()) {
        const MemberView& old = (*previous)[i];
        if (old.record == view.record && old.state == view.state &&
            old.incarnation == view.incarnation && old.state_changed_at == view.state_changed_at &&
            old.is_local == view.is_local) {
          view.stamp = old.stamp;
        }
      }
      if (view.stamp == 0) {
        view.stamp = ++last_stamp_;
        any_new = true;
      }
      snapshot->members.push_back(std::move(view));
    });
    published_incarnation_ = engine_->incarnation();
    members_published_at_ = monotonic_ms();
    unsure_ = false;
    if (!any_new && previous != nullptr && previous->size() == snapshot->members.size()) {
      snapshot.reset();  // nothing changed: readers keep the version they have
    } else {
      snapshot->version = ++snapshot_version_;
      snapshot->last_stamp = last_stamp_;
      published_ = snapshot;
    }
  }
  std::lock_guard lock(owner.snapshot_mutex_);
  owner.stats_ = stats;
  if (snapshot) owner.snapshot_ = std::move(snapshot);
}

// ---- Runtime ----

std::unique_ptr<Runtime> Runtime::start(RuntimeOptions options, Sink sink, std::string& error,
                                        StartError& error_kind) {
  auto runtime = std::make_unique<Runtime>(Key{});
  runtime->loop_ = std::make_unique<Loop>(std::move(options), std::move(sink));
  error_kind = StartError::kNone;
  if (!runtime->loop_->open(error, error_kind, runtime->local_address_)) return nullptr;
  runtime->loop_->publish(*runtime, true);
  runtime->loop_->set_owner(runtime.get());
  try {
    if (runtime->loop_->shared_thread()) {
      runtime->reactor_ = Reactor::shared();
      runtime->reactor_->attach(runtime->loop_.get());
    } else {
      runtime->thread_ = std::thread([raw = runtime.get()] { raw->run(); });
    }
  } catch (const std::exception& e) {  // no thread, or no epoll for the shared one
    error = std::string("cannot start the I/O thread: ") + e.what();
    error_kind = StartError::kSystem;
    runtime->stopped_.store(true);
    return nullptr;
  }
  return runtime;
}

Runtime::Runtime(Key) {}

Runtime::~Runtime() { stop(); }

void Runtime::run() { loop_->run(*this); }

void Runtime::post(Command command) {
  {
    std::lock_guard lock(commands_mutex_);
    commands_.push_back(std::move(command));
  }
  loop_->wake();
}

void Runtime::join(std::vector<wire::Address> seeds, uint64_t token) {
  Command command;
  command.kind = Command::Kind::kJoin;
  command.token = token;
  command.seeds = std::move(seeds);
  post(std::move(command));
}

void Runtime::leave(uint64_t token) {
  Command command;
  command.kind = Command::Kind::kLeave;
  command.token = token;
  post(std::move(command));
}

void Runtime::update(wire::Resources resources, wire::Tags tags, uint64_t token) {
  Command command;
  command.kind = Command::Kind::kUpdate;
  command.token = token;
  command.resources = resources;
  command.tags = std::move(tags);
  post(std::move(command));
}

void Runtime::force_leave(std::string name, uint64_t token) {
  Command command;
  command.kind = Command::Kind::kForceLeave;
  command.token = token;
  command.name = std::move(name);
  post(std::move(command));
}

void Runtime::stop() {
  std::lock_guard lock(stop_mutex_);
  if (stopped_.load()) return;
  stopping_.store(true);
  if (reactor_) {
    reactor_->detach(loop_.get());
    reactor_.reset();
  }
  if (loop_) loop_->wake();
  if (thread_.joinable()) thread_.join();
  loop_.reset();  // closes the sockets, epoll and eventfd
  stopped_.store(true);
}

std::shared_ptr<const Snapshot> Runtime::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

Stats Runtime::stats() const {
  std::lock_guard lock(snapshot_mutex_);
  return stats_;
}

}  // namespace constellation::runtime
