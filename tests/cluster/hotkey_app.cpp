// An application embedding shoal::engine with a hot-key service, for the hot-key
// cluster tests: it records keys and reads them through engine.cache() (values from
// the config's Redis) on HTTP requests to its control port.
//
//   hotkey_app --config FILE --control-port P
//   POST /record?key=K&n=N      engine.hotkeys().record(K, N) N times 1
//   GET  /get?key=K             engine.cache().get(K, Redis GET) as
//                               {"source","reason","value"}
// Prints "ready control=P" once serving; reloads on SIGHUP (like `shoal node`); exits
// on SIGTERM.

#include <csignal>
#include <iostream>
#include <mutex>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/adapters/redis_connection.hpp"
#include "runtime/engine.hpp"
#include "runtime/hotkey_service.hpp"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: hotkey_app --config FILE --control-port P\n";
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::string error;
  auto eng = shoal::engine::start_file(argv[2], &error);
  if (!eng) {
    std::cerr << error << '\n';
    return 1;
  }
  shoal::redis_config rc;
  if (auto& r = eng->cfg().redis) {
    rc.host = r->address.host;
    rc.port = r->address.port;
    rc.command_timeout = std::chrono::milliseconds{r->timeout_ms};
    rc.connect_timeout = std::chrono::milliseconds{r->timeout_ms};
  }
  httplib::Server control;
  control.Post("/record", [&](const httplib::Request& req, httplib::Response& res) {
    auto n = req.has_param("n") ? std::stoull(req.get_param_value("n")) : 1;
    for (uint64_t i = 0; i < n; ++i)
      eng->hotkeys().record(req.get_param_value("key"));
    res.set_content("ok\n", "text/plain");
  });
  control.Get("/get", [&](const httplib::Request& req, httplib::Response& res) {
    auto read = eng->cache().get(req.get_param_value("key"), [&](const std::string& key) {
      auto conn = shoal::redis_connection::connect(rc);
      if (!conn)
        throw std::runtime_error(conn.error().to_string());
      auto reply = conn->command({"GET", key});
      if (!reply)
        throw std::runtime_error(reply.error().to_string());
      return reply->str;
    });
    static const char* sources[] = {"hot_cache", "loader", "fallback"};
    static const char* reasons[] = {"none", "rate_limited", "breaker_open", "load_failed",
                                    "timed_out"};
    res.set_content(nlohmann::json{{"source", sources[static_cast<int>(read.source)]},
                                   {"reason", reasons[static_cast<int>(read.reason)]},
                                   {"value", read.value ? *read.value : ""}}
                        .dump(),
                    "application/json");
  });
  if (!control.bind_to_port("127.0.0.1", std::stoi(argv[4]))) {
    std::cerr << "cannot bind the control port\n";
    return 1;
  }
  std::thread server{[&] { control.listen_after_bind(); }};
  while (!control.is_running())
    std::this_thread::yield();
  std::cout << "ready control=" << argv[4] << std::endl;
  for (int sig = 0; sigwait(&set, &sig) == 0 && sig == SIGHUP;)
    for (auto& e : eng->reload())
      std::cerr << "reload refused: " << e << std::endl;
  control.stop();
  server.join();
  eng->stop();
  return 0;
}
