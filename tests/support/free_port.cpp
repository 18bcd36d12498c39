#include "tests/support/free_port.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <netinet/in.h>
#include <random>
#include <string>
#include <sys/file.h>
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

/// Claims `port` for this process among the test processes of the machine: a
/// lock on a file named after it, held until the process ends (the fd is never
/// closed). Two tests running at once, each binding and closing its pick,
/// could otherwise hand the same port to two servers. False when another
/// process holds it.
bool claim(uint16_t port) {
  static const auto dir = [] {
    auto d = std::filesystem::temp_directory_path() / "shoal-test-ports";
    std::error_code ec;
    std::filesystem::create_directories(d, ec);
    std::filesystem::permissions(d, std::filesystem::perms::all,
                                 std::filesystem::perm_options::add, ec);
    return d;
  }();
  auto path = (dir / (std::to_string(port) + ".lock")).string();
  int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0666);
  if (fd < 0)
    return true; // no shared folder: the bind check alone decides
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return false;
  }
  return true; // held (fd left open) until this process exits
}

} // namespace

uint16_t free_port() {
  // A random port below the ephemeral range: a port from bind(0) lies inside it,
  // where an outgoing connection may take it before the server binds it (seen with
  // a busy machine); below it only another test's random pick can collide, and
  // claim() keeps two test processes from picking the same one.
  static std::mutex lock;
  static std::mt19937 rng{static_cast<unsigned>(
      ::getpid() ^ std::chrono::steady_clock::now().time_since_epoch().count())};
  static const int low = ephemeral_low();
  std::lock_guard<std::mutex> guard{lock};
  std::uniform_int_distribution<int> pick{10000, low - 1};
  for (int i = 0; i < 200; ++i) {
    auto port = static_cast<uint16_t>(pick(rng));
    if (bindable(port) && claim(port))
      return port;
  }
  throw std::system_error(EADDRINUSE, std::generic_category(),
                          "free_port: no free port below the ephemeral range");
}

} // namespace shoal::test
