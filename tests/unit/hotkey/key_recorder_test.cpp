#include "actors/hotkey/core/key_recorder.hpp"

#include <algorithm>
#include <map>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace shoal::hotkey {
namespace {

std::map<std::string, uint64_t>
as_map(std::vector<std::pair<std::string, uint64_t>> counts) {
  std::map<std::string, uint64_t> out;
  for (auto& [key, n] : counts) {
    EXPECT_EQ(out.count(key), 0u) << key << " appears twice in one drain";
    out[key] = n;
  }
  return out;
}

TEST(key_recorder, drain_returns_counts_since_the_last_drain) {
  key_recorder rec;
  rec.record("a");
  rec.record("a");
  rec.record("b", 5);
  EXPECT_EQ(as_map(rec.drain()), (std::map<std::string, uint64_t>{{"a", 2}, {"b", 5}}));
  EXPECT_TRUE(rec.drain().empty()) << "a drain empties the recorder";
  rec.record("a");
  EXPECT_EQ(as_map(rec.drain()), (std::map<std::string, uint64_t>{{"a", 1}}));
  EXPECT_EQ(rec.recorded(), 8u) << "recorded() is monotonic across drains";
  EXPECT_EQ(rec.dropped(), 0u);
}

TEST(key_recorder, threads_on_different_stripes_merge_into_one_count_per_key) {
  key_recorder rec;
  constexpr int threads = 8;
  constexpr int per_thread = 20000;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&rec, t] {
      for (int i = 0; i < per_thread; ++i) {
        rec.record("shared");
        rec.record("own:" + std::to_string(t));
      }
    });
  for (auto& th : pool)
    th.join();
  auto counts = as_map(rec.drain());
  EXPECT_EQ(counts["shared"], uint64_t{threads} * per_thread);
  for (int t = 0; t < threads; ++t)
    EXPECT_EQ(counts["own:" + std::to_string(t)], uint64_t{per_thread});
  EXPECT_EQ(counts.size(), size_t{threads} + 1);
  EXPECT_EQ(rec.recorded(), uint64_t{threads} * per_thread * 2);
}

TEST(key_recorder, drains_racing_with_records_lose_nothing) {
  key_recorder rec;
  constexpr int writers = 4;
  constexpr int per_writer = 50000;
  std::atomic<int> done{0};
  std::map<std::string, uint64_t> total;
  std::thread drainer{[&] {
    for (;;) {
      bool last = done.load() == writers;
      for (auto& [key, n] : rec.drain())
        total[key] += n;
      if (last)
        return;
      std::this_thread::yield();
    }
  }};
  std::vector<std::thread> pool;
  for (int t = 0; t < writers; ++t)
    pool.emplace_back([&] {
      for (int i = 0; i < per_writer; ++i)
        rec.record("k" + std::to_string(i % 16));
      done.fetch_add(1);
    });
  for (auto& th : pool)
    th.join();
  drainer.join();
  uint64_t sum = 0;
  for (auto& [key, n] : total)
    sum += n;
  EXPECT_EQ(sum, uint64_t{writers} * per_writer);
  EXPECT_EQ(total.size(), 16u);
  static_assert(per_writer % 16 == 0);
  EXPECT_EQ(total["k0"], uint64_t{writers} * per_writer / 16);
}

TEST(key_recorder, new_keys_past_the_bound_are_dropped_and_counted) {
  // 64 stripes share the bound: one thread's stripe holds max_keys / 64 keys.
  key_recorder rec{64 * 4};
  for (int i = 0; i < 10; ++i)
    rec.record("k" + std::to_string(i), 2);
  EXPECT_EQ(rec.recorded(), 8u) << "4 keys fit in this thread's stripe";
  EXPECT_EQ(rec.dropped(), 12u);
  rec.record("k0", 3); // a key already held still counts
  auto counts = as_map(rec.drain());
  EXPECT_EQ(counts.size(), 4u);
  EXPECT_EQ(counts["k0"], 5u);
  // After a drain the stripe has room again.
  rec.record("k9");
  EXPECT_EQ(as_map(rec.drain()), (std::map<std::string, uint64_t>{{"k9", 1}}));
  EXPECT_EQ(rec.dropped(), 12u);
}

TEST(key_recorder, a_tiny_bound_still_holds_one_key_per_stripe) {
  key_recorder rec{1};
  rec.record("a");
  rec.record("b");
  EXPECT_EQ(as_map(rec.drain()), (std::map<std::string, uint64_t>{{"a", 1}}));
  EXPECT_EQ(rec.dropped(), 1u);
}

} // namespace
} // namespace shoal::hotkey
