// Child processes for tests: start a program (a server, a `shoal node`), watch
// its output, signal it, and make sure it never outlives the test.
//
//   shoal::test::process_options opts;
//   opts.program = shoal_binary;
//   opts.args = {"node", "--config", cfg};
//   opts.name = "node-a";
//   shoal::test::child_process node(opts);
//   ASSERT_TRUE(node.wait_for_output("joined cluster", 10s)) << node.output_tail();
//   node.kill();                               // SIGKILL
//   auto status = node.wait_for_exit(5s);      // reaped, with how it ended
//
// stdout and stderr go to files (`<name>.stdout`, `<name>.stderr`) in
// `output_dir`, appended to, so a restarted process keeps one log history; each
// child_process reads only what was written after it started. Standard input is
// /dev/null. The child gets its own process group, a clean signal mask and
// disposition, and no file descriptor of the test besides 0-2.
//
// Cleanup: the destructor kills (SIGKILL) and reaps a child that is still
// running. With `die_with_parent` (the default) the kernel also kills the child
// when the test process dies for any reason (crash, ctest timeout), through
// prctl(PR_SET_PDEATHSIG). Linux delivers that signal when the *thread* that
// started the child exits, so start long-lived children from a thread that lives
// as long as they should (the test's main thread is fine).

#pragma once

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace shoal::test {

/// How a child process ended.
struct exit_status {
  /// True if it called exit(); false if a signal ended it.
  bool exited = false;
  /// The exit code when `exited`.
  int code = 0;
  /// The signal that ended it when !exited.
  int signal = 0;

  /// Exited with code 0.
  bool success() const { return exited && code == 0; }

  /// "exit code 3" or "killed by signal 9 (Killed)".
  std::string to_string() const;
};

/// Which captured stream to read or search.
enum class output_stream { out, err, both };

/// A position in a child's captured output, to search only what comes after it.
struct output_mark {
  uint64_t out = 0;
  uint64_t err = 0;
};

/// What to start and how.
struct process_options {
  /// The program: a path, or a name looked up in PATH.
  std::string program;
  /// Arguments after argv[0].
  std::vector<std::string> args;
  /// Variables set in the child's environment (overriding inherited ones).
  std::vector<std::pair<std::string, std::string>> env;
  /// Start from this process's environment (true) or from an empty one.
  bool inherit_env = true;
  /// Working directory of the child; empty keeps the current one.
  std::filesystem::path working_dir;
  /// Where `<name>.stdout` and `<name>.stderr` go; empty: a temp_dir owned by
  /// the child_process.
  std::filesystem::path output_dir;
  /// Names the output files and appears in messages; empty: the program's name.
  std::string name;
  /// Kill the child (SIGKILL) when the thread that started it dies.
  bool die_with_parent = true;
};

/// A running child process. Move-only. Not thread-safe: use one object from
/// one thread at a time (the process itself runs independently).
class child_process {
public:
  /// Starts the program. Blocks until exec succeeded or failed; throws
  /// std::runtime_error naming the program if it cannot be started (not found,
  /// not executable, output files not writable).
  explicit child_process(process_options options);

  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Kills (SIGKILL) and reaps the child if it is still running.
  ~child_process();

  // -- properties ------------------------------------------------------------

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  const std::filesystem::path& stdout_path() const { return stdout_path_; }
  const std::filesystem::path& stderr_path() const { return stderr_path_; }

  // -- output ----------------------------------------------------------------

  /// What the child wrote since it started (both: stdout then stderr).
  std::string output(output_stream which = output_stream::both) const;

  /// The last `max_bytes` of stdout and of stderr, labelled, for failure
  /// messages: `ASSERT_TRUE(...) << child.output_tail();`.
  std::string output_tail(size_t max_bytes = 4000) const;

  /// The current end of both captured streams.
  output_mark mark() const;

  /// Waits until `needle` appears in the output written after `from` (by
  /// default: since start). Polls; returns false at the deadline, or as soon as
  /// the child has exited without writing it.
  bool wait_for_output(std::string_view needle, std::chrono::milliseconds timeout,
                       output_stream which = output_stream::both,
                       std::optional<output_mark> from = std::nullopt);

  /// Like wait_for_output, for a regular expression; returns the match and its
  /// sub-matches ([0] is the whole match), or nullopt.
  std::optional<std::vector<std::string>>
  wait_for_match(const std::regex& pattern, std::chrono::milliseconds timeout,
                 output_stream which = output_stream::both,
                 std::optional<output_mark> from = std::nullopt);

  // -- signals and exit ------------------------------------------------------

  /// Sends `sig` to the child. Returns false if it has already been reaped.
  bool signal(int sig);
  bool terminate() { return signal(SIGTERM); }
  bool kill() { return signal(SIGKILL); }
  /// Freezes the child (SIGSTOP); it keeps its sockets but answers nothing.
  /// Returns once every thread of the child is stopped (false if that does
  /// not happen within 5 s, or the child is gone).
  bool stop();
  /// Resumes a frozen child (SIGCONT).
  bool resume() { return signal(SIGCONT); }

  /// True until the child has exited (reaps it when it has).
  bool running();

  /// How the child ended, if it has been reaped.
  const std::optional<exit_status>& status() const { return status_; }

  /// Waits up to `timeout` for the child to exit and reaps it. Returns its
  /// exit status, or nullopt if it is still running at the deadline.
  std::optional<exit_status> wait_for_exit(std::chrono::milliseconds timeout);

  /// SIGCONT + SIGTERM, waits up to `grace`, then SIGKILL. Returns how it ended.
  exit_status shutdown(std::chrono::milliseconds grace = std::chrono::seconds{10});

private:
  bool try_reap(bool block);
  void release() noexcept;

  // Owns the output files when options.output_dir was empty.
  std::optional<temp_dir> own_dir_;
  std::string name_;
  std::filesystem::path stdout_path_;
  std::filesystem::path stderr_path_;
  // Sizes of the output files when the child started: its output begins there.
  output_mark start_;
  // -1 after a move.
  pid_t pid_ = -1;
  // Set once the child has been reaped; the pid must not be signalled after.
  std::optional<exit_status> status_;
};

/// A program of this build: `relative` under the build folder ctest names in
/// SHOAL_BINARY_DIR (or the bare name, found on PATH, outside ctest).
inline std::string build_binary(const std::string& relative) {
  auto dir = std::getenv("SHOAL_BINARY_DIR");
  return dir ? std::string{dir} + "/" + relative
             : relative.substr(relative.rfind('/') + 1);
}

/// The source tree (SHOAL_SOURCE_DIR, set by ctest; "." otherwise).
inline std::string source_dir() {
  auto dir = std::getenv("SHOAL_SOURCE_DIR");
  return dir ? dir : ".";
}

/// The `shoal` command line of this build.
inline std::string shoal_binary() {
  return build_binary("runtime/shoal");
}

} // namespace shoal::test
