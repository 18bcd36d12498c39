// hot_cache: the bounded in-process cache that holds hot keys' values on every node,
// with W-TinyLFU admission and eviction (the policy of Caffeine), which keeps a
// better hit ratio than LRU when popular keys compete with one-off reads and scans.
//
// Each shard holds three LRU lists:
//   window (1% by default)  new entries land here; protects bursts of new keys
//   probation               entries that left the window, or fell out of protected
//   protected (80% of main) probation entries read again
// When the window overflows, its oldest entry moves to probation. When the main part
// (probation + protected) overflows, the newest probation entry (the candidate) and
// the oldest (the victim) are compared by their recent read frequency from a
// frequency_sketch; the less frequent one is evicted. So a scan of one-off keys
// passes through the window without flushing the popular entries out.
//
//   hot_cache cache{{{10000, 64 << 20, 4}}};
//   cache.put("sku:42", value, now_ms, rule.duration_ms);
//   if (auto v = cache.get("sku:42", now_ms)) ...
//
// Bounds hold on entries and on key + value bytes, per shard. Entries expire after
// their TTL. Time is passed in (steady milliseconds). Frequencies count get() calls.
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
#include "actors/hotkey/core/frequency_sketch.hpp"

namespace shoal::hotkey {

/// Bounds and shape of a hot_cache.
struct hot_cache_config {
  /// Entry and byte bounds, and the number of shards.
  cache_limits limits;
  /// Share of each bound given to the window, in (0, 1).
  double window_fraction = 0.01;
  /// Share of the main part given to protected entries, in (0, 1).
  double protected_fraction = 0.8;
};

/// Bounded W-TinyLFU cache with per-entry TTL. Thread-safe: every member may be
/// called concurrently; keys of different shards do not contend.
class hot_cache {
public:
  /// An empty cache; out-of-range values are clamped.
  explicit hot_cache(hot_cache_config config);

  /// The live value of `key` at `now_ms`, counting a hit or a miss and a read in the
  /// frequency sketch; an expired entry is removed. O(1) average plus the value copy,
  /// under the key's shard lock.
  std::optional<std::string> get(std::string_view key, int64_t now_ms);

  /// Stores `value` for `key` until now_ms + ttl_ms (ttl_ms <= 0: no expiry),
  /// replacing any previous value; may evict other entries or, if it loses the
  /// frequency comparison, this one. False (and nothing stored) when the entry alone
  /// exceeds its shard's byte bound. O(1) amortised, under the key's shard lock.
  bool put(std::string_view key, std::string value, int64_t now_ms, int64_t ttl_ms);

  /// Removes `key`; true when it was there. O(1) average.
  bool erase(std::string_view key);

  /// Counters and current size. Takes every shard lock in turn.
  cache_stats stats() const;

private:
  enum class segment : uint8_t { window, probation, protect };

  struct entry {
    /// Owned key; the shard's index views into it.
    std::string key;
    /// Cached bytes.
    std::string value;
    /// Live while now < expires_ms.
    int64_t expires_ms;
    /// XXH3 of key, as used by the sketch.
    uint64_t hash;
    /// The list this entry is in.
    segment where;
  };

  using list = std::list<entry>;

  struct part {
    /// Most recently used first.
    list entries;
    /// Sum of key + value sizes in entries.
    size_t bytes = 0;
  };

  struct shard {
    explicit shard(size_t capacity) : sketch(capacity) {}
    /// Guards everything below.
    std::mutex lock;
    /// Read frequencies of keys of this shard.
    frequency_sketch sketch;
    /// The three segments; entries move between them by splice.
    part window, probation, protect;
    /// Key -> entry, over all three parts.
    std::unordered_map<std::string_view, list::iterator> index;
  };

  struct bounds {
    size_t entries;
    size_t bytes;
  };

  shard& shard_of(uint64_t hash) const;
  part& part_of(shard& s, segment where) const;
  void move(shard& s, list::iterator i, segment to);
  void remove(shard& s, list::iterator i);
  void on_read(shard& s, list::iterator i);
  void evict(shard& s);
  static bool over(const part& p, bounds b, size_t extra_entries = 0,
                   size_t extra_bytes = 0) noexcept;

  /// Per-shard bound of the window.
  bounds window_;
  /// Per-shard bound of probation + protected.
  bounds main_;
  /// Per-shard bound of protected, within main_.
  bounds protect_;
  /// Fixed at construction.
  std::vector<std::unique_ptr<shard>> shards_;
  /// Monotonic counters.
  std::atomic<uint64_t> hits_{0}, misses_{0}, evictions_{0};
};

} // namespace shoal::hotkey
