// The pure parts of the sync pipeline: positions and keys, routing, SQL
// generation and batching, checkpoint resume and partition-count changes, the
// resend floor, DDL parsing.
#include <algorithm>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "actors/binlog/sync/checkpoint.hpp"
#include "actors/binlog/sync/ddl_plan.hpp"
#include "actors/binlog/sync/ddl_statement.hpp"
#include "actors/binlog/sync/key_choice.hpp"
#include "actors/binlog/sync/resend_floor.hpp"
#include "actors/binlog/sync/router.hpp"
#include "actors/binlog/sync/sql_builder.hpp"
#include "actors/binlog/sync/xa_tracker.hpp"

namespace shoal::binlog {
namespace {

row_image image(std::vector<column_value> values, std::vector<bool> present = {}) {
  row_image r;
  r.present = present.empty() ? std::vector<bool>(values.size(), true) : present;
  r.values = std::move(values);
  return r;
}

std::shared_ptr<table_schema> table(std::vector<uint32_t> key = {0}) {
  auto t = std::make_shared<table_schema>();
  t->source_db = t->target_db = "db";
  t->source_table = t->target_table = "t";
  t->columns = {"id", "name", "qty"};
  t->key = std::move(key);
  return t;
}

row_op op(op_kind kind, std::shared_ptr<table_schema> t, row_image before,
          row_image after, uint64_t index = 1) {
  row_op o;
  o.kind = kind;
  o.table = std::move(t);
  o.before = std::move(before);
  o.after = std::move(after);
  o.key = {{"bin.000001", 100}, index};
  return o;
}

// The statements for `ops`, each checked to be at most `bound` long.
std::vector<std::string> statements_within(const std::vector<row_op>& ops, size_t bound) {
  auto batch = build_statements(ops, bound);
  EXPECT_EQ(batch.error, "");
  for (auto& s : batch.statements)
    EXPECT_LE(s.size(), bound) << s.substr(0, 100);
  return batch.statements;
}

std::vector<std::string> statements_of(const std::vector<row_op>& ops) {
  return statements_within(ops, 1 << 22);
}

TEST(sync_positions, files_order_by_number_and_keys_by_position_then_index) {
  EXPECT_TRUE((binlog_position{"bin.000009", 900} < binlog_position{"bin.000010", 4}));
  EXPECT_TRUE((binlog_position{"bin.999999", 4} < binlog_position{"bin.1000000", 4}));
  EXPECT_TRUE((change_key{{"b.000001", 100}, 3} < change_key{{"b.000001", 100}, 4}));
  EXPECT_TRUE((change_key{{"b.000001", 100}, 9} < change_key{{"b.000001", 101}, 0}));
  EXPECT_TRUE((change_key{{"b.000001", 100}, 0} < change_key{{"b.000001", 100}, 1}));
}

TEST(sync_router, same_key_same_partition_and_spread_over_partitions) {
  auto t = table();
  std::vector<int> hits(8);
  for (int64_t id = 0; id < 8000; ++id) {
    auto a = partition_of(*t, image({id, bytes_value{"x"}, int64_t{1}}), 8);
    auto b = partition_of(*t, image({id, bytes_value{"other"}, null_value{}}), 8);
    ASSERT_EQ(a, b);
    ++hits.at(a);
  }
  for (auto h : hits)
    EXPECT_GT(h, 800);
  // Stable across processes: a fixed value.
  EXPECT_EQ(fnv1a(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a("a"), 0xaf63dc4c8601ec8cULL);
  auto nokey = table({});
  auto p = partition_of(*nokey, image({int64_t{1}, null_value{}, null_value{}}), 8);
  EXPECT_EQ(p,
            partition_of(*nokey, image({int64_t{2}, bytes_value{"y"}, int64_t{3}}), 8));
}

TEST(sync_router, tables_whose_keys_can_collide_stay_on_one_partition) {
  auto t = table();
  t->single_partition = true;
  auto first = partition_of(*t, image({int64_t{0}, bytes_value{"x"}, int64_t{1}}), 8);
  for (int64_t id = 1; id < 200; ++id)
    ASSERT_EQ(partition_of(*t, image({id, bytes_value{"x"}, int64_t{1}}), 8), first);
}

TEST(sync_router, a_pad_space_key_hashes_without_its_trailing_spaces) {
  auto t = table({1});
  t->key_pads = {true};
  std::set<uint32_t> spread;
  for (int i = 0; i < 100; ++i) {
    auto name = "name-" + std::to_string(i);
    auto bare = partition_of(*t, image({int64_t{1}, bytes_value{name}, int64_t{1}}), 8);
    auto padded =
        partition_of(*t, image({int64_t{2}, bytes_value{name + "   "}, int64_t{1}}), 8);
    ASSERT_EQ(bare, padded) << name;
    spread.insert(bare);
  }
  EXPECT_GT(spread.size(), 4u) << "still spread over the partitions";
  t->key_pads = {false};
  int differ = 0;
  for (int i = 0; i < 100; ++i) {
    auto name = "name-" + std::to_string(i);
    differ +=
        partition_of(*t, image({int64_t{1}, bytes_value{name}, int64_t{1}}), 8) !=
        partition_of(*t, image({int64_t{1}, bytes_value{name + " "}, int64_t{1}}), 8);
  }
  EXPECT_GT(differ, 50) << "a NO PAD key keeps its trailing spaces";
}

TEST(sync_router, updates_become_upserts_updates_or_moves) {
  auto t = table();
  row_change full{image({int64_t{1}, bytes_value{"a"}, int64_t{1}}),
                  image({int64_t{1}, bytes_value{"b"}, int64_t{1}})};
  auto ops = ops_for_row(row_kind::update, t, full, {}, 0);
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].kind, op_kind::upsert);
  EXPECT_EQ(ops[0].source, row_kind::update) << "an upsert still says it was an UPDATE";
  ops = ops_for_row(row_kind::write, t, {{}, full.after}, {}, 0);
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].kind, op_kind::upsert);
  EXPECT_EQ(ops[0].source, row_kind::write);
  row_change moved{image({int64_t{1}, bytes_value{"a"}, int64_t{1}}),
                   image({int64_t{2}, bytes_value{"a"}, int64_t{1}})};
  EXPECT_TRUE(changes_key(*t, moved));
  ops = ops_for_row(row_kind::update, t, moved, {}, 0);
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].kind, op_kind::delete_);
  EXPECT_EQ(ops[1].kind, op_kind::upsert);
  EXPECT_EQ(ops[0].source, row_kind::update) << "a key move is one UPDATE at the source";
  EXPECT_EQ(ops[1].source, row_kind::update);
  row_change minimal{
      image({int64_t{1}, null_value{}, null_value{}}, {true, false, false}),
      image({null_value{}, bytes_value{"z"}, null_value{}}, {false, true, false})};
  EXPECT_FALSE(changes_key(*t, minimal));
  ops = ops_for_row(row_kind::update, t, minimal, {}, 0);
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].kind, op_kind::update);
  ops = ops_for_row(row_kind::delete_, table({}), full, {}, 0);
  EXPECT_EQ(ops.at(0).kind, op_kind::delete_matching);
  EXPECT_EQ(ops.at(0).source, row_kind::delete_);
}

TEST(sync_sql, literals_are_exact_and_binary_safe) {
  EXPECT_EQ(sql_literal(null_value{}), "NULL");
  EXPECT_EQ(sql_literal(int64_t{-9223372036854775807LL - 1}), "-9223372036854775808");
  EXPECT_EQ(sql_literal(uint64_t{18446744073709551615ULL}), "18446744073709551615");
  EXPECT_EQ(sql_literal(bytes_value{std::string{"a\0'", 3}}), "x'610027'");
  EXPECT_EQ(sql_literal(bytes_value{""}), "x''");
  EXPECT_EQ(sql_literal(date_value{0, 0, 0}), "'0000-00-00'");
  EXPECT_EQ(sql_literal(time_value{true, 838, 59, 59, 0}), "'-838:59:59'");
  EXPECT_EQ(sql_literal(time_value{true, 0, 0, 1, 500000}), "'-00:00:01.500000'");
  EXPECT_EQ(sql_literal(timestamp_value{1, 1}), "'1970-01-01 00:00:01.000001'");
  EXPECT_EQ(sql_literal(timestamp_value{0, 0}), "'0000-00-00 00:00:00'");
  EXPECT_EQ(sql_literal(decimal_value{"-1.50"}), "-1.50");
  EXPECT_EQ(sql_literal(double{0.1}), "0.10000000000000001");
  EXPECT_EQ(sql_literal(float{1.1f}), "1.1000000238418579");
  EXPECT_EQ(sql_identifier("we`ird"), "`we``ird`");
}

TEST(sync_sql, consecutive_changes_batch_into_multi_row_statements_in_order) {
  auto t = table();
  std::vector<row_op> ops;
  for (int64_t i = 0; i < 3; ++i)
    ops.push_back(op(op_kind::upsert, t, {}, image({i, bytes_value{"n"}, i})));
  ops.push_back(
      op(op_kind::delete_, t, image({int64_t{1}, null_value{}, null_value{}}), {}));
  ops.push_back(
      op(op_kind::delete_, t, image({int64_t{2}, null_value{}, null_value{}}), {}));
  ops.push_back(row_op{});
  ops.push_back(
      op(op_kind::upsert, t, {}, image({int64_t{1}, bytes_value{"m"}, null_value{}})));
  auto sql = statements_of(ops);
  // Collapsed to the last change per key: 2 deleted, 0 and 1 upserted.
  ASSERT_EQ(sql.size(), 2u);
  EXPECT_EQ(sql[0], "DELETE FROM `db`.`t` WHERE `id` IN (2)");
  EXPECT_EQ(sql[1],
            "INSERT INTO `db`.`t` (`id`,`name`,`qty`) VALUES (0,x'6e',0),(1,x'6d',NULL)"
            " ON DUPLICATE KEY UPDATE `id`=VALUES(`id`),`name`=VALUES(`name`),"
            "`qty`=VALUES(`qty`)");
  // A partial update is a boundary: what comes before is applied before it.
  auto partial_name =
      image({null_value{}, bytes_value{"p"}, null_value{}}, {false, true, false});
  sql = statements_of(
      {op(op_kind::upsert, t, {}, image({int64_t{1}, bytes_value{"a"}, int64_t{1}})),
       op(op_kind::update, t, image({int64_t{1}, null_value{}, null_value{}}),
          partial_name),
       op(op_kind::delete_, t, image({int64_t{1}, null_value{}, null_value{}}), {})});
  ASSERT_EQ(sql.size(), 3u);
  EXPECT_EQ(sql[0].substr(0, 11), "INSERT INTO");
  EXPECT_EQ(sql[1], "UPDATE `db`.`t` SET `name`=x'70' WHERE `id`=1");
  EXPECT_EQ(sql[2], "DELETE FROM `db`.`t` WHERE `id` IN (1)");
  auto two = table({0, 2});
  sql = statements_of(
      {op(op_kind::delete_, two, image({int64_t{1}, null_value{}, int64_t{2}}), {}),
       op(op_kind::delete_, two, image({int64_t{3}, null_value{}, int64_t{4}}), {})});
  ASSERT_EQ(sql.size(), 1u);
  EXPECT_EQ(sql[0],
            "DELETE FROM `db`.`t` WHERE (`id`=1 AND `qty`=2) OR (`id`=3 AND `qty`=4)");
  auto partial =
      image({null_value{}, bytes_value{"z"}, null_value{}}, {false, true, false});
  sql = statements_of(
      {op(op_kind::update, t, image({int64_t{5}, null_value{}, null_value{}}), partial),
       op(op_kind::update_matching, table({}),
          image({int64_t{5}, null_value{}, double{0.5}}), partial)});
  ASSERT_EQ(sql.size(), 2u);
  EXPECT_EQ(sql[0], "UPDATE `db`.`t` SET `name`=x'7a' WHERE `id`=5");
  EXPECT_EQ(sql[1],
            "UPDATE `db`.`t` SET `name`=x'7a' WHERE `id`<=>5 AND `name`<=>NULL AND "
            "`qty`<=>0.5 LIMIT 1");
}

TEST(sync_sql, rows_of_a_table_whose_keys_can_collide_keep_their_order) {
  auto t = table();
  t->single_partition = true;
  // C frees "x", A takes it, C changes again: collapsing to the last change per
  // key would write A before C's first change.
  auto sql = statements_of(
      {op(op_kind::upsert, t, {}, image({int64_t{3}, bytes_value{"y"}, int64_t{0}})),
       op(op_kind::upsert, t, {}, image({int64_t{1}, bytes_value{"x"}, int64_t{0}})),
       op(op_kind::upsert, t, {}, image({int64_t{3}, bytes_value{"z"}, int64_t{0}})),
       op(op_kind::delete_, t, image({int64_t{1}, null_value{}, null_value{}}), {}),
       op(op_kind::upsert, t, {}, image({int64_t{2}, bytes_value{"x"}, int64_t{0}}))});
  ASSERT_EQ(sql.size(), 3u);
  EXPECT_EQ(sql[0],
            "INSERT INTO `db`.`t` (`id`,`name`,`qty`) VALUES (3,x'79',0),(1,x'78',0),"
            "(3,x'7a',0) ON DUPLICATE KEY UPDATE `id`=VALUES(`id`),`name`=VALUES(`name`),"
            "`qty`=VALUES(`qty`)");
  EXPECT_EQ(sql[1], "DELETE FROM `db`.`t` WHERE `id` IN (1)");
  EXPECT_EQ(sql[2].substr(0, 50), "INSERT INTO `db`.`t` (`id`,`name`,`qty`) VALUES (2");
}

TEST(sync_sql, statements_split_at_the_size_limit) {
  auto t = table();
  std::vector<row_op> ops;
  for (int64_t i = 0; i < 100; ++i)
    ops.push_back(
        op(op_kind::insert, t, {}, image({i, bytes_value{std::string(100, 'x')}, i})));
  auto sql = statements_within(ops, 1000);
  EXPECT_GT(sql.size(), 5u);
  size_t rows = 0;
  for (auto& s : sql)
    rows += static_cast<size_t>(std::count(s.begin(), s.end(), '(')) - 1;
  EXPECT_EQ(rows, 100u);
}

// Bytes of a random length up to `most`: mostly a few, often up to a quarter of
// `most`, sometimes more than half of it, so rows fill statements unevenly.
std::string random_bytes(std::mt19937& rng, size_t most) {
  auto roll = rng() % 100;
  size_t n = roll < 60   ? rng() % 40
             : roll < 90 ? rng() % (most / 4)
                         : most / 2 + rng() % (most / 2);
  std::string out(n, '\0');
  for (auto& c : out)
    c = static_cast<char>(rng());
  return out;
}

// How many times `needle` occurs in all of `sql`.
size_t occurrences(const std::vector<std::string>& sql, const std::string& needle) {
  size_t n = 0;
  for (auto& s : sql)
    for (auto at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1))
      ++n;
  return n;
}

constexpr size_t bound = 20000;
// The largest blob whose hex literal leaves room for the rest of a one-row
// statement (and two of them for the matching statements).
constexpr size_t one_blob = (bound - 400) / 2;
constexpr size_t two_blobs = (bound - 400) / 4;

TEST(sync_sql, multi_row_inserts_and_upserts_stay_within_the_bound) {
  std::mt19937 rng{7};
  auto keyed = table();
  auto in_order = table();
  in_order->single_partition = true;
  for (auto kind : {op_kind::insert, op_kind::upsert}) {
    for (auto& t : {table({}), keyed, in_order}) {
      if ((kind == op_kind::insert) != t->key.empty())
        continue;
      std::vector<row_op> ops;
      for (int64_t i = 0; i < 400; ++i)
        ops.push_back(
            op(kind, t, {},
               image({1000000 + i, bytes_value{random_bytes(rng, one_blob)}, i})));
      auto sql = statements_within(ops, bound);
      EXPECT_GT(sql.size(), 10u);
      if (kind == op_kind::upsert) {
        EXPECT_LT(sql.size(), 300u) << "rows share statements";
      }
      for (int64_t i = 0; i < 400; ++i)
        ASSERT_EQ(occurrences(sql, "(" + std::to_string(1000000 + i) + ",x'"), 1u) << i;
    }
  }
}

TEST(sync_sql, multi_row_deletes_stay_within_the_bound) {
  std::mt19937 rng{8};
  // One integer key: IN lists of thousands of keys.
  auto t = table();
  std::vector<row_op> ops;
  for (int64_t i = 0; i < 5000; ++i)
    ops.push_back(
        op(op_kind::delete_, t, image({1000000 + i, null_value{}, null_value{}}), {}));
  auto sql = statements_within(ops, 2000);
  EXPECT_GT(sql.size(), 20u);
  std::multiset<std::string> keys;
  for (auto& s : sql) {
    auto list = s.substr(s.find(" IN (") + 5);
    ASSERT_EQ(list.back(), ')') << s;
    list.pop_back();
    for (size_t at = 0, end; at <= list.size(); at = end + 1) {
      end = std::min(list.find(',', at), list.size());
      keys.insert(list.substr(at, end - at));
    }
  }
  ASSERT_EQ(keys.size(), 5000u);
  for (int64_t i = 0; i < 5000; ++i)
    ASSERT_EQ(keys.count(std::to_string(1000000 + i)), 1u) << i;
  // A key of random bytes, alone and with a second column (OR-ed tuples).
  for (auto key : {std::vector<uint32_t>{1}, std::vector<uint32_t>{0, 1}}) {
    auto keyed = table(key);
    ops.clear();
    for (int64_t i = 0; i < 400; ++i)
      ops.push_back(
          op(op_kind::delete_, keyed,
             image({1000000 + i,
                    bytes_value{std::to_string(i) + "/" + random_bytes(rng, one_blob)},
                    null_value{}}),
             {}));
    sql = statements_within(ops, bound);
    EXPECT_GT(sql.size(), 10u);
    EXPECT_LT(sql.size(), 300u);
    size_t written = 0;
    for (auto& s : sql)
      written += static_cast<size_t>(std::count(s.begin(), s.end(), 'x'));
    EXPECT_EQ(written, 400u) << "one hex literal per deleted row";
  }
}

TEST(sync_sql, one_row_statements_and_collapsed_runs_stay_within_the_bound) {
  std::mt19937 rng{9};
  auto keyed = table();
  auto nokey = table({});
  auto partial = [&](size_t most) {
    return image({null_value{}, bytes_value{random_bytes(rng, most)}, null_value{}},
                 {false, true, false});
  };
  std::vector<row_op> ops;
  for (int64_t i = 0; i < 600; ++i) {
    auto blob = bytes_value{random_bytes(rng, one_blob)};
    switch (rng() % 6) {
    case 0:
      ops.push_back(op(op_kind::upsert, keyed, {}, image({i % 50, blob, i})));
      break;
    case 1:
      ops.push_back(
          op(op_kind::delete_, keyed, image({i % 50, null_value{}, null_value{}}), {}));
      break;
    case 2:
      ops.push_back(op(op_kind::update, keyed,
                       image({i % 50, null_value{}, null_value{}}), partial(one_blob)));
      break;
    case 3:
      ops.push_back(op(op_kind::insert, nokey, {}, image({i, blob, i})));
      break;
    case 4:
      ops.push_back(op(op_kind::update_matching, nokey,
                       image({i, bytes_value{random_bytes(rng, two_blobs)}, i}),
                       partial(two_blobs)));
      break;
    default:
      ops.push_back(op(op_kind::delete_matching, nokey, image({i, blob, i}), {}));
    }
  }
  auto sql = statements_within(ops, bound);
  EXPECT_GT(sql.size(), 100u);
}

TEST(sync_sql, a_statement_may_be_exactly_as_long_as_the_bound) {
  auto t = table();
  std::vector<row_op> ops{
      op(op_kind::upsert, t, {}, image({int64_t{1}, bytes_value{"aa"}, int64_t{1}})),
      op(op_kind::upsert, t, {}, image({int64_t{2}, bytes_value{"bb"}, int64_t{2}}))};
  auto both = statements_within(ops, 1 << 20);
  ASSERT_EQ(both.size(), 1u);
  EXPECT_EQ(statements_within(ops, both[0].size()), both);
  auto split = statements_within(ops, both[0].size() - 1);
  ASSERT_EQ(split.size(), 2u);
  auto alone = statements_within({ops[0]}, 1 << 20);
  EXPECT_EQ(split[0], alone.at(0));
  EXPECT_EQ(statements_within({ops[0]}, alone[0].size()), alone);
}

TEST(sync_sql, the_budget_is_the_packet_less_the_headroom) {
  EXPECT_EQ(statement_budget(16 << 20), (16u << 20) - statement_headroom);
  EXPECT_EQ(statement_budget(1 << 20), (1u << 20) - 4096);
  EXPECT_EQ(statement_budget(8192), 4096u);
  EXPECT_EQ(statement_budget(1024), 512u) << "the server's minimum";
  EXPECT_EQ(statement_budget(1ULL << 30), (1u << 30) - 4096) << "the server's maximum";
}

TEST(sync_sql, a_row_too_long_for_the_bound_is_an_error_naming_table_key_and_setting) {
  auto t = table();
  std::string big(3000, 'x');
  std::vector<row_op> ops;
  for (int64_t i = 0; i < 5; ++i)
    ops.push_back(op(op_kind::upsert, t, {}, image({i, bytes_value{"small"}, i})));
  ops.push_back(
      op(op_kind::upsert, t, {}, image({int64_t{42}, bytes_value{big}, int64_t{1}})));
  ops.push_back(
      op(op_kind::upsert, t, {}, image({int64_t{43}, bytes_value{"after"}, int64_t{1}})));
  auto batch = build_statements(ops, 2000);
  EXPECT_TRUE(batch.statements.empty()) << "no part of a batch";
  auto alone = statements_of({ops[5]}).at(0).size();
  EXPECT_EQ(batch.error,
            "row `id`=42 of `db`.`t` needs a statement of " + std::to_string(alone) +
                " bytes, but the target takes at most 2000 (its max_allowed_packet less "
                "4096): raise max_allowed_packet on the target to at least 1048576 (1M) "
                "with SET GLOBAL, which new connections take, and in its config file");
  auto error = [&](row_op o, size_t bound) {
    auto b = build_statements({o}, bound);
    EXPECT_TRUE(b.statements.empty());
    EXPECT_LT(b.error.size(), 600u) << "values are abbreviated";
    return b.error;
  };
  auto starts = [](const std::string& s, const std::string& prefix) {
    return s.substr(0, prefix.size()) == prefix;
  };
  // A value abbreviated to its first 32 characters.
  auto xs = "'" + std::string(31, 'x') + "...";
  // Every kind of statement, by the key it names.
  auto e = error(op(op_kind::delete_, table({1}),
                    image({null_value{}, bytes_value{big}, null_value{}}), {}),
                 2000);
  EXPECT_TRUE(starts(e, "row `name`=" + xs + " of `db`.`t` needs")) << e;
  e = error(op(op_kind::delete_, table({0, 1}),
               image({int64_t{1}, bytes_value{big}, null_value{}}), {}),
            2000);
  EXPECT_TRUE(starts(e, "row `id`=1, `name`=" + xs + " of")) << e;
  e = error(
      op(op_kind::update, t, image({int64_t{7}, null_value{}, null_value{}}),
         image({null_value{}, bytes_value{big}, null_value{}}, {false, true, false})),
      2000);
  EXPECT_TRUE(starts(e, "row `id`=7 of `db`.`t` needs")) << e;
  // Each image fits alone, not the two of them.
  auto half = std::string(700, 'h');
  e = error(op(op_kind::update_matching, table({}),
               image({int64_t{9}, bytes_value{half}, null_value{}}),
               image({int64_t{9}, bytes_value{half}, null_value{}})),
            2000);
  EXPECT_TRUE(starts(e, "row without a key (`id`=9, `name`='" + std::string(31, 'h') +
                            "..., "
                            "`qty`=NULL) of `db`.`t` needs"))
      << e;
  e = error(op(op_kind::delete_matching, table({}),
               image({int64_t{9}, bytes_value{big}, null_value{}}), {}),
            2000);
  EXPECT_TRUE(starts(e, "row without a key (`id`=9, ")) << e;
  e = error(op(op_kind::insert, table({}), {},
               image({int64_t{9}, bytes_value{big}, null_value{}})),
            2000);
  EXPECT_TRUE(starts(e, "row without a key (`id`=9, ")) << e;
  auto renamed = table();
  renamed->target_table = "t2";
  e = error(
      op(op_kind::upsert, renamed, {}, image({int64_t{5}, bytes_value{big}, int64_t{1}})),
      2000);
  EXPECT_TRUE(starts(e, "row `id`=5 of `db`.`t` (`db`.`t2` on the target) needs")) << e;
  // The setting to ask for holds the statement with the headroom, in whole MiB.
  e = error(op(op_kind::upsert, t, {},
               image({int64_t{5}, bytes_value{std::string(1 << 20, 'x')}, int64_t{1}})),
            statement_budget(1 << 20));
  EXPECT_NE(e.find("to at least 3145728 (3M) with"), std::string::npos) << e;
}

TEST(sync_checkpoint, resume_is_the_lowest_partition_and_needs_every_partition) {
  std::vector<std::optional<change_key>> keys{change_key{{"b.000002", 50}, 3},
                                              change_key{{"b.000001", 900}, 0},
                                              change_key{{"b.000002", 4}, 1}};
  auto at = resume_position(keys);
  ASSERT_TRUE(at);
  EXPECT_EQ(at->to_string(), "b.000001:900");
  keys.push_back(std::nullopt);
  EXPECT_FALSE(resume_position(keys));
  EXPECT_FALSE(resume_position({}));
  auto sql = checkpoint_store_sql("shoal", "it's", 2, {{"b.000001", 7}, 3});
  EXPECT_NE(sql.find("'it''s',2,'b.000001',7,3"), std::string::npos) << sql;
}

TEST(mysql_gtid_set, reads_and_writes_the_text_of_gtid_executed) {
  const std::string a = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
  const std::string b = "00000000-0000-0000-0000-000000000001";
  auto s = mysql_gtid_set::parse(" 3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7,\n" + b +
                                 ":3:1-2");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->to_string(), b + ":1-3," + a + ":1-5:7");
  EXPECT_TRUE(s->contains(a, 5));
  EXPECT_FALSE(s->contains(a, 6));
  EXPECT_TRUE(s->contains(a, 7));
  EXPECT_FALSE(s->contains(a, 8));
  EXPECT_FALSE(s->contains("ffffffff-0000-0000-0000-000000000001", 1));
  // Adding fills gaps and merges what touches.
  EXPECT_TRUE(s->add(a, 6));
  EXPECT_EQ(s->to_string(), b + ":1-3," + a + ":1-7");
  EXPECT_TRUE(s->add(a, 10, 12));
  EXPECT_TRUE(s->add(a, 9, 9));
  EXPECT_EQ(s->to_string(), b + ":1-3," + a + ":1-7:9-12");
  EXPECT_TRUE(s->add(a, 2, 20));
  EXPECT_EQ(s->to_string(), b + ":1-3," + a + ":1-20");
  EXPECT_FALSE(s->add(a, 0));
  EXPECT_FALSE(s->add(a, 5, 4));
  EXPECT_EQ(mysql_gtid_set::parse(s->to_string()), s);
  EXPECT_TRUE(mysql_gtid_set::parse("")->empty());
  EXPECT_EQ(mysql_gtid_set::parse("3e11fa4771ca11e19e33c80aa9429562:4")->to_string(),
            a + ":4");
  for (auto bad : {"3e11fa47-71ca-11e1-9e33-c80aa9429562", "3e11fa47:1",
                   "3e11fa47-71ca-11e1-9e33-c80aa9429562:0",
                   "3e11fa47-71ca-11e1-9e33-c80aa9429562:5-4",
                   "3e11fa47-71ca-11e1-9e33-c80aa9429562:x",
                   "3e11fa47-71ca-11e1-9e33-c80aa9429562:tag:1",
                   "3e11fa4-771ca-11e1-9e33-c80aa9429562:1",
                   "3e11fa47-71ca-11e1-9e33-c80aa9429562:1,"})
    EXPECT_FALSE(mysql_gtid_set::parse(bad)) << bad;
}

TEST(sync_checkpoint, a_key_keeps_its_gtid_which_is_not_part_of_its_order) {
  auto g = mariadb_gtid::parse("0-7-12345678901");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->domain_id, 0u);
  EXPECT_EQ(g->server_id, 7u);
  EXPECT_EQ(g->seq_no, 12345678901u);
  EXPECT_EQ(g->to_string(), "0-7-12345678901");
  for (auto* bad : {"", "0-1", "0-1-0", "0-1-2,1-1-3", "a-1-2", "0--2", "4294967296-1-2",
                    "0-1-99999999999999999999", "-0-1-2", "0-1-2-"})
    EXPECT_FALSE(mariadb_gtid::parse(bad)) << bad;
  EXPECT_EQ(mariadb_gtid{}.to_string(), "");
  change_key a{{"b.000001", 7}, 3, *g};
  change_key b{{"b.000001", 7}, 3};
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a < b || b < a);
  auto sql = checkpoint_store_sql("shoal", "p", 0, a);
  EXPECT_NE(sql.find("'b.000001',7,3,'0-7-12345678901')"), std::string::npos) << sql;
  EXPECT_NE(sql.find("gtid=VALUES(gtid)"), std::string::npos) << sql;
}

TEST(sync_ddl, finds_the_tables_a_statement_touches) {
  auto d = parse_ddl("ALTER TABLE `shop`.orders ADD c INT", "x");
  EXPECT_EQ(d.scope, ddl_scope::tables);
  EXPECT_EQ(d.tables,
            (std::vector<std::pair<std::string, std::string>>{{"shop", "orders"}}));
  d = parse_ddl("/* c */ CREATE TABLE IF NOT EXISTS t (id INT)", "db");
  EXPECT_EQ(d.tables.at(0), (std::pair<std::string, std::string>{"db", "t"}));
  d = parse_ddl("DROP TABLE `a` /* generated by server */", "db");
  EXPECT_EQ(d.tables.at(0).second, "a");
  d = parse_ddl("DROP TABLE IF EXISTS a, other.b", "db");
  EXPECT_EQ(d.tables.size(), 2u);
  EXPECT_EQ(d.tables.at(1), (std::pair<std::string, std::string>{"other", "b"}));
  d = parse_ddl("RENAME TABLE a TO b, d2.c TO d2.e", "db");
  EXPECT_EQ(d.tables.size(), 4u);
  EXPECT_EQ(d.tables.at(3), (std::pair<std::string, std::string>{"d2", "e"}));
  d = parse_ddl("TRUNCATE t", "db");
  EXPECT_EQ(d.tables.at(0).second, "t");
  d = parse_ddl("CREATE UNIQUE INDEX i ON db2.t (a)", "db");
  EXPECT_EQ(d.tables.at(0), (std::pair<std::string, std::string>{"db2", "t"}));
  d = parse_ddl("create database if not exists `new``db`", "");
  EXPECT_EQ(d.scope, ddl_scope::database);
  EXPECT_EQ(d.tables.at(0).first, "new`db");
  EXPECT_EQ(d.verb, "CREATE DATABASE");
  d = parse_ddl("CREATE TEMPORARY TABLE tmp (a INT)", "db");
  EXPECT_TRUE(d.temporary);
  d = parse_ddl("CREATE VIEW v AS SELECT 1", "db");
  EXPECT_EQ(d.scope, ddl_scope::other);
}

TEST(sync_checkpoint, a_new_partition_count_takes_over_only_keys_that_all_agree) {
  change_key a{{"bin.000002", 400}, 0};
  change_key b{{"bin.000002", 900}, 3};
  // The stored count: used as it is.
  auto same = plan_checkpoints({{0, a}, {1, b}}, 2, "p", "shoal");
  EXPECT_TRUE(same.error.empty());
  EXPECT_FALSE(same.migrated);
  ASSERT_EQ(same.keys.size(), 2u);
  EXPECT_EQ(*same.keys[1], b);
  // None stored: a first start.
  auto fresh = plan_checkpoints({}, 3, "p", "shoal");
  EXPECT_TRUE(fresh.error.empty());
  EXPECT_EQ(fresh.keys.size(), 3u);
  EXPECT_FALSE(lowest_key(fresh.keys));
  // More or fewer partitions, every key equal: each new partition starts there.
  for (uint32_t count : {1u, 5u}) {
    auto moved = plan_checkpoints({{0, a}, {1, a}, {2, a}}, count, "p", "shoal");
    EXPECT_TRUE(moved.error.empty()) << moved.error;
    EXPECT_TRUE(moved.migrated);
    ASSERT_EQ(moved.keys.size(), count);
    for (auto& k : moved.keys)
      EXPECT_EQ(*k, a);
  }
  // Keys that differ: changes between them would be skipped or applied twice.
  auto refused = plan_checkpoints({{0, a}, {1, b}}, 4, "orders", "shoal");
  EXPECT_NE(refused.error.find("configured with 4"), std::string::npos) << refused.error;
  EXPECT_NE(refused.error.find("partitions=2"), std::string::npos) << refused.error;
  EXPECT_NE(refused.error.find("orders"), std::string::npos) << refused.error;
  // A partition row missing from the stored count is no agreement either.
  auto gap = plan_checkpoints({{0, a}, {2, a}}, 3, "p", "shoal");
  EXPECT_FALSE(gap.error.empty());
}

TEST(sync_resend_floor, only_moves_forward) {
  change_key low{{"bin.000001", 100}, 2};
  change_key high{{"bin.000001", 500}, 1};
  resend_floor none;
  EXPECT_FALSE(none.covers(low));
  resend_floor floor{low};
  EXPECT_TRUE(floor.covers(low));
  EXPECT_FALSE(floor.covers(high));
  // A reconnect before anything new was handed on: nothing to raise it to.
  floor.raise(std::nullopt);
  EXPECT_TRUE(floor.covers(low));
  floor.raise(change_key{{"bin.000001", 100}, 1});
  EXPECT_EQ(*floor.at(), low);
  floor.raise(high);
  EXPECT_TRUE(floor.covers(high));
}

TEST(sync_ddl, says_what_object_a_statement_is_about) {
  struct expect {
    const char* sql;
    const char* object;
    ddl_scope scope;
  };
  for (auto& e : std::vector<expect>{
           {"CREATE TRIGGER t_ins AFTER INSERT ON t FOR EACH ROW SET @x = 1", "TRIGGER",
            ddl_scope::other},
           {"CREATE DEFINER=`root`@`localhost` TRIGGER t_ins BEFORE UPDATE ON t FOR EACH "
            "ROW "
            "SET NEW.v = 1",
            "TRIGGER", ddl_scope::other},
           {"CREATE DEFINER='app'@'%' EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t",
            "EVENT", ddl_scope::other},
           {"CREATE OR REPLACE DEFINER=CURRENT_USER() SQL SECURITY INVOKER PROCEDURE p() "
            "SELECT 1",
            "PROCEDURE", ddl_scope::other},
           {"CREATE AGGREGATE FUNCTION f(x INT) RETURNS INT BEGIN RETURN 1; END",
            "FUNCTION", ddl_scope::other},
           {"DROP FUNCTION IF EXISTS f", "FUNCTION", ddl_scope::other},
           {"CREATE USER 'u'@'%' IDENTIFIED BY 'x'", "USER", ddl_scope::other},
           {"ALTER USER 'u'@'%' PASSWORD EXPIRE", "USER", ddl_scope::other},
           {"DROP ROLE r", "ROLE", ddl_scope::other},
           {"RENAME USER 'a'@'%' TO 'b'@'%'", "USER", ddl_scope::other},
           {"CREATE ALGORITHM=MERGE DEFINER=`root`@`%` SQL SECURITY DEFINER VIEW v AS "
            "SELECT 1",
            "VIEW", ddl_scope::other},
           {"ALTER TABLE t ADD COLUMN c INT COMMENT 'on it''s way'", "TABLE",
            ddl_scope::tables},
           {"CREATE SCHEMA s", "DATABASE", ddl_scope::database},
           {"TRUNCATE t", "TABLE", ddl_scope::tables},
       }) {
    auto d = parse_ddl(e.sql, "db");
    EXPECT_EQ(d.object, e.object) << e.sql;
    EXPECT_EQ(d.scope, e.scope) << e.sql;
  }
  EXPECT_TRUE(is_routine_object("TRIGGER"));
  EXPECT_TRUE(is_routine_object("EVENT"));
  EXPECT_FALSE(is_routine_object("VIEW"));
  EXPECT_TRUE(is_account_object("USER"));
  EXPECT_FALSE(is_account_object("TABLE"));
  auto p = parse_ddl("CREATE DEFINER=`root`@`localhost` PROCEDURE shop.refill() SELECT 1",
                     "db");
  EXPECT_EQ(p.object_name, (std::pair<std::string, std::string>{"shop", "refill"}));
}

TEST(sync_ddl, says_which_table_names_carry_their_database) {
  auto d = parse_ddl("ALTER TABLE src.t ADD c INT", "src");
  ASSERT_EQ(d.qualified.size(), 1u);
  EXPECT_TRUE(d.qualified[0]);
  auto r = parse_ddl("RENAME TABLE a TO other.b, c TO d", "db");
  EXPECT_EQ(r.qualified, (std::vector<bool>{false, true, false, false}));
  auto x = parse_ddl("DROP TABLE IF EXISTS `x`.`y`, z", "db");
  EXPECT_EQ(x.qualified, (std::vector<bool>{true, false}));
}

TEST(sync_sql, inserts_into_a_table_without_a_key_batch_in_order) {
  auto t = table({});
  t->single_partition = true;
  std::vector<row_op> ops;
  for (int64_t i = 0; i < 5; ++i)
    ops.push_back(op(op_kind::insert, t, {}, image({i, bytes_value{"r"}, i}),
                     static_cast<uint64_t>(i + 1)));
  // A delete between them keeps its place.
  ops.insert(ops.begin() + 3,
             op(op_kind::delete_matching, t,
                image({int64_t{0}, bytes_value{"r"}, int64_t{0}}), {}, 9));
  auto batch = build_statements(ops, 1 << 20);
  ASSERT_TRUE(batch.error.empty()) << batch.error;
  ASSERT_EQ(batch.statements.size(), 3u);
  EXPECT_EQ(
      batch.statements[0].rfind("INSERT INTO `db`.`t` (`id`,`name`,`qty`) VALUES (0,", 0),
      0u)
      << batch.statements[0];
  EXPECT_NE(batch.statements[0].find("),(2,"), std::string::npos) << batch.statements[0];
  EXPECT_EQ(batch.statements[1].rfind("DELETE FROM `db`.`t` WHERE", 0), 0u)
      << batch.statements[1];
  EXPECT_NE(batch.statements[2].find("(3,x'72',3),(4,x'72',4)"), std::string::npos)
      << batch.statements[2];
}

TEST(sync_sql, a_batch_with_enums_error_value_runs_without_strictness) {
  auto t = table();
  auto plain =
      op(op_kind::upsert, t, {}, image({int64_t{1}, bytes_value{"a"}, int64_t{1}}));
  EXPECT_FALSE(needs_lenient_mode({plain}));
  auto zero = op(op_kind::upsert, t, {}, image({int64_t{2}, enum_value{0}, int64_t{1}}));
  EXPECT_TRUE(needs_lenient_mode({plain, zero}));
  auto absent = op(op_kind::update, t,
                   image({int64_t{2}, null_value{}, null_value{}}, {true, false, false}),
                   image({int64_t{2}, enum_value{0}, int64_t{5}}, {false, false, true}));
  EXPECT_FALSE(needs_lenient_mode({absent}));
  EXPECT_EQ(lenient("INSERT INTO x VALUES (0)").rfind("SET STATEMENT sql_mode=", 0), 0u);
  EXPECT_NE(lenient("INSERT INTO x VALUES (0)").find("FOR INSERT INTO x VALUES (0)"),
            std::string::npos);
}

TEST(sync_ddl_plan, skips_ignores_applies_or_stops) {
  table_filter all{{}, {}, {}, "shoal"};
  using a = ddl_plan::action;
  EXPECT_EQ(plan_ddl("CREATE TEMPORARY TABLE t (id INT)", "db", all, false).what,
            a::ignore);
  EXPECT_EQ(plan_ddl("CREATE USER 'u'@'%'", "db", all, true).what, a::skip);
  auto trigger = plan_ddl("CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW SET @x = 1",
                          "db", all, false);
  EXPECT_EQ(trigger.what, a::skip);
  EXPECT_NE(trigger.reason.find("copy_routines"), std::string::npos) << trigger.reason;
  auto copied = plan_ddl("CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW SET @x = 1",
                         "db", all, true);
  EXPECT_EQ(copied.what, a::apply);
  EXPECT_EQ(copied.use_db, "db");
  EXPECT_EQ(copied.touched,
            (std::vector<std::pair<std::string, std::string>>{{"db", "tr"}}));
  auto alter = plan_ddl("ALTER TABLE t ADD c INT", "db", all, false);
  EXPECT_EQ(alter.what, a::apply);
  EXPECT_EQ(alter.sql, "ALTER TABLE t ADD c INT");
  EXPECT_EQ(alter.touched,
            (std::vector<std::pair<std::string, std::string>>{{"db", "t"}}));
  auto create_db = plan_ddl("CREATE DATABASE shop", "", all, false);
  EXPECT_EQ(create_db.sql, "CREATE DATABASE IF NOT EXISTS `shop`");
  EXPECT_EQ(plan_ddl("CREATE TABLE shoal.x (id INT)", "shoal", all, false).what,
            a::ignore);

  table_filter renamed{{"src.*", "other.*"}, {"other.secret"}, {{"src", "dst"}}, "shoal"};
  auto plain = plan_ddl("ALTER TABLE t ADD c INT", "src", renamed, false);
  EXPECT_EQ(plain.what, a::apply);
  EXPECT_EQ(plain.use_db, "dst");
  EXPECT_EQ(plain.touched,
            (std::vector<std::pair<std::string, std::string>>{{"dst", "t"}}));
  EXPECT_EQ(plan_ddl("ALTER TABLE src.t ADD c INT", "src", renamed, false).what, a::stop);
  EXPECT_EQ(plan_ddl("ALTER TABLE src.t ADD c INT", "other", renamed, false).what,
            a::stop);
  auto alter_db =
      plan_ddl("ALTER DATABASE src CHARACTER SET utf8mb4", "", renamed, false);
  EXPECT_EQ(alter_db.what, a::apply);
  EXPECT_EQ(alter_db.sql, "ALTER DATABASE `dst` CHARACTER SET utf8mb4");
  auto create_latin1 =
      plan_ddl("CREATE DATABASE src DEFAULT CHARACTER SET latin1", "", renamed, false);
  EXPECT_EQ(create_latin1.sql,
            "CREATE DATABASE IF NOT EXISTS `dst` DEFAULT CHARACTER SET latin1");
  EXPECT_EQ(
      plan_ddl("RENAME TABLE other.a TO other.secret", "other", renamed, false).what,
      a::stop);
  EXPECT_EQ(plan_ddl("DROP TABLE nothere.t", "nothere", renamed, false).what, a::ignore);
}

TEST(sync_key_choice, the_first_whole_unique_not_null_key_in_server_order) {
  std::vector<std::string> columns{"a", "b", "c", "d"};
  std::vector<index_part> parts{
      {"nullable_uk", true, true, false, "a"}, {"prefix_uk", true, false, true, "c"},
      {"plain", false, false, false, "a"},     {"z_first", true, false, false, "d"},
      {"z_first", true, false, false, "b"},    {"a_second", true, false, false, "a"},
  };
  EXPECT_EQ(choose_key(parts, columns), (std::vector<uint32_t>{3, 1}));
  parts.erase(parts.begin() + 3, parts.begin() + 5);
  EXPECT_EQ(choose_key(parts, columns), (std::vector<uint32_t>{0}));
  EXPECT_TRUE(choose_key({{"gone", true, false, false, "x"}}, columns).empty());
  EXPECT_TRUE(choose_key({}, columns).empty());
}

TEST(sync_key_choice, collisions_by_unique_keys_and_collations) {
  auto t = table();
  classify_collisions(*t, 1, {{"id", ""}, {"name", "utf8mb4_general_ci"}});
  EXPECT_FALSE(t->single_partition);
  t = table();
  classify_collisions(*t, 2, {{"id", ""}});
  EXPECT_TRUE(t->single_partition);
  t = table({1});
  classify_collisions(*t, 1, {{"name", "utf8mb4_general_ci"}});
  EXPECT_TRUE(t->single_partition);
  EXPECT_NE(t->single_partition_reason.find("name"), std::string::npos);
  t = table({1});
  classify_collisions(*t, 1, {{"name", "utf8mb4_bin"}});
  EXPECT_FALSE(t->single_partition);
  EXPECT_EQ(t->key_pads, (std::vector<bool>{true}));
  t = table({1});
  classify_collisions(*t, 1, {{"name", "utf8mb4_nopad_bin"}});
  EXPECT_FALSE(t->single_partition);
  EXPECT_EQ(t->key_pads, (std::vector<bool>{false}));
}

held_row held(int id) {
  held_row r;
  r.table = table();
  r.change.after = image({int64_t{id}, bytes_value{"x"}, int64_t{1}});
  return r;
}

TEST(sync_xa, mariadb_holds_what_its_gtid_flags_until_xa_commit) {
  xa_tracker xa;
  binlog_position prepare{"bin.000001", 300};
  xa.begin_group(true, true);
  EXPECT_TRUE(xa.holding());
  xa.hold(held(1));
  xa.hold(held(2));
  EXPECT_TRUE(xa.on_xa_end("X'6131',X'',1", prepare));
  EXPECT_FALSE(xa.holding());
  EXPECT_EQ(xa.floor({}), prepare);
  // A normal transaction in between is not held.
  xa.begin_group(true, false);
  EXPECT_FALSE(xa.holding());
  auto c = xa.commit("X'6131',X'',1", false);
  ASSERT_EQ(c.what, xa_tracker::commit_result::outcome::apply);
  EXPECT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.prepared_at, prepare);
  change_key end{{"bin.000001", 900}, 2};
  xa.applying(c.prepared_at, end);
  EXPECT_EQ(xa.floor({{"bin.000001", 900}, 1}), prepare); // not applied everywhere yet
  EXPECT_FALSE(xa.floor(end));
  EXPECT_FALSE(xa.has_applying());
}

TEST(sync_xa, mysql_holds_from_xa_start_and_one_phase_commits_at_once) {
  xa_tracker xa;
  // MySQL: no XA flag in the GTID; XA START marks the group.
  xa.begin_group(false, false);
  EXPECT_FALSE(xa.holding());
  xa.on_xa_start();
  EXPECT_TRUE(xa.holding());
  xa.hold(held(7));
  EXPECT_TRUE(xa.on_xa_end("X'31',X'',1", {"bin.000001", 100}));
  // XA_PREPARE with one_phase: commit right there.
  auto c = xa.commit("X'31',X'',1", true);
  ASSERT_EQ(c.what, xa_tracker::commit_result::outcome::apply);
  EXPECT_EQ(c.rows.size(), 1u);
  // MariaDB's XA START inside a group its GTID did not flag: not held.
  xa.begin_group(true, false);
  xa.on_xa_start();
  EXPECT_FALSE(xa.holding());
  EXPECT_FALSE(xa.on_xa_end("X'32',X'',1", {"bin.000001", 500}));
  EXPECT_EQ(xa.commit("X'32',X'',1", true).what,
            xa_tracker::commit_result::outcome::nothing);
}

TEST(sync_xa, rollback_drops_and_an_unknown_commit_is_reported) {
  xa_tracker xa;
  xa.begin_group(true, true);
  xa.hold(held(1));
  xa.on_xa_end("X'61',X'',1", {"bin.000002", 4});
  EXPECT_TRUE(xa.rollback("X'61',X'',1"));
  EXPECT_FALSE(xa.rollback("X'61',X'',1"));
  EXPECT_FALSE(xa.floor({}));
  EXPECT_EQ(xa.commit("X'62',X'',1", false).what,
            xa_tracker::commit_result::outcome::unknown);
  EXPECT_EQ(xa_tracker::xid_of("XA COMMIT X'61',X'',1 ONE PHASE", "XA COMMIT "),
            "X'61',X'',1");
  EXPECT_EQ(xa_tracker::xid_of("XA END X'61',X'',1;", "XA END "), "X'61',X'',1");
}

} // namespace
} // namespace shoal::binlog
