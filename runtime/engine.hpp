// shoal::engine — shoal embedded in a C++ application.
//
// An engine is one shoal node inside your process: it starts the actor system,
// joins the cluster described by the config (if it names peers), and runs the
// services the config places on this node. Your threads then talk to the
// services through the engine's accessors; none of them blocks on the network
// while the service has what it needs locally.
//
//   std::string error;
//   auto eng = shoal::engine::start_file("configs/single.json", &error);
//   if (!eng) { std::cerr << error << '\n'; return 2; }
//   auto view = eng->members();   // who is in the cluster and who is up
//   eng->stop();                  // or let the destructor do it
//
// Lifecycle: start() returns a running engine or nullptr with the reason;
// stop() is idempotent and returns within a few seconds; an engine can be
// started and stopped any number of times in one process (one at a time per
// listen port). All member functions are thread-safe.

#pragma once

#include <memory>
#include <string>
#include <vector>

#include "messages/cluster.hpp"
#include "runtime/config.hpp"

namespace caf {
class actor_system;
}

namespace shoal {

class node;
class sync_service;
class token_client;
class hotkeys_client;
class cache_client;

class engine {
public:
  /// Starts an engine from a validated config. On failure returns nullptr and,
  /// if `error` is given, stores why.
  static std::unique_ptr<engine> start(const config& cfg, std::string* error = nullptr);

  /// Reads, validates and starts from a JSON config file; config errors (each
  /// with its JSON path) are joined by newlines into `error`.
  static std::unique_ptr<engine> start_file(const std::string& path,
                                            std::string* error = nullptr);

  ~engine();

  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// Stops every service and the node. Idempotent.
  void stop();

  const config& cfg() const;

  /// This node's view of the cluster (itself included); blocks at most 2 s.
  msg::membership members();

  /// The port the node listens on for peers.
  uint16_t port() const;

  /// The port of the HTTP status endpoint (0 if disabled).
  uint16_t http_port() const;

  /// Hot-key detection (see hotkey_service.hpp): record(key), the hot keys, manual
  /// hot keys. Without a hot-key service on this node, record() does nothing.
  const hotkeys_client& hotkeys() const;

  /// The hot cache (see hotkey_service.hpp): get(key, loader), invalidate(key).
  const cache_client& cache() const;

  /// Re-reads what services can change without a restart (hot-key rules); returns
  /// one message per service that refused, the old settings kept.
  std::vector<std::string> reload();

  /// The token keeper's API (see token_service.hpp); when this node runs no token
  /// service, every call of the returned client fails with a reason.
  const token_client& tokens() const;

  /// The binlog sync pipelines on this node (see sync_service.hpp: status per
  /// pipeline, wait_applied / wait_caught_up); nullptr when none runs here.
  sync_service* sync() const;

  /// Each service's section of /status, by service name ("tokens", "sync",
  /// "hotkeys"), whether or not the HTTP endpoint is enabled.
  nlohmann::json status() const;

  /// The underlying actor system, for applications that add their own actors.
  caf::actor_system& system();

private:
  explicit engine(std::unique_ptr<node> n);

  std::unique_ptr<node> node_;
  /// Hold a plain pointer to the node's hot-key service (or null).
  std::unique_ptr<hotkeys_client> hotkeys_;
  std::unique_ptr<cache_client> cache_;
};

} // namespace shoal
