// hot_view: what one node knows is hot now, and the local values of those keys. The
// node's cache actor writes it from the shards' pushes; application threads read it
// in engine.cache().get() without any message.
//
//   view.mark("sku:42", 812, 60000, false, now);   // cache actor, on a push
//   if (view.is_hot("sku:42", now)) view.values().get("sku:42", now) ...
//
// A key stays hot until the TTL its shard gave (a push extends it) or until a shard
// says it cooled. Values live in W-TinyLFU hot_caches bounded in entries and bytes:
// the node's shared cache, and one cache per rule that sets its own `cache` limits
// (use_rules), so one rule's keys cannot evict another's. Time is passed in.
// Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/hotkey/core/hot_cache.hpp"
#include "actors/hotkey/core/hot_set.hpp"
#include "actors/hotkey/core/key_pattern.hpp"
#include "actors/hotkey/core/rule_book.hpp"

namespace shoal::hotkey {

/// One hot key as a node sees it.
struct hot_key_info {
  std::string key;
  /// Window count the shard saw (0 for manual keys).
  uint64_t count = 0;
  /// Local time it stops being hot; hot_set::forever for manual keys.
  int64_t until_ms = 0;
  bool manual = false;
};

/// Hot keys of a node and their cached values. Thread-safe.
class hot_view {
public:
  explicit hot_view(cache_limits limits);

  /// Makes `key` hot until now_ms + ttl_ms (ttl_ms <= 0: until removed). Returns true
  /// when it was not hot before. A key marked manual keeps its expiry when an
  /// automatic (manual = false) mark arrives; only its count changes.
  bool mark(std::string_view key, uint64_t count, int64_t ttl_ms, bool manual,
            int64_t now_ms);

  /// Makes `key` not hot and drops its value; true when it was hot.
  bool unmark(std::string_view key);

  /// Removes keys whose time has passed, and their values; returns them.
  std::vector<std::string> expire(int64_t now_ms);

  /// When `key` stops being hot, if it is hot at now_ms.
  std::optional<int64_t> hot_until(std::string_view key, int64_t now_ms) const;

  bool is_hot(std::string_view key, int64_t now_ms) const {
    return hot_until(key, now_ms).has_value();
  }

  /// Every key hot at now_ms, hottest first.
  std::vector<hot_key_info> list(int64_t now_ms) const;

  /// Routes values of keys whose rule in `rules` sets its own cache limits to that
  /// rule's cache. A rule whose limits are unchanged keeps its cache and values; the
  /// cache of a rule that is gone or changed is dropped.
  void use_rules(std::shared_ptr<const rule_set> rules);

  /// The cached value of `key` at now_ms (counts a hit or a miss in its cache).
  std::optional<std::string> get_value(std::string_view key, int64_t now_ms);

  /// Caches `value` for `key` until now_ms + ttl_ms (ttl_ms <= 0: no expiry), in the
  /// cache of its rule; false when the cache refused it (see hot_cache::put).
  bool put_value(std::string_view key, std::string value, int64_t now_ms, int64_t ttl_ms);

  /// Where `key`'s invalidations stand: read it before loading a value from the
  /// backend, and hand it to put_loaded().
  uint64_t value_generation(std::string_view key) const noexcept;

  /// put_value for a value loaded after value_generation() returned `generation`:
  /// when `key` was invalidated since (erase_value), the load may have read the
  /// value from before the write, so it is not kept (false). The value is checked
  /// again after it went in, so an invalidation racing the put wins.
  bool put_loaded(std::string_view key, std::string value, int64_t now_ms, int64_t ttl_ms,
                  uint64_t generation);

  /// Drops the value of `key` from every cache that may hold it, and moves its
  /// invalidation generation on; true if a cache held it.
  bool erase_value(std::string_view key);

  /// erase_value for every key (hot now or not) that one of `patterns`
  /// matches; returns those keys.
  std::vector<std::string> erase_matching(const std::vector<key_pattern>& patterns);

  /// Counters and size of every cache together.
  cache_stats value_stats() const;

  /// Counters and size of `rule`'s own cache; nullopt when it has none.
  std::optional<cache_stats> rule_cache_stats(const hotkey_rule& rule) const;

private:
  struct rule_cache {
    uint64_t max_entries;
    uint64_t max_bytes;
    std::shared_ptr<hot_cache> cache;
  };

  /// The cache that holds values of `key`'s rule; the node's cache by default.
  /// Call with rules_lock_ held.
  hot_cache* cache_of(std::string_view key) const;

  mutable std::shared_mutex lock_;
  /// Hot keys and their expiry.
  hot_set hot_;
  /// Key -> what the shard said; same keys as hot_.
  std::unordered_map<std::string, hot_key_info> info_;
  /// Values of hot keys whose rule has no cache of its own; a key's value never
  /// outlives its hotness.
  std::shared_ptr<hot_cache> values_;
  /// Guards rules_ and own_.
  mutable std::shared_mutex rules_lock_;
  std::shared_ptr<const rule_set> rules_;
  /// rule_key of each rule with its own limits -> its cache.
  std::unordered_map<std::string, rule_cache> own_;
  /// !own_.empty(), readable without rules_lock_ (the read path's shortcut).
  std::atomic<bool> any_own_{false};
  /// Invalidation generations, striped by key hash: bounded memory, and a key
  /// that shares a stripe with an invalidated one only loses one put.
  static constexpr size_t generation_stripes = 4096;
  std::atomic<uint64_t>& generation_of(std::string_view key) const noexcept;
  mutable std::array<std::atomic<uint64_t>, generation_stripes> generations_{};
};

} // namespace shoal::hotkey
