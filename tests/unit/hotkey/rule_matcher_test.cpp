#include "actors/hotkey/core/rule_matcher.hpp"

#include <string>

#include <gtest/gtest.h>

namespace shoal::hotkey {
namespace {

hotkey_rule rule(match_kind kind, std::string pattern, uint64_t threshold) {
  hotkey_rule r;
  r.kind = kind;
  r.pattern = std::move(pattern);
  r.threshold = threshold;
  return r;
}

TEST(rule_matcher, exact_beats_longest_prefix_beats_any) {
  rule_matcher m{{rule(match_kind::any, "", 1), rule(match_kind::prefix, "sku:", 2),
                  rule(match_kind::prefix, "sku:4", 3),
                  rule(match_kind::exact, "sku:42", 4)}};
  EXPECT_EQ(m.match("sku:42")->threshold, 4u);
  EXPECT_EQ(m.match("sku:43")->threshold, 3u);
  EXPECT_EQ(m.match("sku:4")->threshold, 3u) << "a prefix matches itself";
  EXPECT_EQ(m.match("sku:1")->threshold, 2u);
  EXPECT_EQ(m.match("sku")->threshold, 1u);
  EXPECT_EQ(m.match("")->threshold, 1u);
}

TEST(rule_matcher, no_rule_means_not_watched) {
  rule_matcher m{{rule(match_kind::prefix, "sku:", 2)}};
  EXPECT_EQ(m.match("user:1"), nullptr);
  EXPECT_EQ(rule_matcher{}.match("anything"), nullptr);
}

TEST(rule_matcher, many_rules_match_correctly) {
  std::vector<hotkey_rule> rules;
  for (int i = 0; i < 10000; ++i) {
    rules.push_back(rule(match_kind::exact, "item:" + std::to_string(i), 100000 + i));
    rules.push_back(rule(match_kind::prefix, "shop:" + std::to_string(i) + ":", i + 1));
  }
  rule_matcher m{std::move(rules)};
  EXPECT_EQ(m.match("item:1234")->threshold, 101234u);
  EXPECT_EQ(m.match("shop:77:sku:9")->threshold, 78u);
  EXPECT_EQ(m.match("shop:7:sku:9")->threshold, 8u);
  EXPECT_EQ(m.match("item:123456"), nullptr);
}

TEST(rule_matcher, survives_being_moved) {
  rule_matcher a{{rule(match_kind::exact, "k", 9), rule(match_kind::prefix, "p", 8)}};
  rule_matcher b = std::move(a);
  EXPECT_EQ(b.match("k")->threshold, 9u);
  EXPECT_EQ(b.match("pq")->threshold, 8u);
}

} // namespace
} // namespace shoal::hotkey
