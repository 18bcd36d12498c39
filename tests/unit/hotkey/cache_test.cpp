// hot_cache (W-TinyLFU) and lru_cache: the same contract, then the policy difference.
#include "actors/hotkey/core/hot_cache.hpp"
#include "bench/hotkey/lru_cache.hpp"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/hotkey/zipf_trace.hpp"

namespace shoal::hotkey {
namespace {

template <class Cache> Cache make(size_t entries, size_t bytes, size_t shards = 1);

template <> hot_cache make<hot_cache>(size_t entries, size_t bytes, size_t shards) {
  return hot_cache{{{entries, bytes, shards}}};
}

template <> lru_cache make<lru_cache>(size_t entries, size_t bytes, size_t shards) {
  return lru_cache{{entries, bytes, shards}};
}

template <class Cache> class cache_contract : public ::testing::Test {};

using cache_types = ::testing::Types<hot_cache, lru_cache>;
TYPED_TEST_SUITE(cache_contract, cache_types);

TYPED_TEST(cache_contract, get_after_put_hits_and_counts) {
  auto c = make<TypeParam>(100, 1 << 20);
  EXPECT_EQ(c.get("a", 0), std::nullopt);
  EXPECT_TRUE(c.put("a", "1", 0, 0));
  EXPECT_EQ(c.get("a", 0), "1");
  EXPECT_TRUE(c.put("a", "22", 0, 0));
  EXPECT_EQ(c.get("a", 0), "22") << "put replaces";
  auto s = c.stats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.bytes, 3u);
}

TYPED_TEST(cache_contract, entries_expire_after_their_ttl) {
  auto c = make<TypeParam>(100, 1 << 20);
  c.put("a", "1", 1000, 500);
  EXPECT_EQ(c.get("a", 1499), "1");
  EXPECT_EQ(c.get("a", 1500), std::nullopt);
  EXPECT_EQ(c.stats().entries, 0u) << "expired entry is dropped on read";
  c.put("forever", "x", 0, 0);
  EXPECT_EQ(c.get("forever", 1'000'000'000'000), "x");
}

TYPED_TEST(cache_contract, erase_removes) {
  auto c = make<TypeParam>(100, 1 << 20);
  c.put("a", "1", 0, 0);
  EXPECT_TRUE(c.erase("a"));
  EXPECT_FALSE(c.erase("a"));
  EXPECT_EQ(c.get("a", 0), std::nullopt);
  EXPECT_EQ(c.stats().bytes, 0u);
}

TYPED_TEST(cache_contract, entry_bound_holds) {
  auto c = make<TypeParam>(50, 1 << 20);
  for (int i = 0; i < 1000; ++i) {
    auto k = "k" + std::to_string(i);
    c.put(k, "v", 0, 0);
    c.get(k, 0);
    ASSERT_LE(c.stats().entries, 50u);
  }
  EXPECT_GT(c.stats().evictions, 0u);
}

TYPED_TEST(cache_contract, byte_bound_holds) {
  auto c = make<TypeParam>(1000, 1000);
  for (int i = 0; i < 500; ++i) {
    auto k = "k" + std::to_string(i);
    c.put(k, std::string(static_cast<size_t>(i % 90), 'x'), 0, 0);
    c.get(k, 0);
    ASSERT_LE(c.stats().bytes, 1000u);
  }
  EXPECT_FALSE(c.put("big", std::string(2000, 'x'), 0, 0)) << "larger than the cache";
  EXPECT_EQ(c.get("big", 0), std::nullopt);
}

TYPED_TEST(cache_contract, shards_share_the_bounds) {
  auto c = make<TypeParam>(64, 1 << 20, 4);
  for (int i = 0; i < 5000; ++i)
    c.put("k" + std::to_string(i), "v", 0, 0);
  EXPECT_LE(c.stats().entries, 64u);
}

TYPED_TEST(cache_contract, concurrent_readers_and_writers_keep_bounds) {
  auto c = make<TypeParam>(200, 1 << 16, 4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&c, t] {
      for (int i = 0; i < 20000; ++i) {
        auto k = "k" + std::to_string((i * 7 + t) % 500);
        if (!c.get(k, i))
          c.put(k, std::string(static_cast<size_t>(i % 50), 'v'), i, 1000);
      }
    });
  for (auto& t : threads)
    t.join();
  auto s = c.stats();
  EXPECT_EQ(s.hits + s.misses, 80000u);
  EXPECT_LE(s.entries, 200u);
  EXPECT_LE(s.bytes, size_t{1} << 16);
}

template <class Cache> double hit_ratio_on_zipf_with_scan(size_t size) {
  auto c = make<Cache>(size, size_t{1} << 30);
  testing::zipf_trace zipf{100000, 0.9, 17};
  uint64_t scan_key = 0;
  for (int i = 0; i < 400000; ++i) {
    std::string key;
    // Every 4th access in the second quarter of the run is part of a scan over keys
    // never read again.
    if (i > 100000 && i < 200000 && i % 4 == 0)
      key = "scan:" + std::to_string(scan_key++);
    else
      key = "z:" + std::to_string(zipf.next());
    if (!c.get(key, 0))
      c.put(key, "v", 0, 0);
  }
  return c.stats().hit_ratio();
}

TEST(hot_cache, beats_lru_on_a_zipf_trace_with_a_scan) {
  auto tiny_lfu = hit_ratio_on_zipf_with_scan<hot_cache>(1000);
  auto lru = hit_ratio_on_zipf_with_scan<lru_cache>(1000);
  std::printf("hit ratio, 1000 entries, zipf 0.9 + scan: W-TinyLFU %.4f, LRU %.4f\n",
              tiny_lfu, lru);
  EXPECT_GT(tiny_lfu, lru + 0.05);
}

template <class Cache> int popular_kept_after_scan() {
  auto c = make<Cache>(100, 1 << 20);
  auto read = [&c](const std::string& key) {
    if (!c.get(key, 0))
      c.put(key, "v", 0, 0);
  };
  for (int round = 0; round < 5; ++round)
    for (int k = 0; k < 50; ++k)
      read("pop" + std::to_string(k));
  // The last popular key is still in the window; push it out and read it once more so
  // all 50 were read in the main part.
  read("other");
  read("pop49");
  for (int k = 0; k < 10000; ++k)
    read("scan" + std::to_string(k));
  int kept = 0;
  for (int k = 0; k < 50; ++k)
    kept += c.get("pop" + std::to_string(k), 0).has_value();
  return kept;
}

TEST(hot_cache, refuses_a_size_above_the_limit) {
  hot_cache_config too_big;
  too_big.limits.max_entries = max_cache_entries + 1;
  EXPECT_THROW(hot_cache{too_big}, std::invalid_argument);
  hot_cache_config largest;
  largest.limits.max_entries = max_cache_entries;
  largest.limits.shards = 16;
  hot_cache c{largest};
  EXPECT_TRUE(c.put("k", "v", 0, 10000));
  EXPECT_TRUE(c.get("k", 1).has_value());
}

TEST(hot_cache, popular_entries_survive_a_scan) {
  EXPECT_EQ(popular_kept_after_scan<hot_cache>(), 50);
  EXPECT_EQ(popular_kept_after_scan<lru_cache>(), 0) << "the scan flushes an LRU";
}

TEST(lru_cache, evicts_the_least_recently_used) {
  lru_cache c{{3, 1 << 20, 1}};
  c.put("a", "1", 0, 0);
  c.put("b", "2", 0, 0);
  c.put("c", "3", 0, 0);
  c.get("a", 0);
  c.put("d", "4", 0, 0);
  EXPECT_EQ(c.get("b", 0), std::nullopt);
  EXPECT_EQ(c.get("a", 0), "1");
  EXPECT_EQ(c.get("c", 0), "3");
}

} // namespace
} // namespace shoal::hotkey
