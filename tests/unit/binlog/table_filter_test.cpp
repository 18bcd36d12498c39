// Which tables a pipeline selects and where they land: patterns, excludes, system
// schemas, renames.
#include "actors/binlog/decoder/table_filter.hpp"

#include <gtest/gtest.h>

namespace shoal::binlog {
namespace {

using target = std::pair<std::string, std::string>;

TEST(table_filter, glob_matches_stars_anywhere) {
  EXPECT_TRUE(table_filter::glob_match("*", ""));
  EXPECT_TRUE(table_filter::glob_match("*", "orders"));
  EXPECT_TRUE(table_filter::glob_match("orders", "orders"));
  EXPECT_FALSE(table_filter::glob_match("orders", "orders2"));
  EXPECT_FALSE(table_filter::glob_match("orders", "Orders"));
  EXPECT_TRUE(table_filter::glob_match("ord*", "ord"));
  EXPECT_TRUE(table_filter::glob_match("ord*", "orders"));
  EXPECT_TRUE(table_filter::glob_match("*ers", "orders"));
  EXPECT_TRUE(table_filter::glob_match("o*d*s", "orders"));
  EXPECT_TRUE(table_filter::glob_match("*r*r*", "orders"));
  EXPECT_FALSE(table_filter::glob_match("*r*r*r*", "orders"));
  EXPECT_TRUE(table_filter::glob_match("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(table_filter::glob_match("a*b*c", "aXbYbZ"));
  EXPECT_TRUE(table_filter::glob_match("**", "x"));
  EXPECT_FALSE(table_filter::glob_match("", "x"));
  EXPECT_TRUE(table_filter::glob_match("", ""));
}

TEST(table_filter, empty_include_selects_every_user_table) {
  table_filter f;
  EXPECT_TRUE(f.selected("shop", "orders"));
  EXPECT_TRUE(f.selected("anything", "at_all"));
}

TEST(table_filter, system_schemas_and_checkpoint_database_never_selected) {
  table_filter f{{"*.*", "mysql.user"}, {}, {}, "shoal_ckpt"};
  EXPECT_FALSE(f.selected("mysql", "user"));
  EXPECT_FALSE(f.selected("information_schema", "TABLES"));
  EXPECT_FALSE(f.selected("INFORMATION_SCHEMA", "TABLES"));
  EXPECT_FALSE(f.selected("performance_schema", "threads"));
  EXPECT_FALSE(f.selected("sys", "version"));
  EXPECT_FALSE(f.selected("shoal_ckpt", "checkpoint"));
  EXPECT_TRUE(f.selected("shoal", "checkpoint")) << "only the configured one is internal";
  EXPECT_TRUE(f.selected("mysqlx", "t"));
  EXPECT_FALSE(f.database_selected("mysql"));
  EXPECT_FALSE(f.database_selected("shoal_ckpt"));

  table_filter defaults;
  EXPECT_FALSE(defaults.selected("shoal", "checkpoint"));
}

TEST(table_filter, include_patterns_with_wildcards_in_either_part) {
  table_filter f{{"shop.*", "*.orders", "sho*.ord*"}, {}, {}};
  EXPECT_TRUE(f.selected("shop", "customers"));
  EXPECT_TRUE(f.selected("crm", "orders"));
  EXPECT_FALSE(f.selected("crm", "orders_archive"));
  EXPECT_TRUE(f.selected("shoes", "ordinals"));
  EXPECT_FALSE(f.selected("shoes", "items"));
  EXPECT_FALSE(f.selected("crm", "customers"));
  EXPECT_FALSE(f.selected("Shop", "customers")) << "names are case-sensitive";
}

TEST(table_filter, exclude_wins_over_include) {
  table_filter f{{"shop.*"}, {"shop.tmp_*", "*.audit"}, {}};
  EXPECT_TRUE(f.selected("shop", "orders"));
  EXPECT_FALSE(f.selected("shop", "tmp_import"));
  EXPECT_FALSE(f.selected("shop", "audit"));

  table_filter all_but{{}, {"scratch.*"}, {}};
  EXPECT_TRUE(all_but.selected("shop", "orders"));
  EXPECT_FALSE(all_but.selected("scratch", "x"));
  EXPECT_FALSE(all_but.database_selected("scratch"));
  EXPECT_TRUE(all_but.database_selected("shop"));
}

TEST(table_filter, pattern_without_dot_names_a_database) {
  table_filter f{{"shop"}, {}, {}};
  EXPECT_TRUE(f.selected("shop", "orders"));
  EXPECT_FALSE(f.selected("crm", "orders"));
  EXPECT_TRUE(f.database_selected("shop"));
  EXPECT_FALSE(f.database_selected("crm"));
}

TEST(table_filter, first_dot_splits_a_pattern) {
  table_filter f{{"shop.a.b"}, {}, {}};
  EXPECT_TRUE(f.selected("shop", "a.b"));
  EXPECT_FALSE(f.selected("shop.a", "b"));
}

TEST(table_filter, no_rename_keeps_names) {
  table_filter f;
  EXPECT_EQ(f.target_of("shop", "orders"), (target{"shop", "orders"}));
  EXPECT_EQ(f.target_database_of("shop"), "shop");
}

TEST(table_filter, database_rename_applies_to_every_table) {
  table_filter f{{}, {}, {{"shop", "mirror"}}};
  EXPECT_EQ(f.target_of("shop", "orders"), (target{"mirror", "orders"}));
  EXPECT_EQ(f.target_of("shop", "items"), (target{"mirror", "items"}));
  EXPECT_EQ(f.target_of("crm", "orders"), (target{"crm", "orders"}));
  EXPECT_EQ(f.target_database_of("shop"), "mirror");
}

TEST(table_filter, exact_table_rename_beats_database_rename) {
  table_filter f{{},
                 {},
                 {{"shop", "mirror"},
                  {"shop.orders", "archive.orders_2024"},
                  {"shop.items", "products"}}};
  EXPECT_EQ(f.target_of("shop", "orders"), (target{"archive", "orders_2024"}));
  EXPECT_EQ(f.target_of("shop", "items"), (target{"mirror", "products"}))
      << "a bare table name keeps the database's own rename";
  EXPECT_EQ(f.target_of("shop", "customers"), (target{"mirror", "customers"}));

  table_filter only_table{{}, {}, {{"crm.people", "contacts"}}};
  EXPECT_EQ(only_table.target_of("crm", "people"), (target{"crm", "contacts"}));
  EXPECT_EQ(only_table.target_of("crm", "other"), (target{"crm", "other"}));
}

TEST(table_filter, check_reports_malformed_patterns_and_renames) {
  EXPECT_TRUE(table_filter::check({"shop.*", "*.orders", "crm"}, {"a.b"},
                                  {{"shop", "mirror"}, {"a.b", "c.d"}, {"a.c", "e"}})
                  .empty());
  auto problems = table_filter::check({".orders", "shop."}, {""},
                                      {{"shop", "x.y"}, {"a.b", ""}, {"s*", "t"}});
  ASSERT_EQ(problems.size(), 6u);
  EXPECT_NE(problems[0].find("'.orders'"), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find("'shop.'"), std::string::npos) << problems[1];
  EXPECT_NE(problems[2].find("exclude"), std::string::npos) << problems[2];
}

} // namespace
} // namespace shoal::binlog
