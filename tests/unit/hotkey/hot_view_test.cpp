#include "actors/hotkey/core/hot_view.hpp"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "actors/hotkey/core/rule_parser.hpp"

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

TEST(key_pattern, literal_runs_with_any_text_between_them) {
  EXPECT_TRUE(matches(key_pattern{{"sku:", ""}}, "sku:42"));
  EXPECT_TRUE(matches(key_pattern{{"sku:", ""}}, "sku:"));
  EXPECT_FALSE(matches(key_pattern{{"sku:", ""}}, "sk:42"));
  EXPECT_TRUE(matches(key_pattern{{"", ":", ""}}, "a:b"));
  EXPECT_FALSE(matches(key_pattern{{"", ":", ""}}, "ab"));
  EXPECT_TRUE(matches(key_pattern{{"p:", "/", "/x"}}, "p:1/2/3/x"));
  EXPECT_FALSE(matches(key_pattern{{"p:", "/", "/x"}}, "p:1/x"));
  // The last run is anchored at the end and may not overlap the first.
  EXPECT_FALSE(matches(key_pattern{{"ab", "ba"}}, "aba"));
  EXPECT_TRUE(matches(key_pattern{{"exact"}}, "exact"));
  EXPECT_FALSE(matches(key_pattern{{"exact"}}, "exact!"));
  EXPECT_FALSE(matches(key_pattern{}, ""));
}

TEST(hot_view, erase_matching_drops_the_values_of_the_keys_a_pattern_matches) {
  hot_view view{small()};
  for (auto k : {"sku:1", "sku:2", "skus", "code:A"}) {
    view.mark(k, 10, 0, true, 1000);
    ASSERT_TRUE(view.put_value(k, "v", 1000, 0)) << k;
  }
  auto erased = view.erase_matching({key_pattern{{"sku:", ""}}});
  std::sort(erased.begin(), erased.end());
  EXPECT_EQ(erased, (std::vector<std::string>{"sku:1", "sku:2"}));
  EXPECT_FALSE(view.get_value("sku:1", 1000));
  EXPECT_FALSE(view.get_value("sku:2", 1000));
  EXPECT_EQ(view.get_value("skus", 1000), "v");
  EXPECT_EQ(view.get_value("code:A", 1000), "v");
  EXPECT_TRUE(view.is_hot("sku:1", 1000)) << "keys stay hot; only values go";
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
  view.put_value("a", "va", 0, 100);
  view.put_value("b", "vb", 0, 300);
  EXPECT_TRUE(view.expire(99).empty());
  EXPECT_EQ(view.expire(100), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(view.get_value("a", 50).has_value()) << "value dropped with the key";
  EXPECT_EQ(view.get_value("b", 200), std::optional<std::string>{"vb"});
  auto listed = view.list(200);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].key, "b");
}

TEST(hot_view, unmark_drops_the_value) {
  hot_view view{small()};
  view.mark("k", 1, 1000, false, 0);
  view.put_value("k", "v", 0, 1000);
  EXPECT_TRUE(view.unmark("k"));
  EXPECT_FALSE(view.get_value("k", 10).has_value());
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
  for (int round = 0; round < 100; ++round) {
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

std::shared_ptr<const rule_set> rules(uint64_t version, const char* text) {
  auto parsed = parse_rules(nlohmann::json::parse(text));
  EXPECT_TRUE(parsed) << (parsed ? std::string{} : parsed.error().to_string());
  return std::make_shared<rule_set>(version, std::move(*parsed), text);
}

hotkey_rule rule_of(match_kind kind, std::string pattern) {
  hotkey_rule r;
  r.kind = kind;
  r.pattern = std::move(pattern);
  return r;
}

TEST(hot_view, a_rule_with_its_own_limits_cannot_evict_other_rules_values) {
  hot_view view{small()};
  view.use_rules(rules(1, R"([
      {"prefix": "flash:", "threshold": 10, "cache": {"max_entries": 4}},
      {"key": "*", "threshold": 10}])"));
  for (int i = 0; i < 20; ++i)
    view.put_value("plain:" + std::to_string(i), "v", 0, 0);
  for (int i = 0; i < 500; ++i)
    view.put_value("flash:" + std::to_string(i), "v", 0, 0);
  auto flash = view.rule_cache_stats(rule_of(match_kind::prefix, "flash:"));
  ASSERT_TRUE(flash);
  EXPECT_LE(flash->entries, 4u) << "the rule's own bound holds";
  EXPECT_GT(flash->evictions, 0u);
  for (int i = 0; i < 20; ++i)
    EXPECT_TRUE(view.get_value("plain:" + std::to_string(i), 1).has_value())
        << "plain:" << i << " was evicted by the flash sale's keys";
  EXPECT_FALSE(view.rule_cache_stats(rule_of(match_kind::any, "")));
  auto all = view.value_stats();
  EXPECT_EQ(all.entries, 20u + flash->entries);
}

TEST(hot_view, reloaded_rules_keep_unchanged_caches_and_rebuild_changed_ones) {
  hot_view view{small()};
  view.use_rules(rules(1, R"([
      {"prefix": "a:", "threshold": 1, "cache": {"max_entries": 10}},
      {"prefix": "b:", "threshold": 1, "cache": {"max_entries": 10}}])"));
  view.put_value("a:1", "va", 0, 0);
  view.put_value("b:1", "vb", 0, 0);
  view.use_rules(rules(2, R"([
      {"prefix": "a:", "threshold": 5, "cache": {"max_entries": 10}},
      {"prefix": "b:", "threshold": 1, "cache": {"max_entries": 3}}])"));
  EXPECT_EQ(view.get_value("a:1", 1), std::optional<std::string>{"va"});
  EXPECT_FALSE(view.get_value("b:1", 1).has_value()) << "b:'s limits changed";
  for (int i = 0; i < 10; ++i)
    view.put_value("b:" + std::to_string(i), "v", 0, 0);
  EXPECT_LE(view.rule_cache_stats(rule_of(match_kind::prefix, "b:"))->entries, 3u);
}

TEST(hot_view, erase_reaches_a_value_cached_before_its_rule_got_limits) {
  hot_view view{small()};
  view.use_rules(rules(1, R"([{"prefix": "a:", "threshold": 1}])"));
  view.put_value("a:1", "old", 0, 0);
  view.use_rules(
      rules(2, R"([{"prefix": "a:", "threshold": 1, "cache": {"max_bytes": 4096}}])"));
  EXPECT_FALSE(view.get_value("a:1", 1).has_value());
  EXPECT_TRUE(view.erase_value("a:1"));
  EXPECT_EQ(view.value_stats().entries, 0u);
}

TEST(hot_view, a_value_loaded_before_an_invalidation_is_not_kept) {
  hot_view view{cache_limits{}};
  view.mark("k", 10, 60000, false, 0);
  auto before = view.value_generation("k");
  view.erase_value("k"); // the invalidation arrives while the value is loaded
  EXPECT_FALSE(view.put_loaded("k", "old", 1, 60000, before));
  EXPECT_FALSE(view.get_value("k", 2).has_value());
  auto after = view.value_generation("k");
  EXPECT_NE(after, before);
  EXPECT_TRUE(view.put_loaded("k", "new", 3, 60000, after));
  EXPECT_EQ(view.get_value("k", 4), std::optional<std::string>{"new"});
}

// Loads and invalidations of one key race on many threads: once the last
// invalidation is done, no put that loaded before it may have left its value.
TEST(hot_view, a_racing_invalidation_always_wins_over_an_older_load) {
  hot_view view{cache_limits{}};
  view.mark("k", 10, 60000, false, 0);
  for (int round = 0; round < 100; ++round) {
    std::atomic<bool> go{false};
    std::vector<std::thread> loaders;
    std::vector<uint64_t> seen(4);
    for (int t = 0; t < 4; ++t)
      seen[static_cast<size_t>(t)] = view.value_generation("k");
    for (int t = 0; t < 4; ++t)
      loaders.emplace_back([&, t] {
        while (!go.load())
          std::this_thread::yield();
        view.put_loaded("k", "stale", 1, 60000, seen[static_cast<size_t>(t)]);
      });
    go = true;
    view.erase_value("k");
    for (auto& l : loaders)
      l.join();
    ASSERT_FALSE(view.get_value("k", 2).has_value()) << "round " << round;
  }
}

} // namespace
} // namespace shoal::hotkey
