// cache_stats: the figures hot_cache and lru_cache report alike.
#pragma once

#include <cstddef>
#include <cstdint>

namespace shoal::hotkey {

/// A snapshot of a cache's counters. Plain value.
struct cache_stats {
  /// get() calls that found a live entry.
  uint64_t hits = 0;
  /// get() calls that found nothing or an expired entry.
  uint64_t misses = 0;
  /// Entries dropped to stay within the bounds (not counting expiry or erase).
  uint64_t evictions = 0;
  /// Entries held now.
  size_t entries = 0;
  /// Key and value bytes held now.
  size_t bytes = 0;

  /// hits / (hits + misses), 0 before any get().
  double hit_ratio() const noexcept {
    auto total = hits + misses;
    return total == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(total);
  }
};

/// Bounds of a cache; the cache never holds more than either.
struct cache_limits {
  /// Most entries held, >= 1.
  size_t max_entries = 10000;
  /// Most key + value bytes held, >= 1. An entry larger than a shard's share is
  /// refused.
  size_t max_bytes = 64u << 20;
  /// Independently locked parts, >= 1; each gets an equal share of both bounds, so
  /// the hit ratio of a small cache is best with 1 shard.
  size_t shards = 1;
};

} // namespace shoal::hotkey
