#include "runtime/reactor.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <stdexcept>
#include <string>

#include "runtime/clock.h"

namespace constellation::runtime {

namespace {

std::mutex shared_mutex;
std::weak_ptr<Reactor> shared_reactor;

// epoll_event.data of the reactor's own wake-up fd; entries use their address.
constexpr uint64_t kWakeToken = 0;

}  // namespace

std::shared_ptr<Reactor> Reactor::shared() {
  std::lock_guard lock(shared_mutex);
  std::shared_ptr<Reactor> reactor = shared_reactor.lock();
  if (!reactor) {
    reactor = std::make_shared<Reactor>();
    shared_reactor = reactor;
  }
  return reactor;
}

Reactor::Reactor() {
  epoll_fd_.reset(::epoll_create1(EPOLL_CLOEXEC));
  wake_fd_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!epoll_fd_.valid() || !wake_fd_.valid()) {
    throw std::runtime_error("cannot create the I/O thread's epoll/eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeToken;
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev) != 0) {
    throw std::runtime_error("cannot watch the I/O thread's eventfd");
  }
  thread_ = std::thread([this] { run(); });
}

Reactor::~Reactor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_.get(), &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
}

void Reactor::attach(Client* client) {
  {
    std::lock_guard lock(mutex_);
    to_attach_.push_back(client);
    ++changes_requested_;
  }
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_.get(), &one, sizeof(one));
}

void Reactor::detach(Client* client) {
  std::unique_lock lock(mutex_);
  to_detach_.push_back(client);
  const uint64_t ticket = ++changes_requested_;
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_.get(), &one, sizeof(one));
  detached_.wait(lock, [&] { return changes_applied_ >= ticket || stopping_; });
}

void Reactor::apply_changes() {
  std::vector<Client*> attach;
  std::vector<Client*> detach;
  uint64_t requested = 0;
  {
    std::lock_guard lock(mutex_);
    attach.swap(to_attach_);
    detach.swap(to_detach_);
    requested = changes_requested_;
  }
  const core::TimeMs now = monotonic_ms();
  for (Client* client : attach) {
    auto entry = std::make_unique<Entry>();
    entry->client = client;
    entry->next = now;  // run it at once: it may have commands queued already
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = entry.get();
    // A failure here leaves the client driven by its deadlines alone (at least every second).
    ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, client->poll_fd(), &ev);
    entries_.push_back(std::move(entry));
  }
  for (Client* client : detach) {
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [client](const auto& e) { return e->client == client; });
    if (it == entries_.end()) continue;
    ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, client->poll_fd(), nullptr);
    entries_.erase(it);
  }
  {
    std::lock_guard lock(mutex_);
    changes_applied_ = requested;
  }
  detached_.notify_all();
}

void Reactor::run() {
  std::array<epoll_event, 64> events{};
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    core::TimeMs now = monotonic_ms();
    core::TimeMs until = now + 1000;
    for (const auto& entry : entries_) until = std::min(until, entry->next);
    const int n = ::epoll_wait(epoll_fd_.get(), events.data(), static_cast<int>(events.size()),
                               static_cast<int>(std::max<core::TimeMs>(0, until - now)));
    now = monotonic_ms();
    bool changes = false;
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = events[static_cast<size_t>(i)];
      if (ev.data.u64 == kWakeToken) {
        uint64_t value = 0;
        [[maybe_unused]] const ssize_t r = ::read(wake_fd_.get(), &value, sizeof(value));
        changes = true;
        continue;
      }
      // Entries are only removed in apply_changes, below, so the pointer is live.
      auto* entry = static_cast<Entry*>(ev.data.ptr);
      entry->next = entry->client->run_once(now);
    }
    for (const auto& entry : entries_) {
      if (entry->next <= now) entry->next = entry->client->run_once(now);
    }
    if (changes) apply_changes();
  }
}

}  // namespace constellation::runtime
