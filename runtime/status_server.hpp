// The HTTP endpoint of a node (cpp-httplib, its own threads):
//   GET /status   JSON: node, uptime, peers and their state, and one section per
//                 service that registered a status provider
//   GET /metrics  Prometheus text format: the node's registry plus cluster gauges,
//                 shoal_build_info and the process_* figures
//   GET /healthz  liveness: 200, or 503 with the reasons a service needs a person
//                 (a sync pipeline that failed)
//   GET /readyz   readiness: 200 once every service can do its work (a valid token
//                 on this node, pipelines running) and a peer is reachable
//   GET /         the status page (and /app.js, /style.css, /chart.js), embedded
//                 in the binary: live charts drawn from /status (runtime/web/)
// Services add routes and status sections through add_status() and routes().

#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/config.hpp"

namespace httplib {
class Server;
}

namespace shoal {

class node;

class status_server {
public:
  explicit status_server(node& owner);
  ~status_server();

  /// Binds and starts serving; returns an error message if it cannot bind.
  std::optional<std::string> start(const endpoint& listen);

  /// Stops serving and joins the server thread. Idempotent.
  void stop();

  uint16_t port() const { return port_; }

  /// Adds a section `name` to /status, computed on each request. Thread-safe.
  void add_status(const std::string& name, std::function<nlohmann::json()> section);

  /// The underlying server, to add routes before start().
  httplib::Server& routes() { return *server_; }

private:
  nlohmann::json status();
  std::string metrics();
  std::vector<std::string> unhealthy();
  std::vector<std::string> not_ready();

  node& owner_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::mutex mutex_;
  std::map<std::string, std::function<nlohmann::json()>> sections_;
};

} // namespace shoal
