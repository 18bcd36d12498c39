#include "actors/hotkey/hot_view.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace shoal::hotkey {
namespace {

cache_limits small() {
  return cache_limits{100, 1 << 20, 1};
}

TEST(hot_view, a_pushed_key_is_hot_for_its_ttl) {
  hot_view view{small()};
  EXPECT_TRUE(view.mark("sku:42", 812, 500, false, 1000));
  EXPECT_TRUE(view.is_hot("sku:42", 1000));
  EXPECT_TRUE(view.is_hot("sku:42", 1499));
  EXPECT_FALSE(view.is_hot("sku:42", 1500));
  EXPECT_EQ(view.hot_until("sku:42", 1200), 1500);
  EXPECT_FALSE(view.is_hot("other", 1000));
}

TEST(hot_view, a_new_push_extends_and_updates_the_count) {
  hot_view view{small()};
  view.mark("k", 100, 500, false, 1000);
  EXPECT_FALSE(view.mark("k", 300, 500, false, 1400)) << "was already hot";
  EXPECT_EQ(view.hot_until("k", 1400), 1900);
  auto listed = view.list(1400);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].count, 300u);
  EXPECT_EQ(listed[0].until_ms, 1900);
}

TEST(hot_view, manual_keys_without_ttl_never_expire) {
  hot_view view{small()};
  EXPECT_TRUE(view.mark("pinned", 0, 0, true, 1000));
  EXPECT_TRUE(view.expire(1'000'000'000).empty());
  EXPECT_TRUE(view.is_hot("pinned", 1'000'000'000));
  auto listed = view.list(5000);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(listed[0].manual);
  EXPECT_EQ(listed[0].until_ms, hot_set::forever);
  EXPECT_TRUE(view.unmark("pinned"));
  EXPECT_FALSE(view.unmark("pinned"));
  EXPECT_FALSE(view.is_hot("pinned", 5000));
}

TEST(hot_view, a_detection_push_does_not_shorten_a_manual_key) {
  hot_view view{small()};
  EXPECT_TRUE(view.mark("pinned", 0, 0, true, 1000));
  EXPECT_FALSE(view.mark("pinned", 900, 500, false, 2000)) << "already hot";
  EXPECT_TRUE(view.expire(1'000'000'000).empty());
  EXPECT_TRUE(view.is_hot("pinned", 1'000'000'000));
  auto listed = view.list(3000);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(listed[0].manual);
  EXPECT_EQ(listed[0].count, 900u);
  EXPECT_EQ(listed[0].until_ms, hot_set::forever);
  // The operator can still change it: a manual mark replaces the expiry.
  view.mark("pinned", 0, 500, true, 2000);
  EXPECT_FALSE(view.is_hot("pinned", 2500));
}

TEST(hot_view, expiry_drops_the_key_and_its_value) {
  hot_view view{small()};
  view.mark("a", 10, 100, false, 0);
  view.mark("b", 20, 300, false, 0);
  view.values().put("a", "va", 0, 100);
  view.values().put("b", "vb", 0, 300);
  EXPECT_TRUE(view.expire(99).empty());
  EXPECT_EQ(view.expire(100), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(view.values().get("a", 50).has_value()) << "value dropped with the key";
  EXPECT_EQ(view.values().get("b", 200), std::optional<std::string>{"vb"});
  auto listed = view.list(200);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].key, "b");
}

TEST(hot_view, unmark_drops_the_value) {
  hot_view view{small()};
  view.mark("k", 1, 1000, false, 0);
  view.values().put("k", "v", 0, 1000);
  EXPECT_TRUE(view.unmark("k"));
  EXPECT_FALSE(view.values().get("k", 10).has_value());
  EXPECT_TRUE(view.list(10).empty());
}

TEST(hot_view, list_is_hottest_first_and_skips_lapsed_keys) {
  hot_view view{small()};
  view.mark("mid", 50, 1000, false, 0);
  view.mark("top", 90, 1000, false, 0);
  view.mark("low", 10, 1000, false, 0);
  view.mark("tie-b", 50, 1000, false, 0);
  view.mark("gone", 99, 10, false, 0);
  auto listed = view.list(500);
  std::vector<std::string> keys;
  for (auto& k : listed)
    keys.push_back(k.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"top", "mid", "tie-b", "low"}));
}

TEST(hot_view, readers_and_the_writer_run_concurrently) {
  hot_view view{small()};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> seen{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r)
    readers.emplace_back([&] {
      while (!stop.load())
        for (int i = 0; i < 50; ++i)
          if (view.is_hot("k" + std::to_string(i), 1))
            seen.fetch_add(1);
    });
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 50; ++i)
      view.mark("k" + std::to_string(i), i, 1000, false, 0);
    for (int i = 0; i < 50; i += 2)
      view.unmark("k" + std::to_string(i));
  }
  stop = true;
  for (auto& r : readers)
    r.join();
  EXPECT_EQ(view.list(1).size(), 25u);
}

} // namespace
} // namespace shoal::hotkey
