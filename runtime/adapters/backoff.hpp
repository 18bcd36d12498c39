// backoff: the delays between retries of a failed call to an external system.
//
//   shoal::backoff delay{100ms, 2s};
//   while (!try_once())
//     sleep_for(delay.next());   // 100ms, 200ms, 400ms ... 2s, each with jitter
//   delay.reset();               // after a success
//
// Exponential with "equal jitter": each delay is half the current step plus a
// random share of the other half, so peers that failed together do not retry
// together, and no delay is shorter than half its step. Not thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <random>

namespace shoal {

class backoff {
public:
  using duration = std::chrono::milliseconds;

  backoff(duration initial, duration max)
      : initial_(std::max(initial, duration{1})), max_(std::max(max, initial_)),
        step_(initial_), rng_(std::random_device{}()) {}

  /// The delay before the next retry; doubles the step up to the maximum.
  duration next() {
    auto half = step_.count() / 2;
    std::uniform_int_distribution<long long> jitter{0, half};
    auto d = duration{step_.count() - half + jitter(rng_)};
    step_ = std::min(step_ * 2, max_);
    return d;
  }

  /// Back to the initial step (call after a success).
  void reset() { step_ = initial_; }

private:
  duration initial_;
  duration max_;
  // The step the next delay is drawn from; initial_ <= step_ <= max_.
  duration step_;
  std::minstd_rand rng_;
};

} // namespace shoal
