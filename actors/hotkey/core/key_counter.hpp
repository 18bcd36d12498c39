// key_counter: the counting core of a counter shard. It watches an unbounded stream of
// keys in bounded memory and says when a key's count over the sliding window reaches
// its threshold.
//
// Every key goes through a heavy_keeper sketch (fixed size). Once the sketch estimates
// a key at admit_fraction * threshold or more, the key becomes a candidate and gets an
// exact sliding_window; at most max_candidates keys have one. When candidates are full,
// a newcomer replaces the weakest of a few sampled candidates (weakest = lowest of the
// larger of window count and sketch estimate) if it is stronger. The sketch is halved
// once per window so that old traffic fades.
//
// Counts before a key became a candidate are not in its window, so a key is reported
// once it makes threshold + admit_fraction * threshold accesses within one window (plus
// the sketch's under-estimate, small for heavy keys): every key at 2x its threshold is
// reported with the default admit_fraction.
//
//   key_counter counter{config};
//   auto seen = counter.record("sku:42", 1, now_ms, rule.threshold);
//   if (seen.crossed) hot_set.mark_hot(...);
//
// Not thread-safe: one owner (the counter shard actor). Time is passed in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/hotkey/core/heavy_keeper.hpp"
#include "actors/hotkey/core/sliding_window.hpp"

namespace shoal::hotkey {

/// Size and behaviour of a key_counter; everything that bounds its memory.
struct key_counter_config {
  /// Window every candidate is counted over.
  window_shape window;
  /// Most keys with an exact window at once, >= 1.
  uint32_t max_candidates = 10000;
  /// Keys longer than this never get a window (so memory stays bounded).
  uint32_t max_key_bytes = 512;
  /// Sketch that picks the candidates.
  heavy_keeper_config sketch;
  /// A key becomes a candidate at sketch estimate >= admit_fraction * threshold.
  double admit_fraction = 0.25;
  /// Candidates sampled to pick one to replace when full, >= 1.
  uint32_t eviction_samples = 8;
};

/// What record() saw for one key.
struct key_observation {
  /// The key's window count after this record; 0 if it has no window.
  uint64_t count = 0;
  /// The key has an exact window.
  bool candidate = false;
  /// count >= threshold.
  bool hot = false;
  /// This record moved count from below the threshold to at or above it.
  bool crossed = false;
};

/// Bounded-memory sliding-window counter over many keys. Not thread-safe; one owner.
class key_counter {
public:
  /// Builds an empty counter; values out of range are clamped.
  explicit key_counter(key_counter_config config);

  key_counter(const key_counter&) = delete;
  key_counter& operator=(const key_counter&) = delete;

  /// Counts `n` accesses of `key` at `now_ms` against `threshold` (values < 1 act as
  /// 1). O(sketch depth + window slices) amortised; O(eviction_samples * depth) when a
  /// key is admitted into full candidates. Time going backwards counts as the newest.
  key_observation record(std::string_view key, uint64_t n, int64_t now_ms,
                         uint64_t threshold);

  /// The key's window count at `now_ms`, or 0 if it has no window. O(slices).
  uint64_t count(std::string_view key, int64_t now_ms) const;

  /// Number of keys that have a window now, <= max_candidates.
  size_t candidates() const noexcept { return candidates_.size(); }

  /// Bytes held now (sketch, windows, keys, index), an estimate of the heap in use.
  size_t memory_bytes() const noexcept;

  /// Upper bound on the heap this counter can ever hold with its config, including
  /// allocator rounding (up to 16 bytes per allocation): memory_bytes() and the real
  /// heap in use stay below it whatever the number of distinct keys.
  size_t memory_bound() const noexcept;

private:
  struct candidate {
    /// Key bytes, owned; index_ holds a string_view into them.
    std::unique_ptr<char[]> key;
    /// Length of key.
    uint32_t key_size;
    /// XXH3 hash of the key, as given to the sketch.
    uint64_t hash;
    /// Exact count of the key since it became a candidate.
    sliding_window window;
  };

  bool admit(std::string_view key, uint64_t hash, uint32_t estimate, int64_t now_ms);
  void remove_at(uint32_t pos);
  uint64_t strength(const candidate& c, int64_t now_ms) const;

  /// Configuration after clamping.
  key_counter_config config_;
  /// Sees every key; fixed size.
  heavy_keeper sketch_;
  /// At most config_.max_candidates entries, capacity reserved up front.
  std::vector<candidate> candidates_;
  /// Key -> position in candidates_, one entry per candidate.
  std::unordered_map<std::string_view, uint32_t> index_;
  /// Time at which the sketch is next halved; moves one window at a time.
  int64_t next_aging_ms_;
  /// Newest time seen, so time going backwards is ignored for aging.
  int64_t latest_ms_;
  /// xorshift state for sampling eviction victims, never 0.
  uint64_t rng_;
};

} // namespace shoal::hotkey
