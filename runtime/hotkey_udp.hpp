// hotkey_udp: the sidecar's UDP port for counting key accesses, fire and forget, in
// the line format of actors/hotkey/core/record_batch.hpp ("sku:42 3\n").
//
//   auto udp = hotkey_udp_listener::open({"127.0.0.1", 9125}, secret,
//                                        [&](auto& key, auto n) { rec.record(key, n); });
//   if (!udp) log(udp.error());
//
// One thread receives and parses; bad lines and refused datagrams are counted and
// logged at most once per 10 s. stop() (or the destructor) returns within 200 ms.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "runtime/base/expected.hpp"
#include "runtime/config.hpp"

namespace shoal {

/// A bound UDP socket and the thread that reads it.
class hotkey_udp_listener {
public:
  /// Called on the listener's thread for each valid line.
  using sink = std::function<void(std::string_view key, uint64_t n)>;

  /// Binds `at` (port 0: any free port) and starts the thread; or says why not.
  static expected<std::unique_ptr<hotkey_udp_listener>, std::string>
  open(const endpoint& at, std::string secret, sink on_count);

  ~hotkey_udp_listener();

  /// Stops the thread and closes the socket. Idempotent.
  void stop();

  /// The bound port.
  uint16_t port() const { return port_; }

  uint64_t datagrams() const { return datagrams_.load(); }
  uint64_t lines() const { return lines_.load(); }
  uint64_t bad_lines() const { return bad_lines_.load(); }
  uint64_t refused() const { return refused_.load(); }

private:
  hotkey_udp_listener(int fd, uint16_t port, std::string secret, sink on_count);
  void run();
  void report(const std::string& problem);

  int fd_;
  uint16_t port_;
  const std::string secret_;
  sink on_count_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> datagrams_{0}, lines_{0}, bad_lines_{0}, refused_{0};
  /// Problems since the last log line, and when that was (steady ms); thread only.
  uint64_t unreported_ = 0;
  int64_t reported_ms_ = -1;
  std::thread thread_;
};

} // namespace shoal
