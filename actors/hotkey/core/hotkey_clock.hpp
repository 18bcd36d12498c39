// hotkey_clock: the time source of the hot-key pipeline, in milliseconds. Normally the
// steady clock; a replay sets it by hand so that trace time drives the windows.
//
//   auto clock = std::make_shared<hotkey_clock>();   // steady
//   clock->set_manual(trace_ms);                     // from now on, trace time
//
// Thread-safe and lock-free.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace shoal::hotkey {

/// Steady or manually driven milliseconds. Thread-safe.
class hotkey_clock {
public:
  /// Milliseconds now: the steady clock, or the last set_manual() value.
  int64_t now_ms() const noexcept {
    if (manual_.load(std::memory_order_acquire))
      return manual_ms_.load(std::memory_order_acquire);
    return steady_ms();
  }

  /// Switches to manual time and sets it to `ms`.
  void set_manual(int64_t ms) noexcept {
    manual_ms_.store(ms, std::memory_order_release);
    manual_.store(true, std::memory_order_release);
  }

  /// True once set_manual() was called.
  bool manual() const noexcept { return manual_.load(std::memory_order_acquire); }

  /// The steady clock in milliseconds.
  static int64_t steady_ms() noexcept {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  }

  /// The wall clock in microseconds since the epoch (comparable across processes of
  /// one machine), for push latency.
  static int64_t wall_us() noexcept {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  }

private:
  /// Set once by set_manual().
  std::atomic<bool> manual_{false};
  /// Meaningful while manual_.
  std::atomic<int64_t> manual_ms_{0};
};

} // namespace shoal::hotkey
