#include "actors/hotkey/core/key_counter.hpp"

#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

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
  EXPECT_EQ(seen.count, 5u) << "the window is seeded with what the sketch saw";
  EXPECT_EQ(kc.candidates(), 1u);
  EXPECT_EQ(kc.count("a", 5), 5u);
  // The seed counts as of the start of the sketch's generation (t=1): it leaves
  // the window no later than the real accesses (t=1..4) do, here with the slice
  // they share.
  EXPECT_EQ(kc.count("a", 999), 5u);
  EXPECT_EQ(kc.count("a", 1000), 0u);
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

TEST(key_counter, sketches_rotate_every_generation) {
  auto cfg = small_config();
  cfg.admit_fraction = 1.0; // admit at estimate >= threshold
  key_counter kc{cfg};
  kc.record("a", 8, 0, 10);               // sketch 8, below admission
  kc.record("b", 1, 500, 10);             // the sketches rotate (every 250 ms)
  auto seen = kc.record("a", 1, 600, 10); // 8 (older generation) + 1 = 9 < 10
  EXPECT_FALSE(seen.candidate);
  seen = kc.record("a", 1, 700, 10); // 10: admitted, seeded, and hot at once
  EXPECT_TRUE(seen.candidate);
  EXPECT_EQ(seen.count, 10u);
  EXPECT_TRUE(seen.crossed);
  // The 8 seeded from the older generation count as of t=0: gone once t=0 leaves.
  EXPECT_EQ(kc.count("a", 999), 10u);
  EXPECT_EQ(kc.count("a", 1000), 2u);
}

TEST(key_counter, counts_older_than_a_window_are_not_seeded) {
  auto cfg = small_config();
  cfg.admit_fraction = 1.0;
  key_counter kc{cfg};
  kc.record("a", 8, 0, 10);
  kc.record("b", 1, 500, 10);  // rotation: an older generation holds a's 8
  kc.record("b", 1, 1000, 10); // a window after that generation's start
  auto seen = kc.record("a", 2, 1001, 10);
  EXPECT_FALSE(seen.candidate) << "a's 8 accesses at t=0 are out of the window";
  // A lull longer than a window: the older generations are out of it too.
  kc.record("c", 8, 1200, 10);
  kc.record("d", 1, 5000, 10);
  EXPECT_FALSE(kc.record("c", 2, 5001, 10).candidate);
}

// A trace with a uniform background over 100,000 keys, keys ramping up (as flash
// sales do) at staggered starts, and steady keys just under the threshold; the
// ground truth is an exact count of each tracked key's accesses in the last window.
TEST(key_counter, ramping_keys_are_reported_within_a_slice_of_their_true_crossing) {
  key_counter_config cfg;
  cfg.window = {1000, 10};
  cfg.max_candidates = 1000;
  cfg.sketch = {4096, 2, 1.08, 11};
  cfg.admit_fraction = 0.25;
  key_counter kc{cfg};
  constexpr uint64_t threshold = 400;
  std::mt19937_64 rng{3};
  std::uniform_int_distribution<int> background{0, 99999};
  std::map<std::string, std::deque<int64_t>> window;
  std::map<std::string, int64_t> crossed_at, reported_at;
  auto access = [&](const std::string& key, int64_t t) {
    auto& w = window[key];
    w.push_back(t);
    while (w.front() <= t - 1000)
      w.pop_front();
    auto exact = static_cast<uint64_t>(w.size());
    if (exact >= threshold && !crossed_at.count(key))
      crossed_at[key] = t;
    auto seen = kc.record(key, 1, t, threshold);
    if (seen.hot) {
      ASSERT_GE(exact, threshold) << key << " reported hot at t=" << t << " with "
                                  << exact << " accesses in the window";
      reported_at.emplace(key, t);
    }
  };
  struct source {
    std::string key;
    int64_t start;
    /// Accesses per ms: (t - start) * slope + base.
    double slope, base;
    double due = 0;
  };
  std::vector<source> sources;
  for (int k = 0; k < 8; ++k)
    sources.push_back({"ramp:" + std::to_string(k), 300 * k, 1.0 / 2000, 0});
  for (int k = 0; k < 3; ++k)
    sources.push_back({"steady:" + std::to_string(k), 0, 0, 0.35});
  for (int64_t t = 0; t < 6000; ++t) {
    for (int j = 0; j < 20; ++j) {
      auto key = "bg:" + std::to_string(background(rng));
      ASSERT_FALSE(kc.record(key, 1, t, threshold).hot) << key << " at t=" << t;
    }
    for (auto& src : sources) {
      if (t < src.start)
        continue;
      src.due += static_cast<double>(t - src.start) * src.slope + src.base;
      for (; src.due >= 1; src.due -= 1) {
        access(src.key, t);
        if (HasFatalFailure())
          return;
      }
    }
  }
  for (int k = 0; k < 8; ++k) {
    auto key = "ramp:" + std::to_string(k);
    ASSERT_TRUE(crossed_at.count(key)) << key;
    ASSERT_TRUE(reported_at.count(key)) << key << " crossed at " << crossed_at[key];
    EXPECT_GE(reported_at[key], crossed_at[key]) << key;
    // One slice: 100 ms.
    EXPECT_LE(reported_at[key] - crossed_at[key], 100)
        << key << " crossed at " << crossed_at[key] << ", reported at "
        << reported_at[key];
  }
  for (int k = 0; k < 3; ++k)
    EXPECT_FALSE(reported_at.count("steady:" + std::to_string(k)));
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
