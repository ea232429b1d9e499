// One I/O thread serving many runtimes: an outer epoll watches each runtime's own epoll
// descriptor (readable whenever one of its sockets or its wake-up fd is) and the earliest of
// their deadlines, and runs whichever is due. See runtime.h for why this is the default.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/time.h"
#include "runtime/fd.h"

namespace constellation::runtime {

class Reactor {
 public:
  // What the reactor drives. Called only on the reactor thread once attached.
  class Client {
   public:
    virtual ~Client() = default;
    // Readable when the client has input; never changes while attached.
    virtual int poll_fd() const = 0;
    // Handles whatever is ready or due (without blocking) and returns when it next wants to
    // run, in the monotonic milliseconds of clock.h.
    virtual core::TimeMs run_once(core::TimeMs now) = 0;
  };

  // The process-wide reactor, started on first use; it stops and joins its thread when the
  // last reference goes (each attached runtime holds one).
  static std::shared_ptr<Reactor> shared();

  Reactor();
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // Thread-safe. The client runs from now on until detached.
  void attach(Client* client);
  // Thread-safe; returns once the reactor thread no longer touches `client` (it may be
  // destroyed then). Never call it from the reactor thread.
  void detach(Client* client);

 private:
  struct Entry {
    Client* client = nullptr;
    core::TimeMs next = 0;
  };

  void run();
  void apply_changes();

  UniqueFd epoll_fd_;
  UniqueFd wake_fd_;
  std::thread thread_;

  // Owned by the reactor thread.
  std::vector<std::unique_ptr<Entry>> entries_;

  // Shared with attach/detach callers.
  std::mutex mutex_;
  std::condition_variable detached_;
  std::vector<Client*> to_attach_;
  std::vector<Client*> to_detach_;
  uint64_t changes_applied_ = 0;
  uint64_t changes_requested_ = 0;
  bool stopping_ = false;
};

}  // namespace constellation::runtime
