// service: what the node knows of a running service (token keeper, binlog sync,
// hot keys). A service is the runtime glue of one capability: it reads its config
// section, spawns its actors on the node's actor system, registers them in the
// directory, and offers the typed API the engine hands to applications.
//
// Services are created by the factories listed in services.cpp, in that order,
// after the node listens and before its HTTP endpoint opens; they are stopped in
// reverse order before the actor system goes down.

#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace httplib {
class Server;
}

namespace shoal {

class node;

class service {
public:
  virtual ~service() = default;

  /// The service's name: its section in /status and in metrics names.
  virtual std::string name() const = 0;

  /// Its section of /status. Called from HTTP threads: must be thread-safe and
  /// must not block for long.
  virtual nlohmann::json status() = 0;

  /// Stops the service's actors and threads; returns within a few seconds.
  /// Idempotent. Called before the node stops.
  virtual void stop() = 0;

  /// Adds the service's HTTP routes; called once, before the endpoint starts.
  virtual void add_routes(httplib::Server&) {}

  /// Brings the service's metrics up to date. Called by the node's one metrics
  /// ticker (every 250 ms, one thread per node), never concurrently with itself.
  virtual void update_metrics() {}

  /// Re-reads what the service can change without a restart (SIGHUP). Returns why
  /// that failed, with the old settings kept, or nullopt.
  virtual std::optional<std::string> reload() { return std::nullopt; }

  /// Why the service needs a person (GET /healthz answers 503), e.g. a sync
  /// pipeline that stopped on an error; empty when it does not. Thread-safe.
  virtual std::vector<std::string> unhealthy() { return {}; }

  /// Why the service cannot do its work yet (GET /readyz answers 503), e.g. no
  /// valid token yet; empty when it is ready. Thread-safe.
  virtual std::vector<std::string> not_ready() { return {}; }
};

/// Creates a service for a node, or returns nullptr with `error` set when the
/// config asks for it but it cannot start. Returns nullptr with `error` empty
/// when the config does not ask for it on this node.
using service_factory = std::unique_ptr<service> (*)(node& n, std::string& error);

/// Every service factory, in start order.
const std::vector<service_factory>& service_factories();

} // namespace shoal
