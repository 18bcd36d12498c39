// server_process: what every real server a test starts has in common (mariadbd,
// redis-server): a folder of its own, a free loopback port, start with retry when
// another process takes the port first, wait until it answers, and the signals a
// test plays with (stop, kill, freeze, thaw, restart) on the same port and folder.
//
//   class my_server : public server_process {
//   public:
//     my_server() : server_process("my-server", "my", "my-a", seconds{20}) { boot(); }
//   private:
//     std::vector<std::string> arguments() const override;  // for port()
//     bool probe(std::string& last) const override;         // answers yet?
//   };
//
// A subclass calls boot() at the end of its constructor (virtual calls do not
// reach it before). The destructor kills the server (SIGKILL) and the folder goes
// with the object (kept with SHOAL_KEEP_TMP=1). Blocking; not thread-safe.

#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace shoal::test {

class server_process {
public:
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  /// Kills the server (SIGKILL) if it runs; the folder is removed after.
  virtual ~server_process();

  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  /// "127.0.0.1:port".
  std::string endpoint() const;

  /// Starts again on the same port and folder and waits until it answers. Throws
  /// std::runtime_error if it runs already or does not come up.
  void start();
  /// SIGTERM and waits for a clean shutdown (SIGKILL after `grace`).
  exit_status stop(std::chrono::milliseconds grace = std::chrono::seconds{30});
  /// SIGKILL, as a crash would.
  exit_status kill();
  /// stop() then start().
  void restart();
  /// SIGSTOP: the server keeps its port but answers nothing.
  void freeze();
  /// SIGCONT after freeze().
  void thaw();
  /// True while the process exists (also when frozen).
  bool running();
  /// True between freeze() and thaw().
  bool frozen() const { return frozen_; }

  /// The end of the server's output (its log), for failure messages.
  std::string log_tail(size_t max_bytes = 4000) const;

  /// The process, for signals and output checks.
  child_process& process() { return *process_; }

protected:
  /// `program` (called `name` in messages) runs in a new temporary folder
  /// `shoal-<folder>-XXXXXX`; start() waits up to `start_timeout` for probe().
  server_process(std::string program, std::string name, std::string_view folder,
                 std::chrono::seconds start_timeout);

  /// Starts the server the first time, on a free port. Throws std::runtime_error
  /// with the server's log if it does not come up.
  void boot();

  /// The server's folder.
  const temp_dir& folder() const { return dir_; }

  /// The program's arguments to serve on port().
  virtual std::vector<std::string> arguments() const = 0;

  /// One readiness check: true once the server answers; otherwise `last` says
  /// what went wrong.
  virtual bool probe(std::string& last) const = 0;

private:
  void launch();
  bool wait_ready(std::string& failure);

  std::string program_;
  std::string name_;
  std::chrono::seconds start_timeout_;
  temp_dir dir_;
  std::string host_ = "127.0.0.1";
  uint16_t port_ = 0;
  // Empty before the first start.
  std::optional<child_process> process_;
  bool frozen_ = false;
};

} // namespace shoal::test
