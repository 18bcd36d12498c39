// redis_server: a real `redis-server` for tests, on a free loopback port, with
// its working folder in a temporary folder.
//
//   shoal::test::redis_server redis;                 // no persistence
//   auto conn = redis.connect();                     // throws on failure
//   conn.command({"SET", "k", "v"});
//   redis.kill(); redis.start();                     // same port; data gone
//   shoal::test::redis_options durable;
//   durable.persistence = true;                      // AOF, fsync always
//
// Cleanup as for mariadb_server: killed and removed by the destructor, and
// killed with the test process. Blocking; not thread-safe.

#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/adapters/redis_connection.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace shoal::test {

/// How to run one server.
struct redis_options {
  /// Names the folder and log files.
  std::string name = "redis";
  /// --requirepass; empty: no password.
  std::string password;
  /// Keep data across restarts: append-only file with fsync on every write.
  bool persistence = false;
  /// More redis-server options after the defaults, e.g. {"--maxmemory", "10mb"}.
  std::vector<std::string> extra_args;
  /// How long start() waits for PONG.
  std::chrono::seconds start_timeout{20};
};

/// A running (or stopped, restartable) redis-server.
class redis_server {
public:
  /// Starts the server on a free port. Throws std::runtime_error with its log
  /// if it does not answer PING within start_timeout.
  explicit redis_server(redis_options options = {});

  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  /// Kills the server (SIGKILL) if it runs, and removes its folder.
  ~redis_server();

  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  /// "127.0.0.1:port".
  std::string endpoint() const;
  const std::string& password() const { return options_.password; }

  /// Connection settings (with the password, db 0).
  redis_config connection_config() const;

  /// A connection; throws std::runtime_error with the error on failure.
  redis_connection connect() const;

  /// Starts again on the same port and folder; throws if running or on failure.
  void start();
  /// SIGTERM and waits (SIGKILL after `grace`).
  exit_status stop(std::chrono::milliseconds grace = std::chrono::seconds{10});
  /// SIGKILL.
  exit_status kill();
  /// stop() then start().
  void restart();
  /// SIGSTOP / SIGCONT.
  void freeze();
  void thaw();
  bool running();
  bool frozen() const { return frozen_; }

  /// FLUSHALL and SCRIPT FLUSH.
  void flushall();

  /// Thaws or restarts the server if a test left it frozen or down, then
  /// flushall().
  void reset();

  /// The end of the server's log, for failure messages.
  std::string log_tail(size_t max_bytes = 4000) const;

  child_process& process() { return *process_; }

private:
  void launch();
  bool wait_ready(std::string& failure);

  redis_options options_;
  temp_dir dir_;
  std::string host_ = "127.0.0.1";
  uint16_t port_ = 0;
  std::optional<child_process> process_;
  bool frozen_ = false;
};

} // namespace shoal::test
