// token_bucket: a rate limiter that allows `rate` acquisitions per second on average
// and bursts of up to `burst` at once.
//
// It is kept as one number, the theoretical arrival time (GCRA): each acquisition
// pushes it forward by 1/rate; an acquisition is allowed while it stays within
// burst/rate of now. That is exactly a token bucket holding up to `burst` tokens,
// and it lets try_acquire() be a single lock-free compare-and-swap.
//
//   token_bucket bucket{1000.0, 50};        // 1000/s, bursts of 50
//   if (!bucket.try_acquire(now_ms)) return fallback;
//
// Time is passed in (steady milliseconds). Time going backwards never adds tokens.
#pragma once

#include <atomic>
#include <cstdint>

namespace shoal::hotkey {

/// Lock-free token bucket. Thread-safe: try_acquire() and available() may be called
/// concurrently from any threads.
class token_bucket {
public:
  /// A full bucket refilling `rate_per_second` tokens per second (clamped to
  /// [0.001, 1e9]) holding at most `burst` tokens (clamped to [1, 1e6]).
  token_bucket(double rate_per_second, uint32_t burst);

  token_bucket(const token_bucket&) = delete;
  token_bucket& operator=(const token_bucket&) = delete;

  /// Takes `n` tokens if the bucket holds them at `now_ms`; false (and takes nothing)
  /// otherwise. Lock-free, O(1); retries only when other threads race on this bucket.
  bool try_acquire(int64_t now_ms, uint32_t n = 1) noexcept;

  /// Whole tokens in the bucket at `now_ms`. O(1).
  uint32_t available(int64_t now_ms) const noexcept;

  /// Largest number of tokens the bucket holds.
  uint32_t burst() const noexcept { return burst_; }

private:
  /// Nanoseconds for one token to refill, >= 1.
  int64_t interval_ns_;
  /// Tokens the bucket holds when full, >= 1.
  uint32_t burst_;
  /// burst_ * interval_ns_: how far tat_ns_ may run ahead of now.
  int64_t capacity_ns_;
  /// Theoretical arrival time in ns: the bucket is full when tat_ns_ <= now, and holds
  /// (capacity_ns_ - (tat_ns_ - now)) / interval_ns_ tokens otherwise.
  std::atomic<int64_t> tat_ns_;
};

} // namespace shoal::hotkey
