#include "runtime/echo.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "runtime/clock.h"

namespace constellation::runtime {

namespace {
constexpr size_t kEchoDatagram = 2048;
}  // namespace

RawEchoServer::RawEchoServer() : socket_(kEchoDatagram) {}

std::unique_ptr<RawEchoServer> RawEchoServer::start(const wire::Address& address,
                                                    std::string& error) {
  auto server = std::make_unique<RawEchoServer>();
  int error_number = 0;
  if (!server->socket_.bind(address, error, error_number)) return nullptr;
  server->wake_fd_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!server->wake_fd_.valid()) {
    error = "eventfd failed";
    return nullptr;
  }
  server->thread_ = std::thread([raw = server.get()] { raw->run(); });
  return server;
}

RawEchoServer::~RawEchoServer() { stop(); }

void RawEchoServer::stop() {
  stopping_.store(true);
  if (wake_fd_.valid()) {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd_.get(), &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
}

void RawEchoServer::run() {
  std::vector<std::vector<uint8_t>> copies;
  std::vector<UdpSocket::Outgoing> replies;
  while (!stopping_.load()) {
    pollfd fds[2] = {{socket_.fd(), POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}};
    if (::poll(fds, 2, 1000) <= 0) continue;
    copies.clear();
    replies.clear();
    // The receive buffers are reused by the next batch: copy before replying.
    socket_.receive_all([&](const wire::Address& from, std::span<const uint8_t> bytes) {
      copies.emplace_back(bytes.begin(), bytes.end());
      replies.push_back({from, {}});
    });
    for (size_t i = 0; i < replies.size(); ++i) replies[i].bytes = copies[i];
    socket_.send_all(replies);
    echoed_.fetch_add(replies.size());
  }
}

EchoResult run_echo_client(const wire::Address& from, const wire::Address& target,
                           std::span<const uint8_t> request, size_t window, int duration_ms,
                           std::string& error) {
  EchoResult result;
  UdpSocket socket(kEchoDatagram);
  int error_number = 0;
  if (!socket.bind(from, error, error_number)) return result;
  std::vector<UdpSocket::Outgoing> burst;
  auto send = [&](size_t count) {
    burst.assign(count, UdpSocket::Outgoing{target, request});
    socket.send_all(burst);
    result.sent += count;
  };
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + std::chrono::milliseconds(duration_ms);
  send(window);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd fd{socket.fd(), POLLIN, 0};
    if (::poll(&fd, 1, 20) <= 0) {
      send(window);  // replies were lost (a full buffer): refill the window
      continue;
    }
    size_t got = 0;
    socket.receive_all([&](const wire::Address&, std::span<const uint8_t>) { ++got; });
    result.received += got;
    if (got > 0) send(got);
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace constellation::runtime
