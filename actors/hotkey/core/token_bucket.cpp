#include "actors/hotkey/core/token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace shoal::hotkey {

namespace {

constexpr int64_t ns_per_ms = 1'000'000;

int64_t to_ns(int64_t ms) noexcept {
  constexpr int64_t limit = std::numeric_limits<int64_t>::max() / 4 / ns_per_ms;
  return std::clamp(ms, -limit, limit) * ns_per_ms;
}

} // namespace

token_bucket::token_bucket(double rate_per_second, uint32_t burst)
    : interval_ns_(std::max<int64_t>(
          1, std::llround(1e9 / std::clamp(rate_per_second, 0.001, 1e9)))),
      burst_(std::clamp<uint32_t>(burst, 1, 1'000'000)),
      capacity_ns_(interval_ns_ * burst_),
      tat_ns_(std::numeric_limits<int64_t>::min() / 2) {}

bool token_bucket::try_acquire(int64_t now_ms, uint32_t n) noexcept {
  if (n > burst_)
    return false;
  auto now = to_ns(now_ms);
  auto cost = interval_ns_ * n;
  auto tat = tat_ns_.load(std::memory_order_relaxed);
  for (;;) {
    auto next = std::max(tat, now) + cost;
    if (next - now > capacity_ns_)
      return false;
    if (tat_ns_.compare_exchange_weak(tat, next, std::memory_order_acq_rel,
                                      std::memory_order_relaxed))
      return true;
  }
}

uint32_t token_bucket::available(int64_t now_ms) const noexcept {
  auto now = to_ns(now_ms);
  auto ahead = std::max<int64_t>(0, tat_ns_.load(std::memory_order_relaxed) - now);
  return static_cast<uint32_t>(std::max<int64_t>(0, capacity_ns_ - ahead) / interval_ns_);
}

} // namespace shoal::hotkey
