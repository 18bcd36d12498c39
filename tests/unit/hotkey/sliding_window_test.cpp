#include "actors/hotkey/core/sliding_window.hpp"

#include <gtest/gtest.h>

namespace shoal::hotkey {
namespace {

TEST(sliding_window, empty_window_counts_nothing) {
  sliding_window w{{1000, 10}};
  EXPECT_EQ(w.total(0), 0u);
  EXPECT_EQ(w.total(123456), 0u);
}

TEST(sliding_window, counts_within_one_window) {
  sliding_window w{{1000, 10}};
  for (int64_t t = 0; t < 1000; t += 10)
    w.add(t, 2);
  EXPECT_EQ(w.total(999), 200u);
}

TEST(sliding_window, slices_expire_one_by_one) {
  sliding_window w{{1000, 10}}; // 100 ms slices
  for (int64_t slice = 0; slice < 10; ++slice)
    w.add(slice * 100, slice + 1); // slice k holds k+1
  EXPECT_EQ(w.total(999), 55u);
  EXPECT_EQ(w.total(1000), 54u) << "slice 0 fell out";
  EXPECT_EQ(w.total(1099), 54u) << "same slice, nothing more falls out";
  EXPECT_EQ(w.total(1100), 52u);
  EXPECT_EQ(w.total(1899), 10u) << "only the newest slice is left";
  EXPECT_EQ(w.total(1900), 0u);
}

TEST(sliding_window, rollover_reuses_slots_after_a_gap) {
  sliding_window w{{1000, 10}};
  w.add(0, 5);
  w.add(550, 7);
  w.add(1250, 3); // clears slices 1..12 -> slot of epoch 5 survives (epoch 5 >= 3)
  EXPECT_EQ(w.total(1250), 10u);
  w.add(5000, 1); // jump farther than the whole window
  EXPECT_EQ(w.total(5000), 1u);
  EXPECT_EQ(w.total(5999), 1u);
  EXPECT_EQ(w.total(6000), 0u);
}

TEST(sliding_window, time_going_backwards_is_ignored) {
  sliding_window w{{1000, 10}};
  w.add(5000, 1);
  w.add(4000, 1); // older than newest: counts in the newest slice, no reset
  EXPECT_EQ(w.total(5000), 2u);
  EXPECT_EQ(w.total(100), 2u) << "a query in the past answers as of the newest time";
  EXPECT_EQ(w.total(6000), 0u);
}

TEST(sliding_window, odd_shapes_round_slices_up) {
  sliding_window w{{1000, 3}}; // 334 ms slices -> covers 1002 ms
  EXPECT_EQ(w.shape().window_ms, 1002);
  w.add(0, 1);
  EXPECT_EQ(w.total(1001), 1u);
  EXPECT_EQ(w.total(1002), 0u);
}

TEST(sliding_window, single_slice_window_is_a_tumbling_window) {
  sliding_window w{{100, 1}};
  w.add(10, 4);
  w.add(99, 1);
  EXPECT_EQ(w.total(99), 5u);
  EXPECT_EQ(w.total(100), 0u);
}

TEST(sliding_window, invalid_shapes_are_clamped) {
  sliding_window w{{0, 0}};
  EXPECT_EQ(w.shape().window_ms, 1);
  EXPECT_EQ(w.shape().slices, 1u);
  w.add(7, 3);
  EXPECT_EQ(w.total(7), 3u);
  EXPECT_EQ(w.total(8), 0u);
}

TEST(sliding_window, negative_times_map_to_consistent_slices) {
  sliding_window w{{1000, 10}};
  w.add(-150, 1); // epoch -2
  w.add(-50, 1);  // epoch -1
  w.add(50, 1);   // epoch 0
  EXPECT_EQ(w.total(50), 3u);
  EXPECT_EQ(w.total(850), 2u) << "epoch -2 fell out";
}

TEST(sliding_window, counts_saturate_instead_of_wrapping) {
  sliding_window w{{1000, 1}};
  w.add(0, 0xffffffffull);
  w.add(0, 10);
  EXPECT_EQ(w.total(0), 0xffffffffull);
}

} // namespace
} // namespace shoal::hotkey
