#include "tests/support/server_process.hpp"

#include <mutex>
#include <stdexcept>
#include <thread>

#include "tests/support/free_port.hpp"

namespace shoal::test {

using namespace std::chrono_literals;

server_process::server_process(std::string program, std::string name,
                               std::string_view folder,
                               std::chrono::seconds start_timeout)
    : program_(std::move(program)), name_(std::move(name)), start_timeout_(start_timeout),
      dir_(folder) {
  static std::once_flag swept;
  std::call_once(swept, [] { remove_orphaned_temp_dirs(); });
}

server_process::~server_process() {
  if (process_) {
    process_->kill();
    process_->wait_for_exit(30s);
  }
}

std::string server_process::endpoint() const {
  return host_ + ":" + std::to_string(port_);
}

void server_process::boot() {
  // Another process may take the free port before the server binds it: retry.
  std::string failure;
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_port();
    launch();
    if (wait_ready(failure))
      return;
    auto output = process_->output();
    process_->kill();
    process_->wait_for_exit(30s);
    if (output.find("Address already in use") == std::string::npos)
      break;
  }
  throw std::runtime_error(program_ + " " + name_ + " did not start: " + failure + "\n" +
                           log_tail());
}

void server_process::launch() {
  process_options opts;
  opts.program = program_;
  opts.name = program_;
  opts.output_dir = dir_.path();
  opts.args = arguments();
  process_.reset();
  process_.emplace(opts);
  frozen_ = false;
}

bool server_process::wait_ready(std::string& failure) {
  auto deadline = std::chrono::steady_clock::now() + start_timeout_;
  for (;;) {
    if (!process_->running()) {
      failure = program_ + " exited (" + process_->status()->to_string() + ")";
      return false;
    }
    std::string last;
    if (probe(last))
      return true;
    if (std::chrono::steady_clock::now() >= deadline) {
      failure = "not ready after " + std::to_string(start_timeout_.count()) +
                " s; last: " + last;
      return false;
    }
    std::this_thread::sleep_for(10ms);
  }
}

void server_process::start() {
  if (process_ && process_->running())
    throw std::runtime_error(program_ + " " + name_ + " is already running");
  launch();
  std::string failure;
  if (!wait_ready(failure))
    throw std::runtime_error(program_ + " " + name_ + " did not restart on port " +
                             std::to_string(port_) + ": " + failure + "\n" + log_tail());
}

exit_status server_process::stop(std::chrono::milliseconds grace) {
  if (!process_)
    return {};
  frozen_ = false;
  return process_->shutdown(grace);
}

exit_status server_process::kill() {
  if (!process_)
    return {};
  frozen_ = false;
  process_->kill();
  return process_->wait_for_exit(30s).value_or(exit_status{});
}

void server_process::restart() {
  stop();
  start();
}

void server_process::freeze() {
  if (process_ && process_->stop())
    frozen_ = true;
}

void server_process::thaw() {
  if (process_)
    process_->resume();
  frozen_ = false;
}

bool server_process::running() {
  return process_ && process_->running();
}

std::string server_process::log_tail(size_t max_bytes) const {
  return process_ ? process_->output_tail(max_bytes) : std::string{"(never started)"};
}

} // namespace shoal::test
