// sliding_window: the count of one key over the last `window_ms` milliseconds, kept as a
// ring of time slices (JD hotkey's method). A slice covers `window_ms / slices`
// milliseconds; when time moves past a slice's end, that slice's count falls out.
//
//   sliding_window w{{1000, 10}};   // 1 s window, ten 100 ms slices
//   w.add(now_ms, 1);
//   if (w.total(now_ms) >= threshold) ...
//
// Time is passed in (steady milliseconds) and never read here, so tests and trace
// replay control it. Time going backwards is ignored: an add() older than the newest
// time seen counts in the newest slice, and a total() older than it answers as of it.
#pragma once

#include <cstdint>
#include <memory>

namespace shoal::hotkey {

/// Shape of a sliding window.
struct window_shape {
  /// Length of the window in milliseconds, >= 1.
  int64_t window_ms = 1000;
  /// Number of slices the window is cut into, >= 1. More slices expire counts more
  /// smoothly and cost 4 bytes each.
  uint32_t slices = 10;

  /// Milliseconds covered by one slice: window_ms / slices rounded up, >= 1.
  int64_t slice_ms() const noexcept;
};

/// Counts one key over a sliding time window. Not thread-safe; one owner.
class sliding_window {
public:
  /// Builds an empty window. Invalid shapes (window_ms < 1, slices < 1) are clamped
  /// to 1.
  explicit sliding_window(window_shape shape);

  sliding_window(sliding_window&&) noexcept = default;
  sliding_window& operator=(sliding_window&&) noexcept = default;

  /// Adds `n` at time `now_ms`. O(slices) when time jumps, O(1) otherwise. Counts
  /// saturate at 2^32-1 per slice.
  void add(int64_t now_ms, uint64_t n = 1);

  /// Sum of the slices still inside the window at `now_ms`. O(slices); does not modify.
  uint64_t total(int64_t now_ms) const;

  /// Bytes this window holds on the heap plus its own size.
  size_t memory_bytes() const noexcept;

  /// The shape this window was built with (after clamping).
  window_shape shape() const noexcept { return {slice_ms_ * slices_, slices_}; }

private:
  int64_t epoch_of(int64_t now_ms) const noexcept;
  void advance_to(int64_t epoch);
  size_t slot_of(int64_t epoch) const noexcept;

  /// Length of one slice in ms, >= 1.
  int64_t slice_ms_;
  /// Number of slices in counts_, >= 1.
  uint32_t slices_;
  /// Newest slice epoch (now / slice_ms) seen; slices hold epochs head_-slices_+1..head_.
  int64_t head_;
  /// counts_[slot_of(e)] is the count of epoch e for e in the live range.
  std::unique_ptr<uint32_t[]> counts_;
};

} // namespace shoal::hotkey
