// A running shoal node: the actor system with the middleman (plain TCP or mutual
// TLS), the published directory, the metrics registry and the HTTP status
// endpoint. The embedded API (engine.hpp) and the CLI (`shoal node`) both run one.
//
// start() blocks until the directory is published and the HTTP endpoint listens;
// then peers are connected in the background. stop() (or the destructor) shuts
// everything down; it returns within a few seconds even with peers unreachable.

#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/cluster.hpp"
#include "runtime/config.hpp"
#include "runtime/service.hpp"

namespace prometheus {
class Registry;
}

namespace shoal {

class status_server;

class node {
public:
  /// Starts a node, or returns why it could not (port in use, bad TLS files...).
  static std::unique_ptr<node> start(const config& cfg, std::string& error);

  ~node();

  node(const node&) = delete;
  node& operator=(const node&) = delete;

  /// Stops the HTTP endpoint, the services and the actor system. Idempotent.
  void stop();

  const config& cfg() const { return cfg_; }

  caf::actor_system& system();

  /// This node's directory actor (see directory.hpp).
  const directory_actor& directory() const;

  /// The port the directory is published on (the configured one, or the one
  /// picked when the config says 0).
  uint16_t port() const { return port_; }

  /// The port of the HTTP status endpoint, 0 if disabled.
  uint16_t http_port() const;

  /// The current view of the cluster; blocks for at most `timeout`.
  msg::membership members(std::chrono::milliseconds timeout = std::chrono::seconds{2});

  /// The process-wide registry that /metrics serves; services add their own.
  prometheus::Registry& metrics();

  /// Seconds since start().
  double uptime_seconds() const;

  /// The running service of type T (see service.hpp), or nullptr if this node
  /// does not run it.
  template <class T> T* service_of() const {
    for (auto& s : services())
      if (auto p = dynamic_cast<T*>(s.get()))
        return p;
    return nullptr;
  }

  /// Every service running on this node, in start order.
  const std::vector<std::unique_ptr<service>>& services() const;

private:
  explicit node(const config& cfg);

  struct impl;
  config cfg_;
  std::unique_ptr<impl> impl_;
  uint16_t port_ = 0;
};

} // namespace shoal
