// backoff: the delays between retries of a failed call to another system (a peer,
// Redis, MySQL, an upstream API). The one implementation every retry loop uses.
//
//   shoal::backoff delay{100ms, 2s};
//   while (!try_once())
//     sleep_for(delay.next());   // 100ms, 200ms, 400ms ... 2s, each with jitter
//   delay.reset();               // after a success
//
// Exponential with "equal jitter": the n-th delay is drawn uniformly from [d/2, d],
// d = min(max, initial * 2^(n-1)), so peers that failed together do not retry
// together, and no delay is shorter than half its step. Code that counts failures
// itself (the token refresh policy) calls backoff_delay() with its own generator,
// which keeps its sequence reproducible under a fixed seed. Not thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace shoal {

/// The delay before retry number `failures` (1 = after the first failure): uniform
/// in [d/2, d] with d = min(max, initial * 2^(failures-1)). Zero when max is zero.
template <class Duration, class Rng>
Duration backoff_delay(Duration initial, Duration max, int failures, Rng& rng) {
  auto d = std::min(initial, max);
  for (int i = 1; i < failures && d < max; ++i)
    d *= 2;
  d = std::min(d, max);
  if (d <= Duration::zero())
    return Duration::zero();
  std::uniform_int_distribution<typename Duration::rep> pick(d.count() - d.count() / 2,
                                                             d.count());
  return Duration{pick(rng)};
}

/// A retry loop's delays: next() after each failure, reset() after a success.
class backoff {
public:
  using duration = std::chrono::milliseconds;

  backoff(duration initial, duration max, uint64_t seed = std::random_device{}())
      : initial_(std::max(initial, duration{1})), max_(std::max(max, initial_)),
        rng_(seed) {}

  /// The delay before the next retry; the step doubles up to the maximum.
  duration next() {
    failures_ = std::min(failures_ + 1, 64);
    return backoff_delay(initial_, max_, failures_, rng_);
  }

  /// Back to the initial step (call after a success).
  void reset() { failures_ = 0; }

  /// Failures since the last reset().
  int failures() const { return failures_; }

private:
  duration initial_;
  duration max_;
  int failures_ = 0;
  std::minstd_rand rng_;
};

} // namespace shoal
