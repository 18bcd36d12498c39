// hotkey_stats: the hot-key service's counters, written by its actors and readers and
// read by /status and /metrics. Plain atomics; thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace shoal::hotkey {

/// Monotonic counters of one node's hot-key pipeline. Thread-safe.
struct hotkey_stats {
  /// Keys this node's shard declared hot.
  std::atomic<uint64_t> detections{0};
  /// Hot keys received by this node's cache actor (new or extended).
  std::atomic<uint64_t> hot_received{0};
  /// Key counts sent by this node's recorder to shards.
  std::atomic<uint64_t> counts_sent{0};
  /// Accesses the recorder could not route (no live shard).
  std::atomic<uint64_t> counts_unrouted{0};
  /// get() answered from the hot cache.
  std::atomic<uint64_t> cache_hits{0};
  /// get() of a hot key not in the hot cache.
  std::atomic<uint64_t> cache_misses{0};
  /// Loader calls made (the reads that reached the backend).
  std::atomic<uint64_t> loader_calls{0};
  /// Loader calls that threw.
  std::atomic<uint64_t> loader_failures{0};
  /// get() calls that shared another caller's loader call.
  std::atomic<uint64_t> loads_shared{0};
  /// get() calls refused by a rate limit.
  std::atomic<uint64_t> limiter_rejections{0};
  /// get() calls refused by the open breaker.
  std::atomic<uint64_t> breaker_rejections{0};
  /// get() calls answered with the fallback.
  std::atomic<uint64_t> fallbacks{0};
  /// Keys invalidated by a message on the Redis invalidation channel.
  std::atomic<uint64_t> invalidations_received{0};

  /// Records one push latency (detection at a shard to arrival here), microseconds.
  void push_latency(int64_t us) {
    std::lock_guard<std::mutex> guard{latency_lock_};
    if (latencies_.size() < 100000)
      latencies_.push_back(us);
  }

  /// Takes the push latencies recorded since the last call.
  std::vector<int64_t> take_push_latencies() {
    std::lock_guard<std::mutex> guard{latency_lock_};
    std::vector<int64_t> out;
    out.swap(latencies_);
    return out;
  }

private:
  std::mutex latency_lock_;
  /// Bounded: samples past 100000 between two takes are dropped.
  std::vector<int64_t> latencies_;
};

} // namespace shoal::hotkey
