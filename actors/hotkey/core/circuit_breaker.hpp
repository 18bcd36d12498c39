// circuit_breaker: stops calling a failing or slow backend for a while, then probes it
// (the closed/open/half-open breaker of Sentinel and resilience4j).
//
//   closed ---(>= minimum_calls in the window and error ratio or slow ratio at or
//              above its threshold)---> open
//   open ---(open_ms passed, on the next try_acquire)---> half_open
//   half_open ---(half_open_probes results, ratios below thresholds)---> closed
//   half_open ---(half_open_probes results, a ratio at or above its threshold)---> open
//
// While open, try_acquire() says no and the caller answers with its fallback. In
// half-open, only half_open_probes calls are let through until their results are in.
//
//   if (!breaker.try_acquire(now_ms)) return fallback;
//   auto ok = load(...);
//   breaker.on_result(now_after_ms, elapsed_ms, ok);
//
// Time is passed in (steady milliseconds). Not thread-safe; one owner.
#pragma once

#include <cstdint>

#include "actors/hotkey/core/sliding_window.hpp"

namespace shoal::hotkey {

/// Thresholds and timings of a circuit_breaker.
struct circuit_breaker_config {
  /// Opens when errors / calls >= this (ratio in (0, 1]; > 1 never opens on errors).
  double error_ratio = 0.5;
  /// Opens when slow calls / calls >= this (ratio in (0, 1]; > 1 never opens on
  /// slowness).
  double slow_call_ratio = 1.0;
  /// A call that took at least this long is slow.
  int64_t slow_call_ms = 1000;
  /// Calls needed in the window before the ratios count, >= 1.
  uint32_t minimum_calls = 10;
  /// Window the closed state's statistics cover.
  window_shape window{10000, 10};
  /// How long the breaker stays open before probing.
  int64_t open_ms = 5000;
  /// Calls let through in half-open, whose results decide, >= 1.
  uint32_t half_open_probes = 3;
};

/// State of a circuit_breaker.
enum class breaker_state { closed, open, half_open };

/// "closed", "open" or "half_open": how /status and /metrics show it.
inline const char* to_string(breaker_state s) {
  switch (s) {
  case breaker_state::closed:
    return "closed";
  case breaker_state::open:
    return "open";
  default:
    return "half_open";
  }
}

/// A circuit breaker over one backend. Not thread-safe; one owner.
class circuit_breaker {
public:
  /// A closed breaker; out-of-range config values are clamped.
  explicit circuit_breaker(circuit_breaker_config config);

  /// May a call go to the backend at `now_ms`? Moves open -> half_open once open_ms
  /// has passed; in half-open, says yes to at most half_open_probes calls. O(1).
  bool try_acquire(int64_t now_ms);

  /// Records the result of a call let through by try_acquire(): finished at
  /// `now_ms`, took `duration_ms`, succeeded or not. May open or close the breaker.
  /// Results arriving while open (calls let through before it opened) are ignored.
  /// O(window slices).
  void on_result(int64_t now_ms, int64_t duration_ms, bool success);

  /// Current state (open stays open here until a try_acquire() after open_ms).
  breaker_state state() const noexcept { return state_; }

  /// Calls refused by try_acquire() so far.
  uint64_t rejected() const noexcept { return rejected_; }

  /// Times the breaker went to open so far.
  uint64_t trips() const noexcept { return trips_; }

private:
  bool over_threshold(uint64_t calls, uint64_t errors, uint64_t slow) const noexcept;
  void open(int64_t now_ms);
  void close();

  /// Configuration after clamping.
  circuit_breaker_config config_;
  /// Current state.
  breaker_state state_ = breaker_state::closed;
  /// Calls finished within the window while closed.
  sliding_window calls_;
  /// Failed calls within the window while closed; <= calls_.
  sliding_window errors_;
  /// Slow calls within the window while closed; <= calls_.
  sliding_window slow_;
  /// When open may turn half-open; meaningful in open.
  int64_t open_until_ms_ = 0;
  /// Probes let through in this half-open period, <= half_open_probes.
  uint32_t probes_issued_ = 0;
  /// Probe results in this half-open period, <= probes_issued_.
  uint32_t probe_calls_ = 0;
  /// Failed probe results, <= probe_calls_.
  uint32_t probe_errors_ = 0;
  /// Slow probe results, <= probe_calls_.
  uint32_t probe_slow_ = 0;
  /// Monotonic.
  uint64_t rejected_ = 0;
  /// Monotonic.
  uint64_t trips_ = 0;
};

} // namespace shoal::hotkey
