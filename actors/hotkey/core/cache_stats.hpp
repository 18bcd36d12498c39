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

/// The most entries a hot cache may be sized for (16,777,216). Its frequency
/// sketch is allocated up front at about 5 bytes per entry (80 MiB here), so
/// a larger figure would only reserve memory a cache of hot keys never uses;
/// configurations are refused above it when they are read.
inline constexpr uint64_t max_cache_entries = uint64_t{1} << 24;

/// Bounds of a cache; the cache never holds more than either.
struct cache_limits {
  /// Most entries held, 1..max_cache_entries (hot_cache throws
  /// std::invalid_argument above).
  size_t max_entries = 10000;
  /// Most key + value bytes held, >= 1. An entry larger than a shard's share is
  /// refused.
  size_t max_bytes = 64u << 20;
  /// Independently locked parts, >= 1; each gets an equal share of both bounds, so
  /// the hit ratio of a small cache is best with 1 shard.
  size_t shards = 1;
};

} // namespace shoal::hotkey
