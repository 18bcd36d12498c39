// hotkey_sidecar: the hot-key service for processes in any language on the same
// machine, over the node's HTTP port, a UDP port and Redis pub/sub. Every HTTP route
// demands `Authorization: Bearer <secret of hotkeys.http_api.secret_env>`.
//
//   POST /hotkeys/record   {"counts": {"sku:42": 3}}  -> counted like record() in C++
//   UDP hotkeys.udp.listen "sku:42 3\n..."            -> the same, fire and forget
//   GET  /hotkeys/stream   Server-Sent Events: the hot set now, then every change
//   GET  /cache/KEY        the value through the hot cache, limiter and breaker, the
//                          loader being a Redis GET or an HTTP GET (hotkeys.loader)
//   Redis PUBLISH hotkeys.stream.redis_channel  the same events as the stream
//
// An event is one JSON object (wire form in hotkey_sidecar_routes.cpp):
//
//   {"seq":17,"node":"n1","key":"sku:42","state":"hot","count":312,"manual":false,
//    "ttl_ms":1500,"until_ms":1764947700123}
//
// state is "hot" (became or stays hot until until_ms; ttl_ms 0: until removed),
// "cold" (drop it) or "invalidate" (drop its value, it stays hot). seq counts the
// events of one node. The stream sends the hot set first, then `event: synced`;
// `event: reset` means the subscriber fell behind: drop everything, a fresh hot
// set follows.
//
// Redis gets each event once: hot and cold from the node whose shard decided it,
// invalidations from the node where they were asked (POST /hotkeys/invalidate or
// the C++ API). Invalidations that writers PUBLISH on hotkeys.invalidation_channel
// go out on the stream but not again on Redis: subscribe to that channel too.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/hotkey/actors/node_context.hpp"
#include "runtime/config.hpp"

namespace httplib {
class Server;
}

namespace shoal {

class hotkey_service;
class hotkey_udp_listener;
class hotkey_events_publisher;
class cache_loader;

/// One event as the stream and the Redis channel carry it: a JSON object on one line.
std::string sidecar_event_json(const std::string& node, uint64_t seq,
                               const hotkey::hot_event& e);

/// The sidecar surface of one node's hot-key service. add_routes and status are
/// thread-safe once start() returned.
class hotkey_sidecar {
public:
  hotkey_sidecar(hotkey_service& svc, std::shared_ptr<hotkey::node_context> p,
                 const hotkeys_config& cfg, std::string http_secret);
  ~hotkey_sidecar();

  /// Opens the UDP port and starts the Redis publisher as configured; returns why
  /// it could not, or an empty string.
  std::string start(const config& cfg);

  /// Ends the stream subscribers, the UDP thread and the publisher. Idempotent.
  void stop();

  /// Adds /hotkeys/record, /hotkeys/stream and /cache/KEY (when a loader is set).
  void add_routes(httplib::Server& server);

  /// The "sidecar" part of the service's /status section.
  nlohmann::json status() const;

  /// Tells Redis subscribers that `key`'s value is stale (this node was asked).
  void invalidated(const std::string& key);

  /// The UDP port bound; 0 when UDP is off.
  uint16_t udp_port() const;

private:
  void route_record(httplib::Server& server);
  void route_stream(httplib::Server& server);
  void route_cache(httplib::Server& server);

  hotkey_service& svc_;
  std::shared_ptr<hotkey::node_context> p_;
  const hotkeys_config cfg_;
  /// The bearer secret every route demands; never empty when routes are served.
  const std::string http_secret_;
  std::unique_ptr<hotkey_udp_listener> udp_;
  std::unique_ptr<hotkey_events_publisher> publisher_;
  std::unique_ptr<cache_loader> loader_;
  /// Stream subscribers connected now.
  std::atomic<int64_t> subscribers_{0};
  std::atomic<uint64_t> http_recorded_{0};
  std::atomic<uint64_t> http_refused_{0};
  std::atomic<bool> stopped_{false};
};

} // namespace shoal
