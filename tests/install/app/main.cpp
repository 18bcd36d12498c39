// shoal_install_app: an application built against the installed shoal package (see
// tests/install/install_test.cpp). It starts an engine from a config, gets a token
// and reads a key through the hot cache, its loader a Redis GET.
//
//   shoal_install_app CONFIG PROVIDER KEY
//
// Prints "token TOKEN", then "read SOURCE VALUE" for two reads of KEY made hot by
// hand (the first loads it, the second should come from the hot cache), then
// "loads N". Exits 0 when every step worked, 1 otherwise (the reason on stderr).

#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include "runtime/adapters/redis_connection.hpp"
#include "runtime/engine.hpp"
#include "runtime/hotkey_service.hpp"
#include "runtime/token_service.hpp"

namespace {

using namespace std::chrono;

const char* source_name(shoal::hotkey::read_source s) {
  switch (s) {
  case shoal::hotkey::read_source::hot_cache:
    return "hot_cache";
  case shoal::hotkey::read_source::loader:
    return "loader";
  case shoal::hotkey::read_source::fallback:
    return "fallback";
  case shoal::hotkey::read_source::absent:
    return "absent";
  }
  return "unknown";
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: shoal_install_app CONFIG PROVIDER KEY\n";
    return 2;
  }
  std::string key = argv[3];
  std::string error;
  auto eng = shoal::engine::start_file(argv[1], &error);
  if (!eng) {
    std::cerr << "cannot start: " << error << '\n';
    return 1;
  }
  auto t = eng->tokens().get(argv[2], seconds{20});
  if (!t) {
    std::cerr << "no token: " << t.error << '\n';
    return 1;
  }
  std::cout << "token " << t.token() << std::endl;

  if (!eng->cfg().redis) {
    std::cerr << "the config has no redis section\n";
    return 1;
  }
  shoal::redis_config rc;
  rc.host = eng->cfg().redis->address.host;
  rc.port = eng->cfg().redis->address.port;
  int loads = 0;
  auto redis_get = [&](const std::string& k) {
    ++loads;
    auto conn = shoal::redis_connection::connect(rc);
    if (!conn)
      throw std::runtime_error(conn.error().to_string());
    auto reply = conn->command({"GET", k});
    if (!reply)
      throw std::runtime_error(reply.error().to_string());
    return reply->str;
  };

  eng->hotkeys().add(key);
  auto deadline = steady_clock::now() + seconds{10};
  while (!eng->hotkeys().is_hot(key)) {
    if (steady_clock::now() > deadline) {
      std::cerr << key << " did not become hot within 10 s\n";
      return 1;
    }
    std::this_thread::sleep_for(milliseconds{10});
  }
  for (int i = 0; i < 2; ++i) {
    auto read = eng->cache().get(key, redis_get);
    std::cout << "read " << source_name(read.source) << ' '
              << (read.value ? *read.value : "-") << std::endl;
  }
  std::cout << "loads " << loads << std::endl;
  eng->stop();
  return 0;
}
