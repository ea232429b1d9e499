// The native runtime: one cluster member on real sockets, driven by its own I/O thread.
//
// DESIGN.md, "Threads and the JavaScript boundary": the I/O thread is the only code that
// touches the engine. Other threads post commands through a lock-protected queue and an
// eventfd wake-up, read an immutable snapshot of the member table that the thread publishes,
// and receive events and command results in ordered batches through a sink callback that the
// thread calls (the addon turns it into one thread-safe function call per batch).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/counters.h"
#include "core/engine.h"
#include "core/events.h"
#include "wire/messages.h"

namespace constellation::runtime {

struct RuntimeOptions {
  core::Config config;
  wire::MemberRecord local;  // name, id, resources, tags; address/port are filled in at bind
  wire::Address bind;        // port 0 = any free port, the same number for UDP and TCP
  std::optional<wire::Address> advertise;  // what others should use, if not the bind address
  uint64_t seed = 0;
  size_t max_stream_frame_bytes = 32 * 1024 * 1024;
  size_t max_incoming_streams = 64;
  size_t max_outgoing_streams = 64;
};

// One member as a snapshot shows it. Times are wall-clock milliseconds since the epoch.
struct MemberView {
  core::RecordPtr record;
  wire::MemberState state = wire::MemberState::kAlive;
  uint64_t incarnation = 0;
  int64_t state_changed_at = 0;
  bool is_local = false;
  // Names this exact view (record, state, incarnation, time) at this index. A view equal to
  // the one at the same index of the previous snapshot keeps its stamp; any other gets a new,
  // higher one. So a stamp no higher than an older snapshot's `last_stamp` means "unchanged
  // since that snapshot, at the same index": the binding reuses the JavaScript object it made
  // then instead of converting the member again (members() over 10,000 members in < 2 ms).
  uint64_t stamp = 0;
};

// What queries read; replaced whole, never changed in place.
struct Snapshot {
  uint64_t version = 0;
  uint64_t last_stamp = 0;  // the highest stamp handed out when this snapshot was built
  std::vector<MemberView> members;
};

struct Stats {
  core::Counters counters;
  uint32_t health_score = 0;
  uint64_t incarnation = 0;
  uint64_t udp_send_errors = 0;
  uint64_t udp_truncated = 0;
  uint64_t streams_refused = 0;  // incoming connections refused at the bound
  size_t members = 0;
  size_t alive = 0;
  size_t suspect = 0;
  size_t dead = 0;
  size_t left = 0;
};

struct EventOut {
  core::EventKind kind = core::EventKind::kJoin;
  wire::MemberState state = wire::MemberState::kAlive;
  uint64_t incarnation = 0;
  core::RecordPtr member;
  int64_t at = 0;  // wall-clock ms
};

// The result of a command that JavaScript awaits.
struct Completion {
  uint64_t token = 0;
  bool ok = true;
  std::string code;     // error code when !ok (ERR_JOIN_FAILED, ERR_METADATA_TOO_LARGE, ...)
  std::string message;  // human-readable
  std::vector<std::string> details;  // join: one line per seed that failed
  uint64_t value = 0;                // join: seeds that answered

  static Completion success(uint64_t token, uint64_t value = 0) {
    Completion c;
    c.token = token;
    c.value = value;
    return c;
  }
  static Completion failure(uint64_t token, std::string code, std::string message,
                            std::vector<std::string> details = {}) {
    Completion c;
    c.token = token;
    c.ok = false;
    c.code = std::move(code);
    c.message = std::move(message);
    c.details = std::move(details);
    return c;
  }
};

struct Batch {
  std::vector<EventOut> events;
  std::vector<Completion> completions;
};

enum class StartError : uint8_t { kNone, kBind, kConfig, kRecordTooLarge, kSystem };

class Runtime {
 public:
  using Sink = std::function<void(Batch&&)>;

  // Binds the sockets on the calling thread (so a busy port fails synchronously), then starts
  // the I/O thread. On failure returns null and sets `error`/`error_kind`.
  static std::unique_ptr<Runtime> start(RuntimeOptions options, Sink sink, std::string& error,
                                        StartError& error_kind);
  // Use `start`; the key keeps construction inside this class while allowing make_unique.
  class Key {
    friend class Runtime;
    Key() = default;
  };
  explicit Runtime(Key);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Commands; each completes through the sink with its token.
  void join(std::vector<wire::Address> seeds, uint64_t token);
  void leave(uint64_t token);
  void update(wire::Resources resources, wire::Tags tags, uint64_t token);
  void force_leave(std::string name, uint64_t token);

  // Wakes and joins the I/O thread, closes the sockets. Idempotent; safe from any thread but
  // the I/O thread itself.
  void stop();
  bool running() const { return !stopped_.load(); }

  std::shared_ptr<const Snapshot> snapshot() const;
  Stats stats() const;
  wire::Address local_address() const { return local_address_; }

  class Loop;  // the I/O thread's state (runtime.cc)

 private:
  struct Command {
    enum class Kind : uint8_t { kJoin, kLeave, kUpdate, kForceLeave };
    Kind kind = Kind::kJoin;
    uint64_t token = 0;
    std::vector<wire::Address> seeds;
    wire::Resources resources;
    wire::Tags tags;
    std::string name;
  };

  void post(Command command);
  void run();

  friend class Loop;

  std::unique_ptr<Loop> loop_;
  wire::Address local_address_;

  mutable std::mutex commands_mutex_;
  std::deque<Command> commands_;

  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
  Stats stats_;

  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};
  std::mutex stop_mutex_;
  std::thread thread_;
};

}  // namespace constellation::runtime
