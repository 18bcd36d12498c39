#include "runtime/hotkey_udp.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/hotkey/core/record_batch.hpp"
#include "runtime/logging.hpp"

namespace shoal {

namespace {

int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

uint16_t bound_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return 0;
  if (addr.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

} // namespace

expected<std::unique_ptr<hotkey_udp_listener>, std::string>
hotkey_udp_listener::open(const endpoint& at, std::string secret, sink on_count) {
  auto where = at.host + ":" + std::to_string(at.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  auto port_text = std::to_string(at.port);
  if (int rc = getaddrinfo(at.host.c_str(), port_text.c_str(), &hints, &found); rc != 0)
    return fail("cannot listen for UDP on " + where + ": " + gai_strerror(rc));
  std::string why = "no address";
  int fd = -1;
  for (auto* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0) {
      why = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0)
    return fail("cannot listen for UDP on " + where + ": " + why);
  int buffer = 4 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  return std::unique_ptr<hotkey_udp_listener>{new hotkey_udp_listener(
      fd, bound_port(fd), std::move(secret), std::move(on_count))};
}

hotkey_udp_listener::hotkey_udp_listener(int fd, uint16_t port, std::string secret,
                                         sink on_count)
    : fd_(fd), port_(port), secret_(std::move(secret)), on_count_(std::move(on_count)) {
  thread_ = std::thread{[this] { run(); }};
}

hotkey_udp_listener::~hotkey_udp_listener() {
  stop();
}

void hotkey_udp_listener::stop() {
  if (stop_.exchange(true))
    return;
  if (thread_.joinable())
    thread_.join();
  ::close(fd_);
}

void hotkey_udp_listener::run() {
  std::string buffer(65536, '\0');
  while (!stop_.load()) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0)
      continue;
    auto n = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n <= 0)
      continue;
    datagrams_.fetch_add(1, std::memory_order_relaxed);
    auto got = hotkey::parse_record_datagram(
        std::string_view{buffer.data(), static_cast<size_t>(n)}, secret_);
    if (got.refused) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      report("a datagram without the right #secret first line was dropped");
      continue;
    }
    for (auto& [key, count] : got.counts)
      on_count_(key, count);
    lines_.fetch_add(got.counts.size(), std::memory_order_relaxed);
    if (got.bad_lines > 0) {
      bad_lines_.fetch_add(got.bad_lines, std::memory_order_relaxed);
      report(std::to_string(got.bad_lines) + " bad line(s), first: " + got.first_error);
    }
  }
}

void hotkey_udp_listener::report(const std::string& problem) {
  ++unreported_;
  auto now = steady_ms();
  if (reported_ms_ >= 0 && now - reported_ms_ < 10000)
    return;
  log().warn("hotkeys: udp: {} ({} problem datagram(s) since the last report; totals: "
             "{} bad lines, {} refused)",
             problem, unreported_, bad_lines_.load(), refused_.load());
  unreported_ = 0;
  reported_ms_ = now;
}

} // namespace shoal
