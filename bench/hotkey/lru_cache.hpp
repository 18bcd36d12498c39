// lru_cache: a bounded in-process cache that evicts the least recently used entry;
// the peer hot_cache is measured against. Same interface as hot_cache.
//
//   lru_cache cache{{10000, 64 << 20, 1}};
//   cache.put("sku:42", value, now_ms, ttl_ms);
//   if (auto v = cache.get("sku:42", now_ms)) ...
//
// Time is passed in (steady milliseconds).
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/hotkey/core/cache_stats.hpp"

namespace shoal::hotkey {

/// Bounded LRU cache with per-entry TTL. Thread-safe: every member may be called
/// concurrently; keys of different shards do not contend.
class lru_cache {
public:
  /// An empty cache; bounds below 1 are clamped to 1.
  explicit lru_cache(cache_limits limits);

  /// The live value of `key` at `now_ms`, counting a hit or a miss; an expired entry
  /// is removed. O(1) average plus the value copy, under the key's shard lock.
  std::optional<std::string> get(std::string_view key, int64_t now_ms);

  /// Stores `value` for `key` until now_ms + ttl_ms (ttl_ms <= 0: no expiry),
  /// replacing any previous value, evicting least recently used entries to stay in
  /// bounds. False (and nothing stored) when the entry alone exceeds its shard's byte
  /// bound. O(1) amortised, under the key's shard lock.
  bool put(std::string_view key, std::string value, int64_t now_ms, int64_t ttl_ms);

  /// Removes `key`; true when it was there. O(1) average.
  bool erase(std::string_view key);

  /// Counters and current size. Takes every shard lock in turn.
  cache_stats stats() const;

private:
  struct entry {
    /// Owned key; the shard's index views into it.
    std::string key;
    /// Cached bytes.
    std::string value;
    /// Live while now < expires_ms.
    int64_t expires_ms;
  };

  struct shard {
    /// Guards everything below.
    std::mutex lock;
    /// Most recently used first.
    std::list<entry> lru;
    /// Key -> position in lru; same keys as lru.
    std::unordered_map<std::string_view, std::list<entry>::iterator> index;
    /// Sum of key + value sizes in lru, <= max_bytes_.
    size_t bytes = 0;
  };

  shard& shard_of(std::string_view key) const;
  void remove(shard& s, std::list<entry>::iterator i);

  /// Entries one shard holds at most, >= 1.
  size_t max_entries_;
  /// Bytes one shard holds at most, >= 1.
  size_t max_bytes_;
  /// Fixed at construction.
  std::vector<std::unique_ptr<shard>> shards_;
  /// Monotonic counters.
  std::atomic<uint64_t> hits_{0}, misses_{0}, evictions_{0};
};

} // namespace shoal::hotkey
