// key_counter: the counting core of a counter shard. It watches an unbounded stream of
// keys in bounded memory and says when a key's count over the sliding window reaches
// its threshold.
//
// Every key goes through `generations` heavy_keeper sketches (fixed size): each
// covers window_ms / generations, the newest takes the counts, and at every turn the
// oldest is emptied and becomes the newest. The sum of a key's estimates is a lower
// bound of its count over the last window (HeavyKeeper under-estimates; every
// generation lies inside the window). Once that sum reaches admit_fraction *
// threshold, the key becomes a candidate and gets an exact sliding_window; at most
// max_candidates keys have one. When candidates are full, a newcomer replaces the
// weakest of a few sampled candidates (weakest = lowest of the larger of window count
// and sketch estimate) if it is stronger.
//
// A new candidate's window is seeded with what each generation saw of it, placed at
// the generation's start, the earliest time it can have happened: those counts leave
// the window no later than the real accesses do. The window is then never above the
// key's true count (no false positives), and a key is reported at its true crossing
// but for the sketches' under-estimate and the pre-admission counts that left the
// window early (at most one generation's worth): small for keys that ramp up, as
// flash-sale keys do. (Without the seed, a key was reported only after threshold +
// admit_fraction * threshold accesses in one window.)
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
  /// Sketch that picks the candidates (one per generation).
  heavy_keeper_config sketch;
  /// Sketches, each covering window_ms / generations, in [2, 16]. More generations
  /// seed a new candidate's window closer to its true count (a crossing is reported
  /// sooner) and cost one sketch lookup each per key not yet a candidate.
  uint32_t generations = 4;
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

  bool admit(std::string_view key, uint64_t hash, uint64_t estimate, int64_t now_ms);
  void remove_at(uint32_t pos);
  uint64_t strength(const candidate& c, int64_t now_ms) const;
  /// Empties the oldest sketch and makes it the current one, from `now_ms`.
  void rotate(int64_t now_ms);
  /// Heap bytes of the sketches.
  size_t sketch_heap() const noexcept;
  /// Whether generation `g` holds only counts inside the window at `now_ms`.
  bool in_window(size_t g, int64_t now_ms) const noexcept;
  /// The key's estimate over the generations in the window, the current one's
  /// given (it comes from the add).
  uint64_t estimate(uint64_t hash, uint64_t current, int64_t now_ms) const;

  /// Configuration after clamping.
  key_counter_config config_;
  /// See every key, one generation each; fixed size. sketches_[current_] takes
  /// the counts; the one after it (cyclically) is the oldest.
  std::vector<heavy_keeper> sketches_;
  size_t current_ = 0;
  /// When each generation started taking counts (min: never).
  std::vector<int64_t> starts_;
  /// At most config_.max_candidates entries, capacity reserved up front.
  std::vector<candidate> candidates_;
  /// Key -> position in candidates_, one entry per candidate.
  std::unordered_map<std::string_view, uint32_t> index_;
  /// Time at which the sketches next rotate; moves a generation at a time.
  int64_t next_rotation_ms_;
  /// Newest time seen, so time going backwards is ignored for rotation.
  int64_t latest_ms_;
  /// xorshift state for sampling eviction victims, never 0.
  uint64_t rng_;
};

} // namespace shoal::hotkey
