#include "actors/hotkey/core/key_rate_limiter.hpp"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace shoal::hotkey {
namespace {

TEST(key_rate_limiter, each_key_has_its_own_bucket) {
  key_rate_limiter l{{10.0, 2, 100, 4}};
  EXPECT_TRUE(l.try_acquire("a", 0));
  EXPECT_TRUE(l.try_acquire("a", 0));
  EXPECT_FALSE(l.try_acquire("a", 0));
  EXPECT_TRUE(l.try_acquire("b", 0)) << "b is not limited by a";
  EXPECT_TRUE(l.try_acquire("a", 100)) << "a refills";
}

TEST(key_rate_limiter, a_flood_of_distinct_keys_stays_bounded) {
  key_rate_limiter l{{10.0, 2, 1000, 8}};
  for (int i = 0; i < 200000; ++i)
    EXPECT_TRUE(l.try_acquire("k" + std::to_string(i), 0));
  EXPECT_LE(l.size(), l.max_keys());
  EXPECT_EQ(l.max_keys(), 1000u);
  EXPECT_GE(l.evictions(), 200000u - 1000u);
}

TEST(key_rate_limiter, recently_used_keys_survive_eviction) {
  key_rate_limiter l{{1.0, 1, 4, 1}};
  EXPECT_TRUE(l.try_acquire("busy", 0));
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(l.try_acquire("busy", 0)) << "busy stays limited: its bucket is kept";
    l.try_acquire("other" + std::to_string(i), 0);
  }
}

TEST(key_rate_limiter, evicted_key_returns_with_a_full_bucket) {
  key_rate_limiter l{{1.0, 1, 1, 1}};
  EXPECT_TRUE(l.try_acquire("a", 0));
  EXPECT_FALSE(l.try_acquire("a", 0));
  EXPECT_TRUE(l.try_acquire("b", 0)); // evicts a
  EXPECT_TRUE(l.try_acquire("a", 0));
  EXPECT_EQ(l.evictions(), 2u);
}

TEST(key_rate_limiter, concurrent_use_on_one_key_never_overdraws) {
  key_rate_limiter l{{0.001, 500, 1000, 4}};
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        allowed += l.try_acquire("shared", 7);
        l.try_acquire("own" + std::to_string(t * 10000 + i), 7);
      }
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(allowed.load(), 500);
  EXPECT_LE(l.size(), 1000u);
}

} // namespace
} // namespace shoal::hotkey
