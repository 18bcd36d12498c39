// frequency_sketch: how often a key was seen recently, in fixed memory; the admission
// filter of W-TinyLFU (Einziger, Friedman, Manes: "TinyLFU", 2017).
//
// A count-min sketch of 4 rows of small counters (saturating at 15) behind a
// doorkeeper bloom filter: a key's first sighting only sets its doorkeeper bits, so
// the many keys seen once never touch the counters. After sample_size sightings every
// counter is halved and the doorkeeper cleared (aging), so the sketch follows what is
// popular now rather than ever.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace shoal::hotkey {

/// Approximate recent frequency of hashed keys. Not thread-safe; one owner (the
/// hot_cache shard's lock guards it).
class frequency_sketch {
public:
  /// Sized for a cache of `capacity` entries: width is the next power of two >=
  /// capacity (at least 64), and it ages every 10 * width sightings.
  explicit frequency_sketch(size_t capacity);

  /// Records one sighting of the key with hash `key_hash`. O(1); O(width) when aging.
  void record(uint64_t key_hash);

  /// Estimated recent sightings of the key, 0..16. O(1).
  uint32_t frequency(uint64_t key_hash) const;

  /// Bytes held: fixed at construction.
  size_t memory_bytes() const noexcept;

private:
  bool door_contains(uint64_t key_hash) const noexcept;
  void age();

  /// Counters per row, a power of two.
  size_t width_;
  /// Row r occupies counters_[r * width_, (r + 1) * width_); each counter <= 15.
  std::vector<uint8_t> counters_;
  /// Doorkeeper bits, width_ * 8 of them.
  std::vector<uint64_t> door_;
  /// Sightings since the last aging, < sample_size_.
  size_t additions_ = 0;
  /// Sightings between agings.
  size_t sample_size_;
};

} // namespace shoal::hotkey
