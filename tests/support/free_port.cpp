#include "tests/support/free_port.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <mutex>
#include <netinet/in.h>
#include <random>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>

namespace shoal::test {

namespace {

/// The first port of the kernel's ephemeral range (local ends of outgoing
/// connections); 32768 when it cannot be read.
int ephemeral_low() {
  std::ifstream in{"/proc/sys/net/ipv4/ip_local_port_range"};
  int low = 0;
  if (!(in >> low) || low <= 12000)
    return 32768;
  return low;
}

bool bindable(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    throw std::system_error(errno, std::generic_category(), "free_port: socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

} // namespace

uint16_t free_port() {
  // A random port below the ephemeral range: a port from bind(0) lies inside it,
  // where an outgoing connection may take it before the server binds it (seen with
  // a busy machine); below it only another test's random pick can collide.
  static std::mutex lock;
  static std::mt19937 rng{static_cast<unsigned>(
      ::getpid() ^ std::chrono::steady_clock::now().time_since_epoch().count())};
  static const int low = ephemeral_low();
  std::lock_guard<std::mutex> guard{lock};
  std::uniform_int_distribution<int> pick{10000, low - 1};
  for (int i = 0; i < 200; ++i) {
    auto port = static_cast<uint16_t>(pick(rng));
    if (bindable(port))
      return port;
  }
  throw std::system_error(EADDRINUSE, std::generic_category(),
                          "free_port: no free port below the ephemeral range");
}

} // namespace shoal::test
