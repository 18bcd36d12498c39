#include "actors/hotkey/core/token_bucket.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace shoal::hotkey {
namespace {

TEST(token_bucket, starts_full_and_allows_a_burst) {
  token_bucket b{10.0, 5};
  EXPECT_EQ(b.available(0), 5u);
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(b.try_acquire(0)) << i;
  EXPECT_FALSE(b.try_acquire(0));
  EXPECT_EQ(b.available(0), 0u);
}

TEST(token_bucket, refills_at_the_rate) {
  token_bucket b{10.0, 5}; // one token per 100 ms
  for (int i = 0; i < 5; ++i)
    b.try_acquire(1000);
  EXPECT_FALSE(b.try_acquire(1099));
  EXPECT_TRUE(b.try_acquire(1100));
  EXPECT_FALSE(b.try_acquire(1100));
  EXPECT_EQ(b.available(1350), 2u);
  EXPECT_EQ(b.available(100000), 5u) << "never more than burst";
}

TEST(token_bucket, sustained_rate_over_a_long_run) {
  token_bucket b{1000.0, 10};
  int allowed = 0;
  for (int64_t t = 0; t < 10000; ++t) // 10 s, 5 attempts per ms
    for (int k = 0; k < 5; ++k)
      allowed += b.try_acquire(t);
  EXPECT_GE(allowed, 10000 - 1);
  EXPECT_LE(allowed, 10000 + 10);
}

TEST(token_bucket, multi_token_acquire_is_all_or_nothing) {
  token_bucket b{1.0, 5};
  EXPECT_TRUE(b.try_acquire(0, 3));
  EXPECT_FALSE(b.try_acquire(0, 3));
  EXPECT_TRUE(b.try_acquire(0, 2));
  EXPECT_FALSE(b.try_acquire(0, 6)) << "more than burst never fits";
}

TEST(token_bucket, time_going_backwards_adds_no_tokens) {
  token_bucket b{10.0, 2};
  b.try_acquire(5000);
  b.try_acquire(5000);
  EXPECT_FALSE(b.try_acquire(4000));
  EXPECT_FALSE(b.try_acquire(5050));
  EXPECT_TRUE(b.try_acquire(5100));
}

TEST(token_bucket, concurrent_acquirers_never_overdraw) {
  token_bucket b{0.001, 1000}; // no refill within the test's fixed time
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i)
        allowed += b.try_acquire(42);
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(allowed.load(), 1000);
}

} // namespace
} // namespace shoal::hotkey
