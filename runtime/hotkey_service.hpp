// hotkey_service: the hot-key service of a node (scenario 3). It runs the actors of
// actors/hotkey/actors/node_context.hpp on the node: a recorder, a counter shard (on
// shard nodes), the cache actor, the peer tracker and, when configured, the Redis
// invalidation follower; it registers the cache actor and shard in the directory so
// that peers find them, and offers the application API:
//
//   eng->hotkeys().record("sku:42");          // tens of ns, any thread
//   auto hot = eng->hotkeys().hot_keys();     // what is hot on this node
//   eng->hotkeys().add("sku:7", 60000);
//   eng->hotkeys().remove("sku:7");
//   auto r = eng->cache().get("sku:42", [&](const std::string& k) { return get(k); });
//   eng->cache().invalidate("sku:42");        // every node drops its value
//
// With hotkeys.invalidation_channel set, each node subscribes to that Redis channel
// and drops the cached value of every key published on it (PUBLISH channel key),
// so writers in other languages can invalidate; it resubscribes after Redis
// comes back.
//
// HTTP: GET /hotkeys lists the hot keys. With hotkeys.http_api on, and only to
// callers that send `Authorization: Bearer <secret from http_api.secret_env>`:
// POST /hotkeys/manual?key=K&hot=1|0 [&duration_ms=D] adds or removes a manual hot
// key; POST /hotkeys/invalidate?key=K drops K's value on every node.
// With http_api on, processes in any language record, follow the hot set and read
// through the hot cache: see hotkey_sidecar.hpp (POST /hotkeys/record, UDP,
// GET /hotkeys/stream, Redis events, GET /cache/KEY).
// /status has a "hotkeys" section and /metrics shoal_hotkeys_* figures. reload()
// re-reads the rules (rules_file, or the config file's hotkeys.rules) and spreads them
// to every node.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/actor.hpp>

#include "actors/hotkey/actors/cache_reader.hpp"
#include "actors/hotkey/actors/node_context.hpp"
#include "runtime/hotkey_sidecar.hpp"
#include "runtime/service.hpp"

namespace shoal {

class node;

class hotkey_service : public service {
public:
  /// Called for each key this node's shard declares hot: key, window count, shard time.
  using detection_listener = std::function<void(const std::string&, uint64_t, int64_t)>;

  hotkey_service(node& n, std::shared_ptr<hotkey::node_context> p,
                 std::shared_ptr<const hotkey::rule_set> rules);
  ~hotkey_service() override;

  std::string name() const override { return "hotkeys"; }
  nlohmann::json status() override;
  void stop() override;
  void add_routes(httplib::Server& server) override;
  std::optional<std::string> reload() override;
  void update_metrics() override;

  // -- application API (thread-safe) ------------------------------------------

  /// Counts `n` accesses of `key`.
  void record(std::string_view key, uint64_t n = 1) { p_->recorder->record(key, n); }

  /// Keys hot on this node now, hottest first.
  std::vector<hotkey::hot_key_info> hot_keys() const;

  /// True if `key` is hot on this node now.
  bool is_hot(std::string_view key) const;

  /// Makes `key` hot on every node for duration_ms (0: until removed).
  void add_hot(const std::string& key, int64_t duration_ms = 0);

  /// Makes `key` not hot on every node.
  void remove_hot(const std::string& key);

  /// Reads `key` through the hot cache and the protected loader (cache_reader.hpp).
  hotkey::cache_read get(const std::string& key,
                         const hotkey::cache_reader::loader& load);

  /// Drops the cached value of `key` on every node.
  void invalidate(const std::string& key);

  /// Drops the cached values of `keys` on every node (one message per node).
  void invalidate(const std::vector<std::string>& keys);

  /// Drops, on every node, the cached value of each key one of `patterns` (the
  /// pieces of a hotkey::key_pattern) matches.
  void invalidate_matching(const std::vector<std::vector<std::string>>& patterns);

  /// invalidate() and invalidate_matching() for callers that may outlive this
  /// service (a sync pipeline's threads): once the service stops, they do
  /// nothing. Thread-safe.
  struct invalidation_gate {
    void keys(const std::vector<std::string>& keys);
    void matching(const std::vector<std::vector<std::string>>& patterns);

    std::mutex mtx;
    /// Null once the service stopped.
    hotkey_service* service = nullptr;
  };
  std::shared_ptr<invalidation_gate> gate() const { return gate_; }

  /// Sends the counts recorded so far to the shards and waits (at most 10 s) until
  /// they processed them.
  void flush();

  /// The pipeline's time source (a replay drives it by hand).
  hotkey::hotkey_clock& clock() { return *p_->clock; }

  /// Sets the listener of this node's detections (replaces any previous one).
  void on_detection(detection_listener listener);

  /// Rules in force on this node.
  std::shared_ptr<const hotkey::rule_set> rules() const { return p_->rules->current(); }

private:
  struct metrics;

  node& node_;
  std::shared_ptr<hotkey::node_context> p_;
  std::shared_ptr<invalidation_gate> gate_ = std::make_shared<invalidation_gate>();
  hotkey::cache_reader reader_;
  /// Shard and cache nodes the peer tracker knows live (empty if it does not answer).
  std::pair<std::vector<std::string>, std::vector<std::string>> live_peers() const;

  hotkey_cache_actor cache_;
  counter_shard_actor shard_;
  hotkey_recorder_actor recorder_;
  hotkey_tracker_actor tracker_;
  std::mutex listener_lock_;
  detection_listener listener_;
  /// Follows hotkeys.invalidation_channel when configured.
  invalidation_follower_actor follower_;
  std::unique_ptr<metrics> metrics_;
  std::atomic<bool> stopping_{false};

  /// "subscribed", "connecting" or "off" (no channel configured).
  std::string invalidation_state() const;

  /// The bearer secret of the mutating routes; empty: they are not served.
  std::string http_secret_;
  /// Record, stream and cache for processes in other languages (hotkey_sidecar.hpp).
  std::unique_ptr<hotkey_sidecar> sidecar_;
  friend std::unique_ptr<service> make_hotkey_service(node& n, std::string& error);
};

/// The applications' handle on hot-key detection. Thread-safe. Without a hot-key
/// service on the node, record() does nothing, hot_keys() is empty and add/remove
/// throw std::logic_error.
class hotkeys_client {
public:
  explicit hotkeys_client(hotkey_service* svc = nullptr) : svc_(svc) {}
  void record(std::string_view key, uint64_t n = 1) const {
    if (svc_)
      svc_->record(key, n);
  }
  std::vector<hotkey::hot_key_info> hot_keys() const;
  bool is_hot(std::string_view key) const { return svc_ && svc_->is_hot(key); }
  void add(const std::string& key, int64_t duration_ms = 0) const;
  void remove(const std::string& key) const;

private:
  hotkey_service* svc_;
};

/// The applications' handle on the hot cache. Thread-safe. Without a hot-key service
/// on the node, every call throws std::logic_error.
class cache_client {
public:
  explicit cache_client(hotkey_service* svc = nullptr) : svc_(svc) {}
  hotkey::cache_read get(const std::string& key,
                         const hotkey::cache_reader::loader& load) const;
  void invalidate(const std::string& key) const;

private:
  hotkey_service* svc_;
};

/// The factory for services.cpp: a hot-key service when the config has a `hotkeys`
/// section.
std::unique_ptr<service> make_hotkey_service(node& n, std::string& error);

} // namespace shoal
