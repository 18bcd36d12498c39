// key_rate_limiter: one token bucket per key (Sentinel's hot-parameter limiting) in
// bounded memory. Buckets live in LRU order; past max_keys the least recently used
// bucket is dropped, so a flood of distinct keys cannot grow memory (Sentinel's most
// reported bug). A dropped key that comes back starts with a full bucket, which only
// ever errs towards letting traffic through.
//
//   key_rate_limiter limiter{{100.0, 20, 100000}};   // 100/s per key, bursts of 20
//   if (!limiter.try_acquire(key, now_ms)) return fallback;
//
// Time is passed in (steady milliseconds).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/hotkey/core/token_bucket.hpp"

namespace shoal::hotkey {

/// Limits and bounds of a key_rate_limiter.
struct key_rate_limiter_config {
  /// Tokens per second refilled into each key's bucket.
  double rate_per_second = 100.0;
  /// Tokens a key's bucket holds when full.
  uint32_t burst = 10;
  /// Most keys with a bucket at once, >= 1 (rounded up to a multiple of the shards).
  size_t max_keys = 100000;
  /// Independently locked parts, >= 1 and <= max_keys.
  size_t shards = 16;
};

/// Per-key token buckets, LRU-bounded. Thread-safe: every member may be called
/// concurrently; calls on keys of different shards do not contend.
class key_rate_limiter {
public:
  /// An empty limiter; out-of-range config values are clamped.
  explicit key_rate_limiter(key_rate_limiter_config config);

  /// Takes `n` tokens from `key`'s bucket (creating it full if absent) at `now_ms`;
  /// false when the bucket lacks them. O(1) average under the key's shard lock.
  bool try_acquire(std::string_view key, int64_t now_ms, uint32_t n = 1);

  /// Keys with a bucket now, <= max_keys(). Takes every shard lock in turn.
  size_t size() const;

  /// Most keys with a bucket at once.
  size_t max_keys() const noexcept { return per_shard_ * shards_.size(); }

  /// Buckets dropped to stay within max_keys() so far.
  uint64_t evictions() const noexcept {
    return evictions_.load(std::memory_order_relaxed);
  }

private:
  struct entry {
    entry(std::string k, double rate, uint32_t burst)
        : key(std::move(k)), bucket(rate, burst) {}
    /// The key this bucket limits.
    std::string key;
    /// The key's tokens.
    token_bucket bucket;
  };

  struct shard {
    /// Guards lru and index.
    std::mutex lock;
    /// Most recently used first; size <= per_shard_.
    std::list<entry> lru;
    /// Key (viewing into its entry) -> position in lru; same keys as lru.
    std::unordered_map<std::string_view, std::list<entry>::iterator> index;
  };

  /// Configuration after clamping.
  key_rate_limiter_config config_;
  /// Most buckets one shard holds, >= 1.
  size_t per_shard_;
  /// Fixed at construction.
  std::vector<std::unique_ptr<shard>> shards_;
  /// Monotonic count of dropped buckets.
  std::atomic<uint64_t> evictions_{0};
};

} // namespace shoal::hotkey
