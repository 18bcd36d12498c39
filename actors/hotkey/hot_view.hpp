// hot_view: what one node knows is hot now, and the local values of those keys. The
// node's cache actor writes it from the shards' pushes; application threads read it
// in engine.cache().get() without any message.
//
//   view.mark("sku:42", 812, 60000, false, now);   // cache actor, on a push
//   if (view.is_hot("sku:42", now)) view.values().get("sku:42", now) ...
//
// A key stays hot until the TTL its shard gave (a push extends it) or until a shard
// says it cooled. Values live in a W-TinyLFU hot_cache bounded in entries and bytes.
// Time is passed in. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/hotkey/hot_cache.hpp"
#include "actors/hotkey/hot_set.hpp"

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

  /// The local values of hot keys.
  hot_cache& values() { return values_; }

private:
  mutable std::shared_mutex lock_;
  /// Hot keys and their expiry.
  hot_set hot_;
  /// Key -> what the shard said; same keys as hot_.
  std::unordered_map<std::string, hot_key_info> info_;
  /// Values of hot keys; a key's value never outlives its hotness.
  hot_cache values_;
};

} // namespace shoal::hotkey
