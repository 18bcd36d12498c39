#include "tests/support/redis_server.hpp"

#include <stdexcept>

namespace shoal::test {

using namespace std::chrono_literals;

redis_server::redis_server(redis_options options)
    : server_process("redis-server", options.name, "redis-" + options.name,
                     options.start_timeout),
      options_(std::move(options)) {
  boot();
}

redis_config redis_server::connection_config() const {
  redis_config cfg;
  cfg.host = host();
  cfg.port = port();
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

std::vector<std::string> redis_server::arguments() const {
  std::vector<std::string> args = {"--port",
                                   std::to_string(port()),
                                   "--bind",
                                   host(),
                                   "--dir",
                                   folder().path().string(),
                                   "--daemonize",
                                   "no",
                                   "--protected-mode",
                                   "no",
                                   "--logfile",
                                   "",
                                   "--save",
                                   ""};
  if (options_.persistence)
    args.insert(args.end(), {"--appendonly", "yes", "--appendfsync", "always"});
  else
    args.insert(args.end(), {"--appendonly", "no"});
  if (!options_.password.empty())
    args.insert(args.end(), {"--requirepass", options_.password});
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  return args;
}

bool redis_server::probe(std::string& last) const {
  auto cfg = connection_config();
  cfg.connect_timeout = 1s;
  cfg.command_timeout = 1s;
  auto conn = redis_connection::connect(cfg);
  if (!conn) {
    last = conn.error().to_string();
    return false;
  }
  auto pong = conn->command({"PING"});
  if (pong && pong->is_status("PONG"))
    return true;
  last = pong ? pong->str : pong.error().to_string();
  return false;
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
  if (frozen())
    thaw();
  if (!running())
    start();
  flushall();
}

} // namespace shoal::test
