#include "tests/support/child_process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "tests/support/temp_dir.hpp"

using namespace std::chrono_literals;
using shoal::test::child_process;
using shoal::test::output_stream;
using shoal::test::process_options;

namespace {

process_options shell(std::string script, std::string name = "sh") {
  process_options opts;
  opts.program = "sh";
  opts.args = {"-c", std::move(script)};
  opts.name = std::move(name);
  return opts;
}

// The state letter of /proc/<pid>/stat: R, S, T (stopped), Z, ...; '?' if gone.
char process_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line))
    return '?';
  auto paren = line.rfind(')');
  return paren + 2 < line.size() ? line[paren + 2] : '?';
}

template <class Predicate>
bool eventually(Predicate pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

} // namespace

TEST(child_process, captures_stdout_stderr_and_exit_code) {
  child_process child(shell("echo to-out; echo to-err >&2; exit 3"));
  auto status = child.wait_for_exit(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 3);
  EXPECT_FALSE(status->success());
  EXPECT_EQ(child.output(output_stream::out), "to-out\n");
  EXPECT_EQ(child.output(output_stream::err), "to-err\n");
  EXPECT_NE(child.output_tail().find("exit code 3"), std::string::npos);
}

TEST(child_process, passes_arguments_verbatim_and_environment) {
  auto opts = shell(R"(printf '%s|' "$0" "$1" "$SHOAL_X" "$HOME")");
  opts.args.push_back("two words");
  opts.args.push_back("$not-expanded");
  opts.env = {{"SHOAL_X", "a b=c"}, {"HOME", "/nowhere"}};
  child_process child(opts);
  ASSERT_TRUE(child.wait_for_exit(10s));
  EXPECT_EQ(child.output(output_stream::out), "two words|$not-expanded|a b=c|/nowhere|");
}

TEST(child_process, empty_environment_when_not_inherited) {
  ::setenv("SHOAL_CHILD_PROCESS_TEST", "leak", 1);
  auto opts = shell("echo \"[${SHOAL_CHILD_PROCESS_TEST}]\"");
  opts.program = "/bin/sh";
  opts.inherit_env = false;
  child_process child(opts);
  ASSERT_TRUE(child.wait_for_exit(10s));
  EXPECT_EQ(child.output(), "[]\n");
}

TEST(child_process, unknown_program_throws_with_its_name) {
  process_options opts;
  opts.program = "shoal-no-such-program";
  try {
    child_process child(opts);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find("shoal-no-such-program"), std::string::npos);
  }
  opts.program = "/nonexistent/dir/prog";
  EXPECT_THROW(child_process{opts}, std::runtime_error);
}

TEST(child_process, wait_for_output_sees_late_lines_and_honours_the_deadline) {
  child_process child(
      shell("sleep 0.2; echo 'server ready on port 4242'; exec sleep 30"));
  EXPECT_TRUE(child.wait_for_output("ready", 10s));
  auto groups = child.wait_for_match(std::regex{R"(port (\d+))"}, 1s);
  ASSERT_TRUE(groups.has_value());
  EXPECT_EQ((*groups)[1], "4242");

  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(child.wait_for_output("never printed", 300ms));
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 2s);
  EXPECT_FALSE(child.wait_for_output("ready", 100ms, output_stream::err));
}

TEST(child_process, wait_for_output_returns_early_when_the_child_exits) {
  child_process child(shell("echo bye; exit 0"));
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(child.wait_for_output("never printed", 30s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_TRUE(child.wait_for_output("bye", 1s));
}

TEST(child_process, mark_limits_the_search_to_new_output) {
  child_process child(shell("echo first; read line; echo second; exec sleep 30"));
  ASSERT_TRUE(child.wait_for_output("first", 10s));
  auto mark = child.mark();
  EXPECT_FALSE(child.wait_for_output("first", 50ms, output_stream::both, mark));
}

TEST(child_process, restarted_process_reads_only_its_own_output) {
  shoal::test::temp_dir dir("child");
  auto opts = shell("echo run-$RUN");
  opts.output_dir = dir.path();
  opts.env = {{"RUN", "1"}};
  {
    child_process first(opts);
    ASSERT_TRUE(first.wait_for_exit(10s));
  }
  opts.env = {{"RUN", "2"}};
  child_process second(opts);
  ASSERT_TRUE(second.wait_for_exit(10s));
  EXPECT_EQ(second.output(), "run-2\n");
  std::ifstream log(dir / "sh.stdout");
  std::string all{std::istreambuf_iterator<char>{log}, {}};
  EXPECT_EQ(all, "run-1\nrun-2\n");
}

TEST(child_process, signals_terminate_kill_stop_and_resume) {
  child_process child(shell("exec sleep 30"));
  pid_t pid = child.pid();
  ASSERT_TRUE(child.stop());
  EXPECT_EQ(process_state(pid), 'T') << "stop() returns once the child is stopped";
  ASSERT_TRUE(child.resume());
  EXPECT_TRUE(eventually([&] { return process_state(pid) != 'T'; }, 5s));
  EXPECT_TRUE(child.running());
  ASSERT_TRUE(child.terminate());
  auto status = child.wait_for_exit(5s);
  ASSERT_TRUE(status.has_value());
  EXPECT_FALSE(status->exited);
  EXPECT_EQ(status->signal, SIGTERM);
  EXPECT_FALSE(child.running());
  EXPECT_FALSE(child.kill()) << "a reaped child must not be signalled";

  child_process other(shell("exec sleep 30"));
  other.kill();
  auto killed = other.wait_for_exit(5s);
  ASSERT_TRUE(killed.has_value());
  EXPECT_EQ(killed->signal, SIGKILL);
}

TEST(child_process, wait_for_exit_times_out_on_a_running_child) {
  child_process child(shell("exec sleep 30"));
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(child.wait_for_exit(200ms).has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
  EXPECT_TRUE(child.running());
}

TEST(child_process, shutdown_escalates_to_sigkill_and_wakes_a_stopped_child) {
  child_process stubborn(shell("trap '' TERM; echo armed; while :; do sleep 0.05; done"));
  ASSERT_TRUE(stubborn.wait_for_output("armed", 10s));
  auto status = stubborn.shutdown(300ms);
  EXPECT_EQ(status.signal, SIGKILL);

  child_process frozen(shell("exec sleep 30"));
  ASSERT_TRUE(frozen.stop());
  EXPECT_EQ(process_state(frozen.pid()), 'T');
  EXPECT_EQ(frozen.shutdown(5s).signal, SIGTERM);
}

TEST(child_process, destructor_kills_and_reaps) {
  pid_t pid;
  {
    child_process child(shell("exec sleep 30"));
    pid = child.pid();
    ASSERT_EQ(::kill(pid, 0), 0);
  }
  EXPECT_EQ(::kill(pid, 0), -1) << "child still exists after destruction";
  EXPECT_EQ(errno, ESRCH);
}

TEST(child_process, does_not_inherit_descriptors_of_the_test) {
  int leaked = ::open("/dev/null", O_RDONLY); // deliberately without O_CLOEXEC
  ASSERT_GE(leaked, 3);
  child_process child(shell("ls /proc/$$/fd"));
  ASSERT_TRUE(child.wait_for_exit(10s));
  ::close(leaked);
  auto out = child.output(output_stream::out);
  EXPECT_EQ(out.find("\n" + std::to_string(leaked) + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("2\n"), std::string::npos) << out;
}

TEST(child_process, child_dies_with_the_process_that_started_it) {
  // The test process adopts orphans, so it can reap the grandchild below.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  shoal::test::temp_dir logs("orphan"); // the killed middle process cannot clean up
  auto opts = shell("exec sleep 60");
  opts.output_dir = logs.path();
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t middle = ::fork();
  ASSERT_GE(middle, 0);
  if (middle == 0) {
    ::close(pipe_fds[0]);
    try {
      child_process grandchild(opts);
      pid_t pid = grandchild.pid();
      [[maybe_unused]] auto n = ::write(pipe_fds[1], &pid, sizeof(pid));
      ::pause();
    } catch (...) {
    }
    ::_exit(1);
  }
  ::close(pipe_fds[1]);
  pid_t grandchild = 0;
  ASSERT_EQ(::read(pipe_fds[0], &grandchild, sizeof(grandchild)),
            static_cast<ssize_t>(sizeof(grandchild)));
  ::close(pipe_fds[0]);
  ASSERT_EQ(::kill(middle, SIGKILL), 0);
  ASSERT_EQ(::waitpid(middle, nullptr, 0), middle);
  // The grandchild is killed by the kernel and reparented to us: reap it.
  int raw = 0;
  bool reaped =
      eventually([&] { return ::waitpid(grandchild, &raw, WNOHANG) == grandchild; }, 10s);
  ASSERT_TRUE(reaped) << "grandchild " << grandchild << " survived its parent";
  EXPECT_TRUE(WIFSIGNALED(raw));
  EXPECT_EQ(WTERMSIG(raw), SIGKILL);
}

TEST(temp_dir, folders_of_dead_processes_are_swept_and_live_ones_kept) {
  shoal::test::temp_dir mine("sweep-live");
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto* orphan = new shoal::test::temp_dir("sweep-dead"); // never destroyed
    auto path = orphan->path().string();
    [[maybe_unused]] auto n = ::write(pipe_fds[1], path.data(), path.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  char buf[512];
  auto n = ::read(pipe_fds[0], buf, sizeof(buf));
  ::close(pipe_fds[0]);
  ASSERT_GT(n, 0);
  std::filesystem::path orphan{std::string(buf, static_cast<size_t>(n))};
  ASSERT_EQ(::waitpid(pid, nullptr, 0), pid);
  ASSERT_TRUE(std::filesystem::exists(orphan));
  if (shoal::test::keep_tmp())
    GTEST_SKIP() << "SHOAL_KEEP_TMP keeps every folder";
  EXPECT_GE(shoal::test::remove_orphaned_temp_dirs(), 1);
  EXPECT_FALSE(std::filesystem::exists(orphan));
  EXPECT_TRUE(std::filesystem::exists(mine.path()));
}
