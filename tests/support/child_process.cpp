#include "tests/support/child_process.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace shoal::test {

namespace {

using clock_type = std::chrono::steady_clock;

constexpr auto poll_interval = std::chrono::milliseconds{5};

std::string resolve_program(const std::string& program) {
  if (program.empty())
    throw std::runtime_error("child_process: empty program name");
  if (program.find('/') != std::string::npos)
    return program;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    auto colon = dirs.find(':');
    auto dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view{} : dirs.substr(colon + 1);
    std::string candidate = std::string{dir.empty() ? "." : dir} + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  throw std::runtime_error("child_process: program not found in PATH: " + program);
}

int open_output(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    throw std::runtime_error("child_process: cannot open " + path.string() + ": " +
                             std::strerror(errno));
  return fd;
}

uint64_t size_of_file(const std::filesystem::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

std::string read_from(const std::filesystem::path& path, uint64_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return {};
  in.seekg(static_cast<std::streamoff>(offset));
  std::string data{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  return data;
}

// True if every thread of `pid` is stopped (or exiting), per /proc/<pid>/task.
bool all_threads_stopped(pid_t pid) {
  std::error_code ec;
  auto tasks = std::filesystem::path{"/proc"} / std::to_string(pid) / "task";
  std::filesystem::directory_iterator it{tasks, ec};
  if (ec)
    return false;
  for (auto& task : it) {
    std::ifstream in(task.path() / "stat");
    std::string line;
    if (!std::getline(in, line))
      continue; // the thread ended meanwhile
    auto paren = line.rfind(')');
    char state = paren + 2 < line.size() ? line[paren + 2] : '?';
    if (state != 'T' && state != 't' && state != 'Z' && state != 'X')
      return false;
  }
  return true;
}

exit_status decode(int raw) {
  exit_status st;
  if (WIFEXITED(raw)) {
    st.exited = true;
    st.code = WEXITSTATUS(raw);
  } else if (WIFSIGNALED(raw)) {
    st.signal = WTERMSIG(raw);
  }
  return st;
}

// Runs in the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(const char* program, char* const* argv, char* const* envp,
                             const char* working_dir, int in_fd, int out_fd, int err_fd,
                             int report_fd, bool die_with_parent, pid_t parent) {
  auto fail = [report_fd](int err) {
    [[maybe_unused]] auto ignored = ::write(report_fd, &err, sizeof(err));
    ::_exit(127);
  };
  if (die_with_parent) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
      fail(errno);
    if (::getppid() != parent)
      ::_exit(127);
  }
  ::setpgid(0, 0);
  sigset_t all;
  sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP)
      ::signal(sig, SIG_DFL);
  if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0)
    fail(errno);
  // Everything above 2 except the report pipe, which closes itself on exec.
  if (report_fd > 3)
    ::close_range(3, static_cast<unsigned>(report_fd - 1), 0);
  ::close_range(static_cast<unsigned>(report_fd + 1), ~0U, 0);
  if (working_dir != nullptr && ::chdir(working_dir) != 0)
    fail(errno);
  ::execve(program, argv, envp);
  fail(errno);
  ::_exit(127);
}

} // namespace

std::string exit_status::to_string() const {
  if (exited)
    return "exit code " + std::to_string(code);
  return "killed by signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
}

child_process::child_process(process_options options) {
  auto program = resolve_program(options.program);
  name_ = options.name.empty() ? std::filesystem::path{program}.filename().string()
                               : options.name;
  std::filesystem::path dir = options.output_dir;
  if (dir.empty()) {
    own_dir_.emplace(name_);
    dir = own_dir_->path();
  }
  stdout_path_ = dir / (name_ + ".stdout");
  stderr_path_ = dir / (name_ + ".stderr");

  // Everything the child needs is prepared here: after fork it may not allocate.
  std::vector<std::string> argv_storage;
  argv_storage.push_back(program);
  argv_storage.insert(argv_storage.end(), options.args.begin(), options.args.end());
  std::vector<std::string> env_storage;
  if (options.inherit_env)
    for (char** e = environ; *e != nullptr; ++e)
      env_storage.emplace_back(*e);
  for (auto& [key, value] : options.env) {
    auto prefix = key + "=";
    env_storage.erase(std::remove_if(env_storage.begin(), env_storage.end(),
                                     [&](const std::string& entry) {
                                       return entry.compare(0, prefix.size(), prefix) ==
                                              0;
                                     }),
                      env_storage.end());
    env_storage.push_back(prefix + value);
  }
  std::vector<char*> argv;
  for (auto& arg : argv_storage)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& entry : env_storage)
    envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string working_dir = options.working_dir.string();

  int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in_fd < 0)
    throw std::runtime_error("child_process: cannot open /dev/null");
  int out_fd = -1;
  int err_fd = -1;
  int report[2] = {-1, -1};
  auto close_all = [&] {
    for (int fd : {in_fd, out_fd, err_fd, report[0], report[1]})
      if (fd >= 0)
        ::close(fd);
  };
  try {
    out_fd = open_output(stdout_path_);
    err_fd = open_output(stderr_path_);
  } catch (...) {
    close_all();
    throw;
  }
  if (::pipe2(report, O_CLOEXEC) != 0) {
    close_all();
    throw std::runtime_error("child_process: pipe2 failed");
  }
  start_ = {size_of_file(stdout_path_), size_of_file(stderr_path_)};

  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    close_all();
    throw std::runtime_error("child_process: fork failed for " + name_ + ": " +
                             std::strerror(err));
  }
  if (pid == 0)
    exec_child(program.c_str(), argv.data(), envp.data(),
               working_dir.empty() ? nullptr : working_dir.c_str(), in_fd, out_fd, err_fd,
               report[1], options.die_with_parent, parent);
  pid_ = pid;
  ::close(report[1]);
  report[1] = -1;
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  close_all();
  if (n > 0) {
    try_reap(true);
    pid_ = -1;
    throw std::runtime_error("child_process: cannot start " + program + " (" + name_ +
                             "): " + std::strerror(child_errno));
  }
}

child_process::child_process(child_process&& other) noexcept
    : own_dir_(std::move(other.own_dir_)), name_(std::move(other.name_)),
      stdout_path_(std::move(other.stdout_path_)),
      stderr_path_(std::move(other.stderr_path_)), start_(other.start_),
      pid_(std::exchange(other.pid_, -1)), status_(std::move(other.status_)) {
  other.own_dir_.reset();
}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    release();
    own_dir_ = std::move(other.own_dir_);
    other.own_dir_.reset();
    name_ = std::move(other.name_);
    stdout_path_ = std::move(other.stdout_path_);
    stderr_path_ = std::move(other.stderr_path_);
    start_ = other.start_;
    pid_ = std::exchange(other.pid_, -1);
    status_ = std::move(other.status_);
  }
  return *this;
}

child_process::~child_process() {
  release();
}

void child_process::release() noexcept {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    try_reap(true);
  }
  pid_ = -1;
}

bool child_process::try_reap(bool block) {
  if (status_ || pid_ <= 0)
    return true;
  int raw = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &raw, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = decode(raw);
    return true;
  }
  if (r < 0) {
    // Someone else reaped it (e.g. a SIGCHLD handler set to SIG_IGN).
    status_ = exit_status{};
    return true;
  }
  return false;
}

std::string child_process::output(output_stream which) const {
  std::string result;
  if (which != output_stream::err)
    result += read_from(stdout_path_, start_.out);
  if (which != output_stream::out)
    result += read_from(stderr_path_, start_.err);
  return result;
}

std::string child_process::output_tail(size_t max_bytes) const {
  auto tail = [max_bytes](std::string text) {
    if (text.size() > max_bytes)
      text = "..." + text.substr(text.size() - max_bytes);
    return text;
  };
  std::string result = "--- " + name_ + " stdout (" + stdout_path_.string() + ") ---\n";
  result += tail(output(output_stream::out));
  result += "\n--- " + name_ + " stderr (" + stderr_path_.string() + ") ---\n";
  result += tail(output(output_stream::err));
  if (status_)
    result += "\n--- " + name_ + " ended: " + status_->to_string() + " ---";
  return result + "\n";
}

output_mark child_process::mark() const {
  return {size_of_file(stdout_path_), size_of_file(stderr_path_)};
}

std::optional<std::vector<std::string>>
child_process::wait_for_match(const std::regex& pattern,
                              std::chrono::milliseconds timeout, output_stream which,
                              std::optional<output_mark> from) {
  auto begin = from.value_or(start_);
  auto search = [&]() -> std::optional<std::vector<std::string>> {
    for (auto stream : {output_stream::out, output_stream::err}) {
      if (which != output_stream::both && which != stream)
        continue;
      auto text = stream == output_stream::out ? read_from(stdout_path_, begin.out)
                                               : read_from(stderr_path_, begin.err);
      std::smatch match;
      if (std::regex_search(text, match, pattern)) {
        std::vector<std::string> groups;
        for (auto& group : match)
          groups.push_back(group.str());
        return groups;
      }
    }
    return std::nullopt;
  };
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    bool exited = !running();
    if (auto found = search())
      return found;
    if (exited || clock_type::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(poll_interval);
  }
}

bool child_process::wait_for_output(std::string_view needle,
                                    std::chrono::milliseconds timeout,
                                    output_stream which,
                                    std::optional<output_mark> from) {
  auto begin = from.value_or(start_);
  auto found = [&] {
    if (which != output_stream::err &&
        read_from(stdout_path_, begin.out).find(needle) != std::string::npos)
      return true;
    return which != output_stream::out &&
           read_from(stderr_path_, begin.err).find(needle) != std::string::npos;
  };
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    bool exited = !running();
    if (found())
      return true;
    if (exited || clock_type::now() >= deadline)
      return false;
    std::this_thread::sleep_for(poll_interval);
  }
}

bool child_process::signal(int sig) {
  if (pid_ <= 0 || status_)
    return false;
  return ::kill(pid_, sig) == 0;
}

bool child_process::stop() {
  if (!signal(SIGSTOP))
    return false;
  auto deadline = clock_type::now() + std::chrono::seconds{5};
  while (!all_threads_stopped(pid_)) {
    if (clock_type::now() >= deadline || !running())
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  return true;
}

bool child_process::running() {
  if (pid_ <= 0)
    return false;
  return !try_reap(false);
}

std::optional<exit_status>
child_process::wait_for_exit(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  while (running()) {
    if (clock_type::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(poll_interval);
  }
  return status_;
}

exit_status child_process::shutdown(std::chrono::milliseconds grace) {
  signal(SIGCONT);
  signal(SIGTERM);
  if (auto st = wait_for_exit(grace))
    return *st;
  signal(SIGKILL);
  try_reap(true);
  return status_.value_or(exit_status{});
}

} // namespace shoal::test
