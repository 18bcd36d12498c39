#include "actors/hotkey/core/rule_book.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace shoal::hotkey {
namespace {

std::shared_ptr<const rule_set> set_of(uint64_t version, const std::string& prefix,
                                       uint64_t threshold) {
  hotkey_rule r;
  r.kind = match_kind::prefix;
  r.pattern = prefix;
  r.threshold = threshold;
  return std::make_shared<rule_set>(version, std::vector<hotkey_rule>{r}, "[]");
}

TEST(rule_book, keeps_the_newest_version) {
  rule_book book{set_of(0, "sku:", 10)};
  ASSERT_NE(book.current()->matcher.match("sku:1"), nullptr);
  EXPECT_EQ(book.current()->matcher.match("sku:1")->threshold, 10u);
  EXPECT_TRUE(book.offer(set_of(5, "sku:", 20)));
  EXPECT_EQ(book.current()->version, 5u);
  EXPECT_EQ(book.current()->matcher.match("sku:1")->threshold, 20u);
  EXPECT_FALSE(book.offer(set_of(5, "item:", 30))) << "same version: not newer";
  EXPECT_FALSE(book.offer(set_of(3, "item:", 30))) << "older version";
  EXPECT_EQ(book.current()->matcher.match("item:1"), nullptr);
  EXPECT_TRUE(book.offer(set_of(9, "item:", 30)));
  EXPECT_EQ(book.current()->matcher.match("sku:1"), nullptr) << "replaced as a whole";
  EXPECT_EQ(book.current()->matcher.match("item:1")->threshold, 30u);
}

TEST(rule_book, a_held_set_outlives_its_replacement) {
  rule_book book{set_of(0, "sku:", 10)};
  auto held = book.current();
  auto* rule = held->matcher.match("sku:1");
  ASSERT_TRUE(book.offer(set_of(1, "item:", 30)));
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->threshold, 10u) << "the old rule is still readable through `held`";
  EXPECT_EQ(held->version, 0u);
}

TEST(rule_book, concurrent_offers_end_with_the_highest_version) {
  rule_book book{set_of(0, "k", 1)};
  std::atomic<bool> stop{false};
  std::thread reader{[&] {
    uint64_t last = 0;
    while (!stop.load()) {
      auto v = book.current()->version;
      ASSERT_GE(v, last) << "versions never go back";
      last = v;
    }
  }};
  std::vector<std::thread> writers;
  for (uint64_t t = 0; t < 4; ++t)
    writers.emplace_back([&book, t] {
      for (uint64_t i = 1; i <= 500; ++i)
        book.offer(set_of(i * 4 + t, "k", i));
    });
  for (auto& w : writers)
    w.join();
  stop = true;
  reader.join();
  EXPECT_EQ(book.current()->version, 500u * 4 + 3);
}

} // namespace
} // namespace shoal::hotkey
