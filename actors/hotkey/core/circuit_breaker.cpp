#include "actors/hotkey/core/circuit_breaker.hpp"

#include <algorithm>

namespace shoal::hotkey {

namespace {

circuit_breaker_config clamp(circuit_breaker_config c) {
  c.minimum_calls = std::max<uint32_t>(c.minimum_calls, 1);
  c.half_open_probes = std::max<uint32_t>(c.half_open_probes, 1);
  c.open_ms = std::max<int64_t>(c.open_ms, 0);
  if (!(c.error_ratio > 0.0))
    c.error_ratio = 1.0;
  if (!(c.slow_call_ratio > 0.0))
    c.slow_call_ratio = 1.0;
  return c;
}

} // namespace

circuit_breaker::circuit_breaker(circuit_breaker_config config)
    : config_(clamp(config)), calls_(config_.window), errors_(config_.window),
      slow_(config_.window) {}

bool circuit_breaker::over_threshold(uint64_t calls, uint64_t errors,
                                     uint64_t slow) const noexcept {
  if (calls == 0)
    return false;
  auto n = static_cast<double>(calls);
  return static_cast<double>(errors) / n >= config_.error_ratio ||
         static_cast<double>(slow) / n >= config_.slow_call_ratio;
}

void circuit_breaker::open(int64_t now_ms) {
  state_ = breaker_state::open;
  open_until_ms_ = now_ms + config_.open_ms;
  ++trips_;
}

void circuit_breaker::close() {
  state_ = breaker_state::closed;
  calls_ = sliding_window{config_.window};
  errors_ = sliding_window{config_.window};
  slow_ = sliding_window{config_.window};
}

bool circuit_breaker::try_acquire(int64_t now_ms) {
  if (state_ == breaker_state::open && now_ms >= open_until_ms_) {
    state_ = breaker_state::half_open;
    probes_issued_ = probe_calls_ = probe_errors_ = probe_slow_ = 0;
  }
  switch (state_) {
  case breaker_state::closed:
    return true;
  case breaker_state::half_open:
    if (probes_issued_ < config_.half_open_probes) {
      ++probes_issued_;
      return true;
    }
    break;
  case breaker_state::open:
    break;
  }
  ++rejected_;
  return false;
}

void circuit_breaker::on_result(int64_t now_ms, int64_t duration_ms, bool success) {
  bool slow = duration_ms >= config_.slow_call_ms;
  switch (state_) {
  case breaker_state::open:
    return;
  case breaker_state::closed: {
    calls_.add(now_ms);
    if (!success)
      errors_.add(now_ms);
    if (slow)
      slow_.add(now_ms);
    auto calls = calls_.total(now_ms);
    if (calls >= config_.minimum_calls &&
        over_threshold(calls, errors_.total(now_ms), slow_.total(now_ms)))
      open(now_ms);
    return;
  }
  case breaker_state::half_open:
    if (probe_calls_ >= probes_issued_)
      return; // a late result of a call let through before the breaker opened
    ++probe_calls_;
    probe_errors_ += success ? 0 : 1;
    probe_slow_ += slow ? 1 : 0;
    if (probe_calls_ < config_.half_open_probes)
      return;
    if (over_threshold(probe_calls_, probe_errors_, probe_slow_))
      open(now_ms);
    else
      close();
    return;
  }
}

} // namespace shoal::hotkey
