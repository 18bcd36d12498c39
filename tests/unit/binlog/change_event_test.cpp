// change_event.hpp without a server: the envelope of updates and deletes, the
// formats built from a TABLE_MAP, and the values it refuses. Every value type
// against a real server's rendering: tests/integration/binlog/change_event_test.cpp.
#include "actors/binlog/sync/change_event.hpp"

#include <gtest/gtest.h>

#include "actors/binlog/decoder/event_type.hpp"

namespace shoal::binlog {
namespace {

using nlohmann::json;

TEST(change_event, an_update_has_both_images_and_a_delete_the_key_of_its_before) {
  std::vector<column_format> cols = {{"id", "", false, {}, 0},
                                     {"name", "utf8mb4", false, {}, 0}};
  row_image before{{true, true}, {uint64_t{7}, bytes_value{"old"}}};
  row_image after{{true, true}, {uint64_t{8}, bytes_value{"new"}}};
  change_source where;
  where.pipeline = "shop";
  where.server_id = 1;
  where.db = "shop";
  where.table = "sku";
  where.at = {"binlog.000003", 4711};
  where.row = 2;
  where.gtid = "0-1-100";
  where.ts_ms = 1765130000000;
  where.transaction_id = "0-1-100";
  where.total_order = 3;
  where.data_collection_order = 1;
  auto u = change_event(change_op::update, cols, {0}, before, after, where);
  ASSERT_TRUE(u) << u.error();
  auto doc = json::parse(*u);
  EXPECT_EQ(doc.at("op"), "u");
  EXPECT_EQ(doc.at("key"), (json{{"id", 8}}));
  EXPECT_EQ(doc.at("before"), (json{{"id", 7}, {"name", "old"}}));
  EXPECT_EQ(doc.at("after"), (json{{"id", 8}, {"name", "new"}}));
  EXPECT_EQ(doc.at("source").at("file"), "binlog.000003");
  EXPECT_EQ(doc.at("source").at("pos"), 4711);
  EXPECT_EQ(doc.at("source").at("row"), 2);
  EXPECT_EQ(doc.at("source").at("gtid"), "0-1-100");
  EXPECT_EQ(doc.at("transaction").at("total_order"), 3);

  auto d = change_event(change_op::delete_, cols, {0}, before, {}, where);
  ASSERT_TRUE(d) << d.error();
  doc = json::parse(*d);
  EXPECT_EQ(doc.at("op"), "d");
  EXPECT_EQ(doc.at("key"), (json{{"id", 7}}));
  EXPECT_TRUE(doc.at("after").is_null());

  // A column the image lacks (binlog_row_image=MINIMAL) is left out, not null.
  row_image partial{{true, false}, {uint64_t{8}, null_value{}}};
  auto m = change_event(change_op::update, cols, {0}, partial, partial, where);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(json::parse(*m).at("after"), (json{{"id", 8}}));
}

TEST(change_event, images_keep_the_table_order_and_odd_names_are_escaped) {
  std::vector<column_format> cols = {{"zeta", "", false, {}, 0},
                                     {"al\"p\\ha\n", "utf8mb4", false, {}, 0}};
  row_image after{{true, true}, {uint64_t{1}, bytes_value{"x\"y"}}};
  change_source where;
  where.pipeline = "p";
  where.db = "d";
  where.table = "t\"1";
  auto c = change_event(change_op::insert, cols, {0}, {}, after, where);
  ASSERT_TRUE(c) << c.error();
  // Columns in the table's order, not sorted.
  EXPECT_NE(c->find("\"after\":{\"zeta\":1,\"al\\\"p\\\\ha\\u000a\":\"x\\\"y\"}"),
            std::string::npos)
      << *c;
  auto doc = json::parse(*c);
  EXPECT_EQ(doc.at("after").at("al\"p\\ha\n"), "x\"y");
  EXPECT_EQ(doc.at("source").at("table"), "t\"1");
  EXPECT_TRUE(doc.at("transaction").is_null());
  EXPECT_EQ(json::parse(ddl_event("DROP TABLE `t\"1`", where)).at("ddl"),
            "DROP TABLE `t\"1`");
}

TEST(change_event, formats_from_the_binlog_convert_members_and_need_full_metadata) {
  table_map tm;
  tm.schema = "shop";
  tm.table = "sku";
  column_def e;
  e.type = static_cast<uint8_t>(column_type::string);
  e.real_type = static_cast<uint8_t>(column_type::enum_);
  e.name = "size";
  e.charset = 8; // latin1_swedish_ci
  e.enum_values = {"S", "\xe9t\xe9"};
  column_def t;
  t.type = t.real_type = static_cast<uint8_t>(column_type::datetime2);
  t.length = 3;
  t.name = "at";
  tm.columns = {e, t};
  auto latin1 = [](uint32_t id) {
    return id == 8 ? std::string{"latin1"} : std::string{};
  };
  auto f = formats_of(tm, latin1);
  ASSERT_TRUE(f) << f.error();
  EXPECT_EQ(f->at(0).members, (std::vector<std::string>{"S", "\xc3\xa9t\xc3\xa9"}));
  EXPECT_EQ(f->at(1).fsp, 3);
  // Without names (binlog_row_metadata MINIMAL or NO_LOG) there is nothing to go by.
  tm.columns[1].name.reset();
  f = formats_of(tm, latin1);
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().find("binlog_row_metadata = 'FULL'"), std::string::npos)
      << f.error();
  // A collation the source does not list.
  tm.columns[1].name = "at";
  tm.columns[0].charset = 9999;
  f = formats_of(tm, latin1);
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().find("9999"), std::string::npos) << f.error();
}

TEST(change_event, a_value_it_cannot_write_faithfully_is_an_error_naming_the_column) {
  change_source where;
  where.db = "shop";
  where.table = "sku";
  auto one = [&](column_format f, column_value v) {
    row_image image{{true}, {std::move(v)}};
    auto r = change_event(change_op::insert, {f}, {}, {}, image, where);
    return r ? std::string{} : r.error();
  };
  EXPECT_EQ(one({"c", "utf8mb4", false, {}, 0}, bytes_value{"\xff"}),
            "column `c` of `shop`.`sku` holds bytes that are not valid utf8mb4");
  EXPECT_EQ(one({"c", "utf8mb3", false, {}, 0}, bytes_value{"\xf0\x9f\x90\x9f"}),
            "column `c` of `shop`.`sku` holds bytes that are not valid utf8mb3");
  EXPECT_NE(one({"c", "gbk", false, {}, 0}, bytes_value{"a"}).find("gbk"),
            std::string::npos);
  EXPECT_EQ(one({"e", "", false, {"red"}, 0}, enum_value{2}),
            "column `e` of `shop`.`sku` holds ENUM index 2 past its 1 members");
  EXPECT_EQ(one({"c", "utf8mb4", false, {}, 0}, bytes_value{"ok"}), "");
}

} // namespace
} // namespace shoal::binlog
