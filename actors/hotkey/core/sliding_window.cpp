#include "actors/hotkey/core/sliding_window.hpp"

#include <algorithm>
#include <limits>

namespace shoal::hotkey {

int64_t window_shape::slice_ms() const noexcept {
  auto w = std::max<int64_t>(window_ms, 1);
  auto s = static_cast<int64_t>(std::max<uint32_t>(slices, 1));
  return std::max<int64_t>((w + s - 1) / s, 1);
}

sliding_window::sliding_window(window_shape shape)
    : slice_ms_(shape.slice_ms()), slices_(std::max<uint32_t>(shape.slices, 1)),
      head_(std::numeric_limits<int64_t>::min()), counts_(new uint32_t[slices_]()) {}

int64_t sliding_window::epoch_of(int64_t now_ms) const noexcept {
  // Floor division so that negative times also map to consistent slices.
  auto q = now_ms / slice_ms_;
  if (now_ms % slice_ms_ != 0 && now_ms < 0)
    --q;
  return q;
}

size_t sliding_window::slot_of(int64_t epoch) const noexcept {
  auto s = static_cast<int64_t>(slices_);
  return static_cast<size_t>(((epoch % s) + s) % s);
}

void sliding_window::advance_to(int64_t epoch) {
  if (head_ == std::numeric_limits<int64_t>::min()) {
    head_ = epoch;
    return;
  }
  if (epoch <= head_)
    return;
  auto steps = epoch - head_;
  if (steps >= slices_) {
    std::fill(counts_.get(), counts_.get() + slices_, 0u);
  } else {
    for (int64_t e = head_ + 1; e <= epoch; ++e)
      counts_[slot_of(e)] = 0;
  }
  head_ = epoch;
}

void sliding_window::add(int64_t now_ms, uint64_t n) {
  advance_to(epoch_of(now_ms));
  auto& slot = counts_[slot_of(head_)];
  constexpr uint64_t max = std::numeric_limits<uint32_t>::max();
  slot = static_cast<uint32_t>(std::min<uint64_t>(max, slot + std::min(n, max)));
}

uint64_t sliding_window::total(int64_t now_ms) const {
  if (head_ == std::numeric_limits<int64_t>::min())
    return 0;
  auto now = std::max(epoch_of(now_ms), head_);
  // Live epochs: (now - slices_, head_].
  auto oldest = std::max(head_ - static_cast<int64_t>(slices_) + 1,
                         now - static_cast<int64_t>(slices_) + 1);
  uint64_t sum = 0;
  for (int64_t e = oldest; e <= head_; ++e)
    sum += counts_[slot_of(e)];
  return sum;
}

size_t sliding_window::memory_bytes() const noexcept {
  return sizeof(*this) + slices_ * sizeof(uint32_t);
}

} // namespace shoal::hotkey
