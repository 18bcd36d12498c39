// heavy_keeper: a fixed-size sketch that finds the heavy keys of a stream with
// count-with-exponential-decay (HeavyKeeper, Gong et al., USENIX ATC 2018).
//
// `depth` rows of `width` buckets; each bucket holds a key fingerprint and a count.
// A key maps to one bucket per row. Adding a key: where its fingerprint sits, the
// count grows; where the bucket is empty, the key takes it; elsewhere the resident
// count decays by one with probability decay_base^-count, so small counts are
// replaced quickly and large ones almost never. A key's estimate is the largest
// count it holds in any row: it never exceeds the key's true count except on a
// fingerprint collision (1 in 2^32 per bucket), and heavy keys are estimated closely.
//
// Memory is depth * width * 8 bytes, fixed at construction, whatever the number of
// distinct keys. Keys come in hashed (64 bits), so the caller hashes once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace shoal::hotkey {

/// Size and behaviour of a heavy_keeper.
struct heavy_keeper_config {
  /// Buckets per row, >= 1.
  uint32_t width = 4096;
  /// Number of rows, >= 1.
  uint32_t depth = 2;
  /// Decay base b > 1: a resident count c decays with probability b^-c (paper: 1.08).
  double decay_base = 1.08;
  /// Seed of the decay coin flips, so runs are reproducible.
  uint64_t seed = 0x5eed;
};

/// Top-k candidate sketch. Not thread-safe; one owner.
class heavy_keeper {
public:
  /// Builds an empty sketch; width and depth below 1 are clamped to 1, a decay base
  /// <= 1 to 1.08.
  explicit heavy_keeper(heavy_keeper_config config);

  /// Adds `n` occurrences of the key with hash `key_hash` and returns its new
  /// estimate. O(depth) when the key holds its buckets, O(depth * n) worst case.
  uint32_t add(uint64_t key_hash, uint32_t n = 1);

  /// Halves every count, so that old traffic fades (aging). O(depth * width).
  void halve() noexcept;

  /// Empties every bucket. O(depth * width).
  void clear() noexcept;

  /// Current estimate of the key with hash `key_hash`. O(depth).
  uint32_t estimate(uint64_t key_hash) const;

  /// Bytes held: fixed at construction.
  size_t memory_bytes() const noexcept;

private:
  struct bucket {
    /// Fingerprint of the resident key; meaningless while count == 0.
    uint32_t fingerprint;
    /// Decayed count of the resident key; 0 means the bucket is free.
    uint32_t count;
  };

  size_t index_of(uint64_t key_hash, uint32_t row) const noexcept;
  bool decays(uint32_t count) noexcept;

  /// Buckets per row, >= 1.
  uint32_t width_;
  /// Number of rows, >= 1.
  uint32_t depth_;
  /// Row r occupies buckets_[r * width_, (r + 1) * width_).
  std::vector<bucket> buckets_;
  /// decay_threshold_[c] = 2^32 * b^-c; counts past its end never decay.
  std::vector<uint32_t> decay_threshold_;
  /// xorshift state, never 0.
  uint64_t rng_;
};

} // namespace shoal::hotkey
