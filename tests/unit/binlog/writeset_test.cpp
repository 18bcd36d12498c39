// Which transactions of a round apply in parallel ("apply": "transaction"):
// writesets, their assignment to partitions, and the stored record of the
// groups a partition committed.
#include <random>

#include <gtest/gtest.h>

#include "actors/binlog/sync/router.hpp"
#include "actors/binlog/sync/writeset.hpp"

namespace shoal::binlog {
namespace {

row_image image(std::vector<column_value> values, std::vector<bool> present = {}) {
  row_image r;
  r.present = present.empty() ? std::vector<bool>(values.size(), true) : present;
  r.values = std::move(values);
  return r;
}

std::shared_ptr<table_schema> table(const std::string& name,
                                    std::vector<uint32_t> key = {0}) {
  auto t = std::make_shared<table_schema>();
  t->source_db = t->target_db = "db";
  t->source_table = t->target_table = name;
  t->columns = {"id", "v"};
  t->key = std::move(key);
  return t;
}

row_op upsert(const std::shared_ptr<table_schema>& t, int64_t id) {
  row_op o;
  o.kind = t->has_key() ? op_kind::upsert : op_kind::insert;
  o.table = t;
  o.after = image({id, int64_t{0}});
  return o;
}

writeset ws_of(std::initializer_list<row_op> ops) {
  writeset ws;
  for (auto& op : ops)
    add_writeset(op, ws);
  return ws;
}

TEST(sync_writeset, a_row_hash_is_what_a_partition_was_routed_by) {
  auto t = table("t");
  for (int64_t id = 0; id < 50; ++id) {
    auto img = image({id, int64_t{7}});
    EXPECT_EQ(partition_of(*t, img, 8), row_hash(*t, img) % 8);
  }
  auto nokey = table("n", {});
  EXPECT_EQ(row_hash(*nokey, image({int64_t{1}, int64_t{2}})), table_hash(*nokey));
}

TEST(sync_writeset, transactions_on_one_row_share_a_partition_and_others_spread) {
  auto t = table("t");
  // 0 and 3 touch row 1; 3 and 5 touch row 9: one chain {0, 3, 5}.
  std::vector<writeset> ws{ws_of({upsert(t, 1)}), ws_of({upsert(t, 2)}),
                           ws_of({upsert(t, 3)}), ws_of({upsert(t, 1), upsert(t, 9)}),
                           ws_of({upsert(t, 4)}), ws_of({upsert(t, 9)})};
  auto where = assign_transactions(ws, {1, 1, 1, 2, 1, 1}, 4);
  ASSERT_EQ(where.size(), 6u);
  EXPECT_EQ(where[0], where[3]);
  EXPECT_EQ(where[3], where[5]);
  // The chain goes first, to partition 0; the others to the emptiest.
  EXPECT_EQ(where[0], 0u);
  EXPECT_EQ(where[1], 1u);
  EXPECT_EQ(where[2], 2u);
  EXPECT_EQ(where[4], 3u);
  EXPECT_EQ(assign_transactions(ws, {1, 1, 1, 2, 1, 1}, 4), where);
  EXPECT_EQ(assign_transactions(ws, {1, 1, 1, 2, 1, 1}, 1), std::vector<uint32_t>(6, 0));
}

TEST(sync_writeset, a_small_round_is_one_commit_and_a_large_one_spreads) {
  EXPECT_EQ(round_partitions(0, 4, 125), 1u);
  EXPECT_EQ(round_partitions(40, 4, 125), 1u);
  EXPECT_EQ(round_partitions(125, 4, 125), 1u);
  EXPECT_EQ(round_partitions(126, 4, 125), 2u);
  EXPECT_EQ(round_partitions(375, 4, 125), 3u);
  EXPECT_EQ(round_partitions(4000, 4, 125), 4u);
  EXPECT_EQ(round_partitions(4000, 1, 125), 1u);
  // A share of 0 rows is taken as 1: every row its own partition, up to the count.
  EXPECT_EQ(round_partitions(3, 8, 0), 3u);
}

TEST(sync_writeset, a_key_change_touches_the_old_and_the_new_row) {
  auto t = table("t");
  row_op del;
  del.kind = op_kind::delete_;
  del.table = t;
  del.before = image({int64_t{1}, int64_t{0}});
  // Transaction 1 moves row 1 to 2; 0 wrote row 1, 2 writes row 2.
  std::vector<writeset> ws{ws_of({upsert(t, 1)}), ws_of({del, upsert(t, 2)}),
                           ws_of({upsert(t, 2)})};
  auto where = assign_transactions(ws, {1, 2, 1}, 8);
  EXPECT_EQ(where[0], where[1]);
  EXPECT_EQ(where[1], where[2]);
}

TEST(sync_writeset, a_key_change_with_a_partial_after_image_touches_both_rows) {
  auto t = table("t");
  // binlog_row_image=MINIMAL: UPDATE t SET id=2 WHERE id=1 logs the key before
  // and only the changed column after; it is applied as one UPDATE.
  row_op move;
  move.kind = op_kind::update;
  move.table = t;
  move.before = image({int64_t{1}, int64_t{0}}, {true, false});
  move.after = image({int64_t{2}, int64_t{0}}, {true, false});
  row_op touch = move;
  touch.before = image({int64_t{2}, int64_t{0}}, {true, false});
  touch.after = image({int64_t{0}, int64_t{9}}, {false, true});
  auto where = assign_transactions({ws_of({move}), ws_of({touch})}, {1, 1}, 8);
  EXPECT_EQ(where[0], where[1]);
  // The same update without a key change touches one row.
  auto stay = touch;
  stay.before = image({int64_t{5}, int64_t{0}}, {true, false});
  where = assign_transactions({ws_of({stay}), ws_of({touch})}, {1, 1}, 8);
  EXPECT_NE(where[0], where[1]);
}

TEST(sync_writeset, a_whole_table_conflicts_with_every_row_of_it_only_in_that_round) {
  auto t = table("t");
  auto nokey = table("t", {}); // the same target table, matched without its key
  auto other = table("o");
  std::vector<writeset> ws{ws_of({upsert(t, 1)}), ws_of({upsert(t, 2)}),
                           ws_of({upsert(other, 1)}), ws_of({upsert(nokey, 5)})};
  auto where = assign_transactions(ws, {1, 1, 1, 1}, 4);
  EXPECT_EQ(where[0], where[1]);
  EXPECT_EQ(where[1], where[3]);
  EXPECT_NE(where[2], where[0]);
  // Without the whole-table transaction, rows of t spread.
  ws.pop_back();
  where = assign_transactions(ws, {1, 1, 1}, 4);
  EXPECT_NE(where[0], where[1]);
}

TEST(sync_writeset, single_partition_tables_go_whole) {
  auto t = table("t");
  t->single_partition = true;
  auto where =
      assign_transactions({ws_of({upsert(t, 1)}), ws_of({upsert(t, 2)})}, {1, 1}, 4);
  EXPECT_EQ(where[0], where[1]);
}

TEST(sync_writeset, chains_balance_rows_over_partitions) {
  auto t = table("t");
  std::vector<writeset> ws;
  std::vector<size_t> rows;
  for (int64_t id = 0; id < 400; ++id) {
    ws.push_back(ws_of({upsert(t, id)}));
    rows.push_back(static_cast<size_t>(1 + id % 3));
  }
  auto where = assign_transactions(ws, rows, 4);
  std::vector<size_t> load(4, 0);
  for (size_t i = 0; i < where.size(); ++i)
    load[where[i]] += rows[i];
  auto [lo, hi] = std::minmax_element(load.begin(), load.end());
  EXPECT_LE(*hi - *lo, 3u);
}

TEST(sync_writeset, group_sets_round_trip_and_a_corrupt_blob_is_refused) {
  std::mt19937 rng{7};
  for (int round = 0; round < 200; ++round) {
    std::vector<uint32_t> v;
    uint32_t at = 0;
    for (int i = 0, n = static_cast<int>(rng() % 50); i < n; ++i) {
      at += 1 + rng() % (round % 2 ? 3u : 100000u);
      v.push_back(i == 0 && round % 3 == 0 ? 0 : at);
      at = v.back();
    }
    auto decoded = decode_groups(encode_groups(v));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, v);
  }
  EXPECT_EQ(decode_groups(""), std::vector<uint32_t>{});
  EXPECT_EQ(encode_groups({0, 1, 300}).size(), 4u);
  EXPECT_FALSE(decode_groups(std::string{"\x85"}));        // cut off in a varint
  EXPECT_FALSE(decode_groups(std::string{"\x05\x00", 2})); // not ascending
  EXPECT_FALSE(decode_groups(std::string{"\xff\xff\xff\xff\xff\x01"})); // too long
}

} // namespace
} // namespace shoal::binlog
