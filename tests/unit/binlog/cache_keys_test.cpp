// cache_keys: key templates and the hot-cache keys row changes make stale.
#include <gtest/gtest.h>

#include "actors/binlog/sync/cache_keys.hpp"
#include "actors/binlog/sync/router.hpp"

namespace shoal::binlog {
namespace {

row_image image(std::vector<column_value> values, std::vector<bool> present = {}) {
  row_image r;
  r.present = present.empty() ? std::vector<bool>(values.size(), true) : present;
  r.values = std::move(values);
  return r;
}

std::shared_ptr<table_schema> sku_table() {
  auto t = std::make_shared<table_schema>();
  t->source_db = t->target_db = "shop";
  t->source_table = t->target_table = "sku";
  t->columns = {"id", "Code", "price", "day", "weight"};
  t->key = {0};
  t->keep_before_images = true;
  return t;
}

row_op op(op_kind kind, std::shared_ptr<const table_schema> t, row_image before,
          row_image after) {
  row_op o;
  o.kind = kind;
  o.table = std::move(t);
  o.before = std::move(before);
  o.after = std::move(after);
  o.key = {{"bin.000001", 100}, 1};
  return o;
}

cache_keys keys_for(const std::string& table, const std::string& text) {
  auto t = key_template::parse(text);
  EXPECT_TRUE(t) << (t ? "" : t.error());
  return cache_keys{{{table, *t}}};
}

std::vector<std::string> stale(cache_keys& keys, const std::vector<row_op>& ops) {
  auto r = keys.of(ops);
  EXPECT_TRUE(r) << (r ? "" : r.error());
  return r ? *r : std::vector<std::string>{};
}

TEST(key_template, splits_literals_and_placeholders_and_unescapes_braces) {
  auto t = key_template::parse("{{sku}}:{id}:{Code}");
  ASSERT_TRUE(t) << t.error();
  ASSERT_EQ(t->pieces().size(), 4u);
  EXPECT_EQ(t->pieces()[0].text, "{sku}:");
  EXPECT_FALSE(t->pieces()[0].column);
  EXPECT_EQ(t->pieces()[1].text, "id");
  EXPECT_TRUE(t->pieces()[1].column);
  EXPECT_EQ(t->pieces()[2].text, ":");
  EXPECT_EQ(t->columns(), (std::vector<std::string>{"id", "Code"}));
}

TEST(key_template, wildcard_pieces_are_the_literal_runs_between_placeholders) {
  auto pieces = [](const std::string& text) {
    return key_template::parse(text)->wildcard_pieces();
  };
  EXPECT_EQ(pieces("sku:{id}"), (std::vector<std::string>{"sku:", ""}));
  EXPECT_EQ(pieces("{a}:{b}"), (std::vector<std::string>{"", ":", ""}));
  EXPECT_EQ(pieces("{{x}}{a}{b}!"), (std::vector<std::string>{"{x}", "!"}));
  cache_keys keys{{{"shop.sku", *key_template::parse("sku:{id}")},
                   {"shop.sku", *key_template::parse("code:{code}")},
                   {"shop.stock", *key_template::parse("stock:{id}")},
                   {"shopx.sku", *key_template::parse("x:{id}")}}};
  EXPECT_EQ(keys.patterns_of("shop", "sku"),
            (std::vector<std::vector<std::string>>{{"sku:", ""}, {"code:", ""}}));
  EXPECT_EQ(keys.patterns_of("shop", "").size(), 3u)
      << "a dropped database: all its tables";
  EXPECT_TRUE(keys.patterns_of("shop", "other").empty());
  EXPECT_TRUE(keys.patterns_of("sho", "").empty());
  EXPECT_EQ(keys.patterns_of("SHOP", "Sku").size(), 2u) << "lower_case_table_names";
  EXPECT_EQ(keys.patterns_of("", "").size(), 4u) << "every rule";
}

TEST(key_template, refuses_malformed_templates_saying_where) {
  auto open = key_template::parse("sku:{id");
  ASSERT_FALSE(open);
  EXPECT_NE(open.error().find("character 5 is not closed"), std::string::npos)
      << open.error();
  auto close = key_template::parse("sku:id}");
  ASSERT_FALSE(close);
  EXPECT_NE(close.error().find("'}' at character 7"), std::string::npos) << close.error();
  EXPECT_FALSE(key_template::parse("sku:{}"));
  EXPECT_FALSE(key_template::parse("a{b{c}"));
  auto none = key_template::parse("sku:all");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().find("names no column"), std::string::npos);
}

TEST(cache_keys, an_update_makes_the_keys_of_both_images_stale) {
  auto keys = keys_for("shop.sku", "sku:{code}");
  auto t = sku_table();
  std::vector<row_op> ops;
  ops.push_back(op(op_kind::upsert, t, {},
                   image({int64_t{1}, bytes_value{"A-1"}, decimal_value{"9.50"},
                          null_value{}, null_value{}})));
  // The router keeps the before image of a key-preserving update for this table.
  auto routed = ops_for_row(row_kind::update, t,
                            {image({int64_t{1}, bytes_value{"A-1"}, decimal_value{"9.50"},
                                    null_value{}, null_value{}}),
                             image({int64_t{1}, bytes_value{"B-7"}, decimal_value{"9.50"},
                                    null_value{}, null_value{}})},
                            {{"bin.000001", 200}, 1}, 0);
  ASSERT_EQ(routed.size(), 1u);
  ASSERT_EQ(routed[0].kind, op_kind::upsert);
  ops.push_back(routed[0]);
  ops.push_back(op(op_kind::delete_, t,
                   image({int64_t{1}, bytes_value{"B-7"}, decimal_value{"9.50"},
                          null_value{}, null_value{}}),
                   {}));
  // Repeats next to each other are sent once.
  EXPECT_EQ(stale(keys, ops), (std::vector<std::string>{"sku:A-1", "sku:B-7"}));
}

TEST(cache_keys, the_router_drops_an_upserts_before_image_for_tables_without_rules) {
  auto t = sku_table();
  t->keep_before_images = false;
  auto routed = ops_for_row(
      row_kind::update, t,
      {image({int64_t{1}, bytes_value{"A"}, null_value{}, null_value{}, null_value{}}),
       image({int64_t{1}, bytes_value{"B"}, null_value{}, null_value{}, null_value{}})},
      {{"bin.000001", 200}, 1}, 0);
  ASSERT_EQ(routed.size(), 1u);
  EXPECT_TRUE(routed[0].before.present.empty());
}

TEST(cache_keys, renders_integers_decimals_strings_dates_and_skips_null) {
  auto t = sku_table();
  auto keys = keys_for("shop.sku", "p:{ID}/{price}/{day}/{code}");
  std::vector<row_op> ops;
  ops.push_back(
      op(op_kind::upsert, t, {},
         image({uint64_t{18446744073709551615ull}, bytes_value{"x y"},
                decimal_value{"-0.05"}, date_value{2026, 12, 7}, null_value{}})));
  ops.push_back(op(op_kind::upsert, t, {},
                   image({int64_t{-3}, bytes_value{""}, decimal_value{"1.00"},
                          date_value{0, 0, 0}, null_value{}})));
  // A NULL in a template column names no cached value.
  ops.push_back(op(op_kind::upsert, t, {},
                   image({int64_t{4}, null_value{}, decimal_value{"1.00"},
                          date_value{2026, 1, 2}, null_value{}})));
  EXPECT_EQ(stale(keys, ops),
            (std::vector<std::string>{"p:18446744073709551615/-0.05/2026-12-07/x y",
                                      "p:-3/1.00/0000-00-00/"}));
}

TEST(cache_keys, other_tables_and_marks_make_no_keys) {
  auto keys = keys_for("shop.sku", "sku:{id}");
  auto other = sku_table();
  other->source_table = "stock";
  row_op mark;
  mark.kind = op_kind::mark;
  std::vector<row_op> ops{mark, op(op_kind::upsert, other, {},
                                   image({int64_t{1}, bytes_value{"a"}, null_value{},
                                          null_value{}, null_value{}}))};
  EXPECT_TRUE(stale(keys, ops).empty());
}

TEST(cache_keys,
     a_minimal_after_image_takes_unchanged_key_columns_from_the_before_image) {
  auto t = sku_table();
  auto keys = keys_for("shop.sku", "sku:{id}");
  // binlog_row_image=MINIMAL: the before image holds the key, the after image
  // the changed columns only.
  std::vector<row_op> ops{
      op(op_kind::update, t,
         image({int64_t{42}, null_value{}, null_value{}, null_value{}, null_value{}},
               {true, false, false, false, false}),
         image({null_value{}, null_value{}, decimal_value{"3.00"}, null_value{},
                null_value{}},
               {false, false, true, false, false}))};
  EXPECT_EQ(stale(keys, ops), (std::vector<std::string>{"sku:42"}));
  // A template over a column neither image holds cannot be made: an error, not
  // a silently missing invalidation.
  auto by_code = keys_for("shop.sku", "code:{code}");
  auto r = by_code.of(ops);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("column code is not in the row image"), std::string::npos)
      << r.error();
  EXPECT_NE(r.error().find("shop.sku at bin.000001:100"), std::string::npos) << r.error();
}

TEST(cache_keys, refuses_missing_generated_and_unsupported_columns) {
  auto t = sku_table();
  std::vector<row_op> ops{
      op(op_kind::upsert, t, {},
         image({int64_t{1}, bytes_value{"a"}, null_value{}, null_value{}, double{2.5}}))};
  auto missing = keys_for("shop.sku", "sku:{sku_id}");
  auto r = missing.of(ops);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("has no column sku_id (its columns: id, Code, price, day, "
                           "weight)"),
            std::string::npos)
      << r.error();
  auto by_weight = keys_for("shop.sku", "w:{weight}");
  r = by_weight.of(ops);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("column weight is a DOUBLE column"), std::string::npos)
      << r.error();
  auto g = sku_table();
  g->generated = {false, true, false, false, false};
  std::vector<row_op> gen{
      op(op_kind::delete_, g,
         image({int64_t{1}, null_value{}, null_value{}, null_value{}, null_value{}},
               {true, false, true, true, true}),
         {})};
  auto by_code = keys_for("shop.sku", "c:{code}");
  r = by_code.of(gen);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("is generated"), std::string::npos) << r.error();
}

} // namespace
} // namespace shoal::binlog
