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
// Cleanup as for every server_process: killed and removed by the destructor, and
// killed with the test process. Blocking; not thread-safe.

#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/adapters/redis_connection.hpp"
#include "tests/support/server_process.hpp"

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

/// A running (or stopped, restartable) redis-server. Start, stop, kill, freeze,
/// thaw and the log come from server_process.
class redis_server : public server_process {
public:
  /// Starts the server on a free port. Throws std::runtime_error with its log
  /// if it does not answer PING within start_timeout.
  explicit redis_server(redis_options options = {});

  const std::string& password() const { return options_.password; }

  /// Connection settings (with the password, db 0).
  redis_config connection_config() const;

  /// A connection; throws std::runtime_error with the error on failure.
  redis_connection connect() const;

  /// FLUSHALL and SCRIPT FLUSH.
  void flushall();

  /// Thaws or restarts the server if a test left it frozen or down, then
  /// flushall().
  void reset();

private:
  std::vector<std::string> arguments() const override;
  bool probe(std::string& last) const override;

  redis_options options_;
};

} // namespace shoal::test
