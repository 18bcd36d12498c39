#include "actors/hotkey/core/rule_parser.hpp"

#include <gtest/gtest.h>

namespace shoal::hotkey {
namespace {

using json = nlohmann::json;

std::string error_of(const char* text) {
  auto result = parse_rules(json::parse(text));
  EXPECT_FALSE(result);
  return result ? std::string{"<no error>"} : result.error().to_string();
}

TEST(rule_parser, reads_all_three_kinds_with_defaults_and_overrides) {
  auto result = parse_rules(json::parse(R"([
    {"key": "sku:42", "threshold": 500, "window_ms": 2000, "duration_ms": 5000,
     "cache": {"max_entries": 10, "max_bytes": 4096}},
    {"prefix": "sku:", "threshold": 2000},
    {"key": "*", "threshold": 10000}
  ])"));
  ASSERT_TRUE(result) << result.error().to_string();
  ASSERT_EQ(result->size(), 3u);
  auto& exact = (*result)[0];
  EXPECT_EQ(exact.kind, match_kind::exact);
  EXPECT_EQ(exact.pattern, "sku:42");
  EXPECT_EQ(exact.threshold, 500u);
  EXPECT_EQ(exact.window_ms, 2000);
  EXPECT_EQ(exact.duration_ms, 5000);
  EXPECT_EQ(exact.cache_max_entries, 10u);
  EXPECT_EQ(exact.cache_max_bytes, 4096u);
  auto& prefix = (*result)[1];
  EXPECT_EQ(prefix.kind, match_kind::prefix);
  EXPECT_EQ(prefix.pattern, "sku:");
  EXPECT_EQ(prefix.window_ms, hotkey_rule{}.window_ms);
  EXPECT_EQ(prefix.duration_ms, hotkey_rule{}.duration_ms);
  EXPECT_EQ((*result)[2].kind, match_kind::any);
  EXPECT_EQ((*result)[2].pattern, "");
}

TEST(rule_parser, empty_array_is_no_rules) {
  auto result = parse_rules(json::array());
  EXPECT_TRUE(result);
  EXPECT_TRUE(result->empty());
}

TEST(rule_parser, errors_name_the_json_path) {
  EXPECT_EQ(error_of(R"([{"key":"a","threshold":1},{"key":"b","threshold":1},
                         {"key":"c","threshold":"x"}])"),
            "$.hotkeys.rules[2].threshold: expected integer >= 1, got \"x\"");
  EXPECT_EQ(error_of(R"([{"key":"a","threshold":0}])"),
            "$.hotkeys.rules[0].threshold: expected integer >= 1, got 0");
  EXPECT_EQ(error_of(R"([{"key":"a","threshold":-3}])"),
            "$.hotkeys.rules[0].threshold: expected integer >= 1, got -3");
  EXPECT_EQ(error_of(R"([{"key":"a","threshold":1.5}])"),
            "$.hotkeys.rules[0].threshold: expected integer >= 1, got 1.5");
  EXPECT_EQ(error_of(R"([{"key":"a","threshold":true}])"),
            "$.hotkeys.rules[0].threshold: expected integer >= 1, got true");
  EXPECT_EQ(error_of(R"([{"key":"a"}])"),
            "$.hotkeys.rules[0].threshold: missing (expected integer >= 1)");
  EXPECT_EQ(error_of(R"([{"key":"a","threshold":1,"window_ms":"1s"}])"),
            "$.hotkeys.rules[0].window_ms: expected integer >= 1, got \"1s\"");
  EXPECT_EQ(error_of(R"([{"key":"a","threshold":1,"cache":{"max_bytes":0}}])"),
            "$.hotkeys.rules[0].cache.max_bytes: expected integer >= 1, got 0");
  EXPECT_EQ(error_of(R"({"key":"a"})"),
            "$.hotkeys.rules: expected array, got {\"key\":\"a\"}");
  EXPECT_EQ(error_of(R"([7])"), "$.hotkeys.rules[0]: expected object, got 7");
}

TEST(rule_parser, unknown_fields_are_errors) {
  EXPECT_EQ(error_of(R"([{"key":"a","threshold":1,"treshold":2}])"),
            "$.hotkeys.rules[0].treshold: unknown field (known: cache, duration_ms, key, "
            "prefix, threshold, window_ms)");
  EXPECT_EQ(
      error_of(R"([{"key":"a","threshold":1,"cache":{"ttl":3}}])"),
      "$.hotkeys.rules[0].cache.ttl: unknown field (known: max_bytes, max_entries)");
}

TEST(rule_parser, pattern_must_be_exactly_one_non_empty_string) {
  EXPECT_EQ(error_of(R"([{"threshold":1}])"),
            "$.hotkeys.rules[0]: expected one of \"key\" or \"prefix\", got neither");
  EXPECT_EQ(error_of(R"([{"key":"a","prefix":"b","threshold":1}])"),
            "$.hotkeys.rules[0]: expected one of \"key\" or \"prefix\", got both");
  EXPECT_EQ(error_of(R"([{"prefix":"","threshold":1}])"),
            "$.hotkeys.rules[0].prefix: expected non-empty string, got \"\"");
  EXPECT_EQ(error_of(R"([{"key":42,"threshold":1}])"),
            "$.hotkeys.rules[0].key: expected string, got 42");
}

TEST(rule_parser, duplicate_patterns_are_errors) {
  EXPECT_EQ(error_of(R"([{"key":"a","threshold":1},{"key":"a","threshold":2}])"),
            "$.hotkeys.rules[1].key: duplicate rule for \"a\"");
  EXPECT_EQ(error_of(R"([{"key":"*","threshold":1},{"key":"*","threshold":2}])"),
            "$.hotkeys.rules[1].key: duplicate rule for \"*\"");
  // The same text as an exact key and as a prefix is two different rules.
  EXPECT_TRUE(parse_rules(
      json::parse(R"([{"key":"a","threshold":1},{"prefix":"a","threshold":2}])")));
}

TEST(rule_parser, path_prefix_is_the_callers) {
  auto result = parse_rules(json::parse(R"([{"key":"a","threshold":"x"}])"), "$.rules");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().path, "$.rules[0].threshold");
}

} // namespace
} // namespace shoal::hotkey
