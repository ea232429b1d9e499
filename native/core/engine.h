// The SWIM + Lifeguard protocol engine as a sans-IO state machine (DESIGN.md, "The core is
// sans-IO"; model: the foca crate). The host feeds it datagrams, stream frames, ticks and
// commands, each stamped with the current time, and drains what it wants sent plus the
// membership events. No sockets, threads or clocks inside: the same seed and the same inputs
// give the same outputs.
//
// Contract with a host (the runtime, the simulator, the unit-test harness):
// - Call `tick(now)` no later than `next_deadline()` (calling earlier or more often is fine).
//   Re-read `next_deadline()` after every input: news to gossip can move it earlier, even to
//   a time already past (then tick at once). A host that stops ticking for more than two
//   (stretched) probe intervals is treated as having stalled (GC pause, SIGSTOP): the probe in
//   flight is dropped without penalty and overdue suspicions get one more probe interval, so
//   refutations delivered on resume are read before anyone is declared dead.
// - After any input, drain `outputs()`: send every datagram to its address, open every stream
//   request, deliver the events; then `outputs().clear()` (capacity is kept for reuse).
// - For a stream request: send its `frame`, read one reply frame and pass it to
//   `stream_response(id, ...)`, or call `stream_failed(id, ...)`. A request neither answered
//   nor failed is treated as failed after `Config::stream_timeout_ms`.
// - For an incoming stream: pass the first frame to `serve_stream` and send back what it
//   returns (nothing if it returns an empty vector).
// - `now` never goes backwards.
// Events are about other members; the only event about ourselves is a conflict over our name.
// An Engine is not thread-safe; a host drives it from one thread (and a shared RecordPool only
// from that same thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/counters.h"
#include "core/events.h"
#include "core/record_pool.h"
#include "core/time.h"
#include "wire/messages.h"

namespace constellation::core {

struct Datagram {
  wire::Address to;
  std::vector<uint8_t> bytes;  // one whole packet (header + messages), at most Config::mtu
};

enum class StreamKind : uint8_t {
  kJoinSync = 0,  // SYNC_REQUEST(join) to a seed given to join()
  kSync = 1,      // periodic anti-entropy SYNC, or a reconnect attempt to a dead member/seed
  kPing = 2,      // TCP fallback probe: the frame carries a PING, the reply must carry an ACK
};
const char* stream_kind_name(StreamKind kind);

struct StreamRequest {
  uint64_t id = 0;
  wire::Address to;
  StreamKind kind = StreamKind::kSync;
  std::vector<uint8_t> frame;  // a whole frame as wire::encode_frame makes it (length prefix)
};

// Everything the engine wants done, in order. The host drains and clears it.
struct Outputs {
  std::vector<Datagram> datagrams;
  std::vector<StreamRequest> streams;
  std::vector<Event> events;

  bool empty() const { return datagrams.empty() && streams.empty() && events.empty(); }
  // Empties the outputs for the next call. A burst (a join learns the whole cluster: one event
  // per member) is not kept at its high-water mark: 10,000 simulated engines each holding
  // room for 10,000 events would be 4 GB of nothing.
  void clear() {
    clear_keeping_little(datagrams);
    clear_keeping_little(streams);
    clear_keeping_little(events);
  }

 private:
  static constexpr size_t kKeptCapacity = 64;
  template <class T>
  static void clear_keeping_little(std::vector<T>& items) {
    if (items.capacity() > kKeptCapacity) {
      std::vector<T>().swap(items);
    } else {
      items.clear();
    }
  }
};

// One member as this engine sees it.
struct MemberInfo {
  RecordPtr record;  // pooled; record->state is not meaningful, use `state`
  wire::MemberState state = wire::MemberState::kAlive;
  uint64_t incarnation = 0;
  TimeMs state_changed_at = 0;
  bool is_local = false;
};

enum class UpdateError : uint8_t {
  kNone = 0,
  kRecordTooLarge = 1,  // the encoded record would exceed Config::max_record_bytes
  kLeft = 2,            // the engine has left; it no longer announces anything
};

class EngineState;  // the implementation (engine.cc); kept out of this header so it can change

class Engine {
 public:
  // `local.state` and `local.incarnation` are taken as given (a restarted member passes 0 and
  // refutes upwards if the cluster remembers a higher incarnation). `pool` may be shared by
  // every engine on one thread; if null the engine makes its own. Throws std::invalid_argument
  // if `config.validate()` fails or the local record exceeds max_record_bytes.
  Engine(Config config, wire::MemberRecord local, uint64_t seed,
         std::shared_ptr<RecordPool> pool = nullptr);
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // ---- inputs ----
  // One UDP datagram from `from`. Malformed input is counted by reason and dropped.
  void receive(const wire::Address& from, std::span<const uint8_t> datagram, TimeMs now);
  // Runs every timer that is due at `now`.
  void tick(TimeMs now);
  // Starts a join: one SYNC(join) stream request per seed. The seeds are remembered for
  // healing (Config::reconnect_interval_ms). Calling it again adds seeds and syncs again.
  void join(const std::vector<wire::Address>& seeds, TimeMs now);
  // Leaves on purpose: broadcasts LEAVE; the engine stops probing and answers only pings.
  // Keep driving it until `leave_complete()` (bounded by Config::leave_propagate_ms).
  void leave(TimeMs now);
  // New local resources and tags: raises the incarnation and gossips the record.
  UpdateError update_local(wire::Resources resources, wire::Tags tags, TimeMs now);
  // Marks a suspect or dead member `left` and gossips a LEAVE on its behalf (serf's
  // force-leave). Returns false if the member is unknown, alive, already left, or is us.
  bool force_leave(std::string_view name, TimeMs now);
  // The reply frame to a stream request. Returns true if it decoded and was used.
  bool stream_response(uint64_t id, std::span<const uint8_t> frame, TimeMs now);
  void stream_failed(uint64_t id, TimeMs now);
  // Serves an incoming stream frame (SYNC_REQUEST -> SYNC_RESPONSE, PING -> ACK). Returns the
  // reply frame, or an empty vector if there is nothing to answer.
  std::vector<uint8_t> serve_stream(const wire::Address& from, std::span<const uint8_t> frame,
                                    TimeMs now);

  // ---- outputs ----
  Outputs& outputs();
  // The earliest time `tick` has work to do (kNever if none).
  TimeMs next_deadline() const;

  // ---- queries ----
  const Config& config() const;
  // Our own record as we announce it (current incarnation).
  const wire::MemberRecord& local() const;
  std::string_view name() const;
  uint64_t incarnation() const;
  bool has_left() const;
  bool leave_complete() const;
  // Lifeguard local health score, 0 (healthy) .. awareness_max_multiplier - 1.
  uint32_t health_score() const;
  const Counters& counters() const;

  // Members in the table, ourselves and tombstones included. O(1).
  size_t member_count() const;
  // Members in `state`, ourselves included when alive. O(1), kept incrementally.
  size_t count(wire::MemberState state) const;
  std::optional<MemberInfo> member(std::string_view name) const;
  // Every member in the table (ourselves included), in table order.
  void for_each_member(const std::function<void(const MemberInfo&)>& visit) const;
  std::vector<MemberInfo> members() const;

  // When the current suspicion of `name` expires (kNever if not suspected), and how many
  // independent confirmations it has (Lifeguard IV.B). For tests and tools.
  std::optional<TimeMs> suspicion_deadline(std::string_view name) const;
  uint32_t suspicion_confirmations(std::string_view name) const;
  // Updates waiting in the broadcast queue.
  size_t pending_broadcasts() const;

  // Pre-sizes the member table for `members` entries (a host that knows the cluster size
  // avoids growth slack).
  void reserve(size_t members);
  // The record pool this engine interns into (shared with other engines if the host said so).
  RecordPool& record_pool() const;
  // Approximate heap bytes of this engine's own state (table, index, queues), excluding the
  // shared record pool. The simulator divides it by N for bytesPerMember.
  size_t memory_bytes() const;

 private:
  std::unique_ptr<EngineState> state_;
};

}  // namespace constellation::core
