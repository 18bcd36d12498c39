#include "actors/hotkey/core/key_counter.hpp"

#include <string>

#include <gtest/gtest.h>

namespace shoal::hotkey {
namespace {

key_counter_config small_config() {
  key_counter_config c;
  c.window = {1000, 10};
  c.max_candidates = 4;
  c.sketch = {256, 2, 1.08, 7};
  c.admit_fraction = 0.5;
  return c;
}

TEST(key_counter, key_gets_a_window_once_the_sketch_sees_enough) {
  key_counter kc{small_config()};
  // threshold 10, admit at 5: the first four records are only in the sketch.
  for (int i = 1; i <= 4; ++i) {
    auto seen = kc.record("a", 1, i, 10);
    EXPECT_FALSE(seen.candidate) << i;
    EXPECT_EQ(seen.count, 0u);
  }
  auto seen = kc.record("a", 1, 5, 10);
  EXPECT_TRUE(seen.candidate);
  EXPECT_EQ(seen.count, 1u) << "counts before admission are not in the window";
  EXPECT_EQ(kc.candidates(), 1u);
  EXPECT_EQ(kc.count("a", 5), 1u);
}

TEST(key_counter, threshold_exactly_reached_crosses_once) {
  key_counter kc{small_config()};
  kc.record("a", 5, 0, 10); // admitted by one weighted record, window holds 5
  auto seen = kc.record("a", 4, 1, 10);
  EXPECT_EQ(seen.count, 9u);
  EXPECT_FALSE(seen.hot);
  EXPECT_FALSE(seen.crossed);
  seen = kc.record("a", 1, 2, 10);
  EXPECT_EQ(seen.count, 10u);
  EXPECT_TRUE(seen.hot);
  EXPECT_TRUE(seen.crossed);
  seen = kc.record("a", 1, 3, 10);
  EXPECT_TRUE(seen.hot);
  EXPECT_FALSE(seen.crossed) << "already hot";
}

TEST(key_counter, cooling_below_threshold_then_crossing_again_reports_again) {
  key_counter kc{small_config()};
  kc.record("a", 20, 0, 10);
  EXPECT_EQ(kc.count("a", 999), 20u);
  EXPECT_EQ(kc.count("a", 1000), 0u) << "window moved past the burst";
  auto seen = kc.record("a", 10, 1500, 10);
  EXPECT_TRUE(seen.crossed);
  EXPECT_EQ(seen.count, 10u);
}

TEST(key_counter, one_big_batch_crosses) {
  key_counter kc{small_config()};
  auto seen = kc.record("a", 1000, 0, 10);
  EXPECT_TRUE(seen.candidate);
  EXPECT_TRUE(seen.crossed);
  EXPECT_EQ(seen.count, 1000u);
}

TEST(key_counter, candidates_stay_bounded_and_the_stronger_key_wins) {
  auto cfg = small_config();
  cfg.eviction_samples = 16; // with 4 candidates, sampling sees all of them
  key_counter kc{cfg};
  for (int k = 0; k < 4; ++k)
    kc.record("weak" + std::to_string(k), 6, 0, 10);
  EXPECT_EQ(kc.candidates(), 4u);
  auto seen = kc.record("strong", 50, 1, 10);
  EXPECT_TRUE(seen.candidate);
  EXPECT_EQ(kc.candidates(), 4u);
  EXPECT_EQ(kc.count("strong", 1), 50u);
  int weak_left = 0;
  for (int k = 0; k < 4; ++k)
    weak_left += kc.count("weak" + std::to_string(k), 1) > 0;
  EXPECT_EQ(weak_left, 3);
  // A newcomer no stronger than the weakest candidate is not admitted.
  seen = kc.record("meek", 5, 2, 10);
  EXPECT_FALSE(seen.candidate);
  EXPECT_EQ(kc.candidates(), 4u);
}

TEST(key_counter, overlong_keys_never_get_a_window) {
  auto cfg = small_config();
  cfg.max_key_bytes = 8;
  key_counter kc{cfg};
  auto seen = kc.record(std::string(9, 'x'), 100, 0, 10);
  EXPECT_FALSE(seen.candidate);
  EXPECT_EQ(kc.candidates(), 0u);
  EXPECT_TRUE(kc.record(std::string(8, 'x'), 100, 0, 10).crossed);
}

TEST(key_counter, sketch_ages_once_per_window) {
  auto cfg = small_config();
  cfg.admit_fraction = 1.0; // admit at estimate >= threshold
  key_counter kc{cfg};
  kc.record("a", 8, 0, 10);                // sketch 8, below admission
  kc.record("b", 1, 1000, 10);             // one window later: the sketch halves, a -> 4
  auto seen = kc.record("a", 5, 1001, 10); // 4 + 5 = 9 < 10
  EXPECT_FALSE(seen.candidate);
  seen = kc.record("a", 1, 1002, 10); // 10
  EXPECT_TRUE(seen.candidate);
}

TEST(key_counter, time_going_backwards_is_ignored) {
  key_counter kc{small_config()};
  kc.record("a", 6, 5000, 10);
  auto seen = kc.record("a", 4, 100, 10);
  EXPECT_EQ(seen.count, 10u);
  EXPECT_TRUE(seen.crossed);
}

TEST(key_counter, memory_estimate_stays_below_the_bound) {
  auto cfg = small_config();
  cfg.max_candidates = 100;
  cfg.max_key_bytes = 32;
  key_counter kc{cfg};
  for (int k = 0; k < 10000; ++k)
    kc.record("key-" + std::to_string(k % 500), 3, k, 2);
  EXPECT_EQ(kc.candidates(), 100u);
  EXPECT_LE(kc.memory_bytes(), kc.memory_bound());
}

} // namespace
} // namespace shoal::hotkey
