// stream_sink.hpp without a server: stream names from templates, the entries
// of a partition's ops (a key change as one update), DDL entries, and the
// positions the checkpoint hash keeps. Against Redis: the integration tests
// redis_stream_test and sync_stream_test.
#include "actors/binlog/sync/stream_sink.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace shoal::binlog {
namespace {

using nlohmann::json;

std::shared_ptr<const table_schema> sku() {
  auto t = std::make_shared<table_schema>();
  t->source_db = "shop";
  t->source_table = "sku";
  t->target_db = "mirror";
  t->target_table = "sku";
  t->columns = {"id", "name"};
  t->key = {0};
  t->formats = {{"id", "", false, {}, 0}, {"name", "utf8mb4", false, {}, 0}};
  return t;
}

row_op op(op_kind kind, row_kind source, change_key key, row_image before,
          row_image after) {
  row_op o;
  o.kind = kind;
  o.source = source;
  o.key = std::move(key);
  o.event_time = 1765188672;
  o.table = sku();
  o.before = std::move(before);
  o.after = std::move(after);
  return o;
}

pipeline_settings settings(const std::string& stream_key) {
  pipeline_settings s;
  s.name = "cdc";
  s.kind = target_kind::redis_stream;
  s.stream.stream_key = stream_key;
  s.filter = table_filter{{}, {}, {{"shop", "mirror"}}, "shoal"};
  return s;
}

TEST(stream_sink, templates_name_streams_and_refuse_unknown_names) {
  auto t = parse_stream_template("{{shop}}:{pipeline}:{db}.{table}:{partition}");
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(render_stream_key(*t, {"cdc", "shop", "sku", 3}), "{shop}:cdc:shop.sku:3");
  auto bad = parse_stream_template("s:{column}");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("{column} is not a name"), std::string::npos) << bad.error();
  EXPECT_FALSE(parse_stream_template("s:{db"));
  EXPECT_FALSE(stream_sink::make(settings("x:{id}")));
}

TEST(stream_sink, ops_become_events_in_order_and_a_key_change_one_update) {
  auto sink = stream_sink::make(settings("s:{db}.{table}"));
  ASSERT_TRUE(sink) << sink.error();
  change_key at{{"binlog.000003", 4711}, 1, {0, 1, 100}};
  change_key moved{{"binlog.000003", 4711}, 2, {0, 1, 100}};
  row_image a{{true, true}, {uint64_t{7}, bytes_value{"old"}}};
  row_image b{{true, true}, {uint64_t{8}, bytes_value{"new"}}};
  std::vector<row_op> ops = {
      op(op_kind::upsert, row_kind::write, at, {}, a),
      op(op_kind::delete_, row_kind::update, moved, a, {}),
      op(op_kind::upsert, row_kind::update, moved, {}, b),
      op(op_kind::mark, row_kind::write, {{"binlog.000003", 5000}, 0}, {}, {}),
  };
  ops.back().table = nullptr;
  auto entries = sink->entries(ops, 1, 9);
  ASSERT_TRUE(entries) << entries.error();
  ASSERT_EQ(entries->size(), 2u);
  auto& first = (*entries)[0];
  EXPECT_EQ(first.stream, "s:mirror.sku"); // the names after rename
  EXPECT_EQ(first.id, "binlog.000003:4711:1");
  auto c = json::parse(first.event);
  EXPECT_EQ(c.at("op"), "c");
  EXPECT_EQ(c.at("source").at("db"), "shop");
  EXPECT_EQ(c.at("source").at("server_id"), 9);
  EXPECT_EQ(c.at("source").at("ts_ms"), 1765188672000ull);
  EXPECT_EQ(c.at("transaction").at("id"), "0-1-100");
  EXPECT_EQ(c.at("transaction").at("total_order"), 1);
  EXPECT_FALSE(c.at("transaction").contains("data_collection_order"));
  auto u = json::parse((*entries)[1].event);
  EXPECT_EQ((*entries)[1].id, "binlog.000003:4711:2");
  EXPECT_EQ(u.at("op"), "u");
  EXPECT_EQ(u.at("before").at("id"), 7);
  EXPECT_EQ(u.at("key"), (json{{"id", 8}}));
}

TEST(stream_sink, for_kafka_a_key_change_is_a_delete_and_an_insert_keyed_by_row) {
  auto s = settings("{pipeline}.{db}.{table}");
  s.kind = target_kind::kafka;
  auto sink = stream_sink::make(s);
  ASSERT_TRUE(sink) << sink.error();
  change_key moved{{"binlog.000003", 4711}, 2};
  row_image a{{true, true}, {uint64_t{7}, bytes_value{"old"}}};
  row_image b{{true, true}, {uint64_t{8}, bytes_value{"new"}}};
  auto entries = sink->entries({op(op_kind::delete_, row_kind::update, moved, a, {}),
                                op(op_kind::upsert, row_kind::update, moved, {}, b)},
                               0, 1);
  ASSERT_TRUE(entries) << entries.error();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].stream, "cdc.mirror.sku");
  EXPECT_EQ((*entries)[0].key, "mirror.sku:{\"id\":7}");
  EXPECT_EQ(json::parse((*entries)[0].event).at("op"), "d");
  EXPECT_EQ((*entries)[1].key, "mirror.sku:{\"id\":8}");
  EXPECT_EQ(json::parse((*entries)[1].event).at("op"), "c");
  EXPECT_NE((*entries)[0].id, (*entries)[1].id);
  // DDL: the schema topic only.
  auto ddl = sink->ddl_entries("ALTER TABLE sku ADD n INT", "shop", {{"shop", "sku"}},
                               {{"binlog.000004", 900}, 0}, 4, 1);
  ASSERT_EQ(ddl.size(), 1u);
  EXPECT_EQ(ddl[0].stream, "shoal:cdc:schema");
}

TEST(stream_sink, a_ddl_goes_to_the_schema_stream_and_each_named_tables_streams) {
  auto sink = stream_sink::make(settings("s:{db}.{table}:{partition}"));
  ASSERT_TRUE(sink) << sink.error();
  change_key after{{"binlog.000004", 900}, 0};
  auto entries = sink->ddl_entries("ALTER TABLE sku ADD note TEXT", "shop",
                                   {{"shop", "sku"}}, after, 2, 1);
  std::vector<std::string> streams;
  for (auto& e : entries) {
    streams.push_back(e.stream);
    EXPECT_EQ(e.id, "binlog.000004:900:0");
    EXPECT_EQ(json::parse(e.event).at("op"), "ddl");
  }
  EXPECT_EQ(streams, (std::vector<std::string>{"shoal:cdc:schema", "s:mirror.sku:0",
                                               "s:mirror.sku:1"}));
}

TEST(stream_sink, positions_round_trip_through_the_checkpoint_hash_text) {
  change_key k{{"mariadb-bin.000012", 123456}, 7, {0, 2, 99}};
  auto back = parse_key_text(key_text(k));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->to_string(), k.to_string());
  EXPECT_EQ(back->gtid.to_string(), "0-2-99");
  change_key plain{{"binlog.000001", 4}, 0};
  ASSERT_TRUE(parse_key_text(key_text(plain)));
  EXPECT_TRUE(parse_key_text(key_text(plain))->gtid.empty());
  EXPECT_FALSE(parse_key_text("binlog.000001\t4\t0"));
  EXPECT_FALSE(parse_key_text("binlog.000001\tx\t0\t"));
}

} // namespace
} // namespace shoal::binlog
