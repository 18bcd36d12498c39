#include "actors/hotkey/core/record_batch.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace shoal::hotkey {
namespace {

using nlohmann::json;

TEST(record_batch, json_counts_become_key_count_pairs) {
  auto got = parse_record_json(json::parse(R"({"counts": {"sku:42": 3, "sku:7": 1}})"));
  ASSERT_TRUE(got) << got.error();
  std::vector<key_count> expected{{"sku:42", 3}, {"sku:7", 1}};
  EXPECT_EQ(*got, expected);
}

TEST(record_batch, a_bad_json_batch_is_refused_with_the_path_of_the_problem) {
  auto error = [](const char* text) {
    auto got = parse_record_json(json::parse(text));
    EXPECT_FALSE(got) << text;
    return got ? std::string{} : got.error();
  };
  EXPECT_EQ(error(R"([1])"), "$: expected {\"counts\": {\"KEY\": COUNT, ...}}");
  EXPECT_EQ(error(R"({"counts": {}, "extra": 1})"),
            "$.extra: unknown field (expected only \"counts\")");
  EXPECT_EQ(error(R"({"counts": ["a"]})"),
            "$.counts: expected an object mapping keys to counts");
  EXPECT_EQ(error(R"({"counts": {"a": 0}})"),
            "$.counts[\"a\"]: expected a whole number 1..1000000000, got 0");
  EXPECT_EQ(error(R"({"counts": {"a": 1.5}})"),
            "$.counts[\"a\"]: expected a whole number 1..1000000000, got 1.5");
  EXPECT_EQ(error(R"({"counts": {"a b": 1}})"),
            "$.counts[\"a b\"]: key holds a space or control byte");
  EXPECT_EQ(error(R"({"counts": {"": 1}})"), "$.counts[\"\"]: empty key");
}

TEST(record_batch, datagram_lines_count_and_bad_lines_are_counted) {
  auto got = parse_record_datagram("a 3\nb\r\n\nc x\nd 0\ne 2000000000\nf 7", "");
  EXPECT_FALSE(got.refused);
  std::vector<key_count> expected{{"a", 3}, {"b", 1}, {"f", 7}};
  EXPECT_EQ(got.counts, expected);
  EXPECT_EQ(got.bad_lines, 3u);
  EXPECT_EQ(got.first_error, "count is not a whole number 1..1000000000: \"c x\"");
  EXPECT_EQ(parse_record_datagram(std::string(2000, 'k'), "").bad_lines, 1u);
  EXPECT_EQ(parse_record_datagram("", "").counts.size(), 0u);
}

TEST(record_batch, a_datagram_without_the_secret_line_is_refused_whole) {
  EXPECT_TRUE(parse_record_datagram("a 3\n", "s3").refused);
  EXPECT_TRUE(parse_record_datagram("#s4\na 3\n", "s3").refused);
  EXPECT_TRUE(parse_record_datagram("#s3x\na 3\n", "s3").refused);
  EXPECT_TRUE(parse_record_datagram("", "s3").refused);
  auto got = parse_record_datagram("#s3\na 3\n", "s3");
  EXPECT_FALSE(got.refused);
  ASSERT_EQ(got.counts.size(), 1u);
  EXPECT_EQ(got.counts[0], (key_count{"a", 3}));
}

} // namespace
} // namespace shoal::hotkey
