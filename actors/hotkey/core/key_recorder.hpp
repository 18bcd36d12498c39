// key_recorder: node-local pre-aggregation of key accesses. Application threads call
// record(key) (a few tens of nanoseconds: one uncontended lock and one probe of a Swiss
// table by string_view, no allocation for a key seen in the last flush);
// the recorder actor drains the counts every flush_ms and sends them, batched per
// shard, to the counter shards.
//
//   key_recorder counts;
//   counts.record("sku:42");              // any thread
//   for (auto& [key, n] : counts.drain()) ...
//
// Counts are kept in stripes, each with its own lock and map; a thread always uses the
// stripe its id hashes to, so threads rarely share a lock. drain() takes the counts and
// zeroes them, keeping the keys (a key recorded every flush is never re-inserted) and
// removing those idle for a whole flush, or every key when the stripe is 3/4 full.
// Memory: at most max_keys distinct keys are
// held; accesses of further new keys are dropped and counted in dropped().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/strings/string_view.h>

namespace shoal::hotkey {

/// Thread-safe access counts, drained in batches.
class key_recorder {
public:
  /// At most `max_keys` distinct keys between drains (>= 1).
  explicit key_recorder(size_t max_keys = 1u << 20);

  /// Counts `n` accesses of `key`. Thread-safe; lock held for one map probe.
  void record(std::string_view key, uint64_t n = 1);

  /// Takes every count recorded since the last drain, merged over the stripes.
  /// Thread-safe.
  std::vector<std::pair<std::string, uint64_t>> drain();

  /// Accesses recorded so far (monotonic).
  uint64_t recorded() const;

  /// Accesses dropped because max_keys distinct keys were waiting (monotonic).
  uint64_t dropped() const;

private:
  struct alignas(64) stripe {
    std::mutex lock;
    /// Key -> accesses since the last drain (0: idle since then).
    absl::flat_hash_map<std::string, uint64_t> counts;
    /// Accesses counted in this stripe, monotonic.
    uint64_t recorded = 0;
    /// Accesses dropped in this stripe because it was full, monotonic.
    uint64_t dropped = 0;
  };

  stripe& mine();

  /// Fixed at construction; a power of two.
  std::vector<std::unique_ptr<stripe>> stripes_;
  /// Distinct keys one stripe may hold between drains.
  size_t per_stripe_;
};

} // namespace shoal::hotkey
