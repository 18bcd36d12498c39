#include "tests/support/redis_server.hpp"

#include <mutex>
#include <stdexcept>
#include <thread>

#include "tests/support/free_port.hpp"

namespace shoal::test {

using namespace std::chrono_literals;

redis_server::redis_server(redis_options options)
    : options_(std::move(options)), dir_("redis-" + options_.name) {
  static std::once_flag swept;
  std::call_once(swept, [] { remove_orphaned_temp_dirs(); });
  std::string failure;
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_port();
    launch();
    if (wait_ready(failure))
      return;
    auto output = process_->output();
    process_->kill();
    process_->wait_for_exit(10s);
    if (output.find("Address already in use") == std::string::npos)
      break;
  }
  throw std::runtime_error("redis-server " + options_.name +
                           " did not start: " + failure + "\n" + log_tail());
}

redis_server::~redis_server() {
  if (process_) {
    process_->kill();
    process_->wait_for_exit(10s);
  }
}

std::string redis_server::endpoint() const {
  return host_ + ":" + std::to_string(port_);
}

redis_config redis_server::connection_config() const {
  redis_config cfg;
  cfg.host = host_;
  cfg.port = port_;
  cfg.password = options_.password;
  cfg.connect_timeout = 2s;
  cfg.command_timeout = 10s;
  return cfg;
}

redis_connection redis_server::connect() const {
  auto conn = redis_connection::connect(connection_config());
  if (!conn)
    throw std::runtime_error(conn.error().to_string());
  return std::move(*conn);
}

void redis_server::launch() {
  process_options opts;
  opts.program = "redis-server";
  opts.name = "redis-server";
  opts.output_dir = dir_.path();
  opts.args = {"--port",
               std::to_string(port_),
               "--bind",
               host_,
               "--dir",
               dir_.path().string(),
               "--daemonize",
               "no",
               "--protected-mode",
               "no",
               "--logfile",
               "",
               "--save",
               ""};
  if (options_.persistence) {
    opts.args.insert(opts.args.end(), {"--appendonly", "yes", "--appendfsync", "always"});
  } else {
    opts.args.insert(opts.args.end(), {"--appendonly", "no"});
  }
  if (!options_.password.empty())
    opts.args.insert(opts.args.end(), {"--requirepass", options_.password});
  opts.args.insert(opts.args.end(), options_.extra_args.begin(),
                   options_.extra_args.end());
  process_.reset();
  process_.emplace(opts);
  frozen_ = false;
}

bool redis_server::wait_ready(std::string& failure) {
  auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  auto cfg = connection_config();
  cfg.connect_timeout = 1s;
  cfg.command_timeout = 1s;
  for (;;) {
    if (!process_->running()) {
      failure = "redis-server exited (" + process_->status()->to_string() + ")";
      return false;
    }
    auto conn = redis_connection::connect(cfg);
    std::string last;
    if (conn) {
      auto pong = conn->command({"PING"});
      if (pong && pong->is_status("PONG"))
        return true;
      last = pong ? pong->str : pong.error().to_string();
    } else {
      last = conn.error().to_string();
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      failure = "no PONG after " + std::to_string(options_.start_timeout.count()) +
                " s; last: " + last;
      return false;
    }
    std::this_thread::sleep_for(5ms);
  }
}

void redis_server::start() {
  if (process_ && process_->running())
    throw std::runtime_error("redis-server " + options_.name + " is already running");
  launch();
  std::string failure;
  if (!wait_ready(failure))
    throw std::runtime_error("redis-server " + options_.name +
                             " did not restart on port " + std::to_string(port_) + ": " +
                             failure + "\n" + log_tail());
}

exit_status redis_server::stop(std::chrono::milliseconds grace) {
  if (!process_)
    return {};
  frozen_ = false;
  return process_->shutdown(grace);
}

exit_status redis_server::kill() {
  if (!process_)
    return {};
  frozen_ = false;
  process_->kill();
  return process_->wait_for_exit(10s).value_or(exit_status{});
}

void redis_server::restart() {
  stop();
  start();
}

void redis_server::freeze() {
  if (process_ && process_->stop())
    frozen_ = true;
}

void redis_server::thaw() {
  if (process_)
    process_->resume();
  frozen_ = false;
}

bool redis_server::running() {
  return process_ && process_->running();
}

void redis_server::flushall() {
  auto conn = connect();
  for (auto argv : {std::vector<std::string_view>{"FLUSHALL"},
                    std::vector<std::string_view>{"SCRIPT", "FLUSH"}}) {
    auto reply = conn.command(argv);
    if (!reply || reply->is_error())
      throw std::runtime_error(
          "redis " + endpoint() + ": " + std::string{argv[0]} +
          " failed: " + (reply ? reply->str : reply.error().to_string()));
  }
}

void redis_server::reset() {
  if (frozen_)
    thaw();
  if (!running())
    start();
  flushall();
}

std::string redis_server::log_tail(size_t max_bytes) const {
  return process_ ? process_->output_tail(max_bytes) : std::string{"(never started)"};
}

} // namespace shoal::test
