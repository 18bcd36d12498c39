// Rows of a few hundred KB against a target with a small max_allowed_packet:
// the snapshot and the stream cut their statements by bytes, and a row whose
// statement alone cannot fit stops the pipeline with a message that names it.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/binlog/sync_test_support.hpp"
#include "tests/support/eventually.hpp"

using namespace std::chrono_literals;

namespace shoal::test {
namespace {

/// id, length and MD5 of every column of `table` ordered by `order`: rows_of()
/// concatenates hex, which the target's 1 MiB max_allowed_packet turns into NULL
/// for these rows.
std::vector<std::string> digests(mysql_connection& conn, const std::string& table,
                                 const std::string& order) {
  auto r = run(conn, "SELECT CONCAT_WS('|', id, name, LENGTH(b), MD5(b), LENGTH(c), "
                     "MD5(c)) AS x FROM " +
                         table + " ORDER BY " + order);
  std::vector<std::string> out;
  for (auto& row : r.rows)
    out.push_back(row.at(0).value_or("NULL"));
  return out;
}

class sync_big_rows_test : public sync_fixture {
protected:
  static void SetUpTestSuite() {
    mariadb_options opts;
    opts.name = "small-packet-target";
    opts.server_id = 3;
    opts.log_bin = false;
    opts.extra_args = {"--max-allowed-packet=1M"};
    small_target_ = std::make_unique<mariadb_server>(opts);
  }

  static void TearDownTestSuite() { small_target_.reset(); }

  void SetUp() override {
    sync_fixture::SetUp();
    small_target_->reset();
  }

  /// Settings of a pipeline from the shared source to the small-packet target.
  binlog::pipeline_settings small_target_settings(const std::string& name) {
    auto s = settings(name, 3);
    s.target = small_target_->connection_config();
    s.filter = binlog::table_filter{{"big.*"}, {}, {}, "shoal"};
    return s;
  }

  /// Waits until `p` has applied all the source has written, on the small target.
  ::testing::AssertionResult caught_up_small(binlog::pipeline& p) {
    return caught_up(p, 120s);
  }

  static std::unique_ptr<mariadb_server> small_target_;
};

std::unique_ptr<mariadb_server> sync_big_rows_test::small_target_;

// Blobs of 64..320 KB and texts of 5..126 KB: up to ~900 KB of hex in one row's
// statement, so that a 1 MiB packet holds one such row, not two.
constexpr const char* big_blob = "REPEAT(UNHEX(SHA2(seq, 256)), 2000 + seq * 37 % 8000)";
constexpr const char* big_text = "REPEAT(CONCAT('ü', seq, ' '), 1000 + seq * 53 % 20000)";

TEST_F(sync_big_rows_test, snapshot_and_stream_cut_statements_to_the_targets_packet) {
  auto src = source().connect();
  run(src, "CREATE DATABASE big");
  run(src, "CREATE TABLE big.t (id INT PRIMARY KEY, name VARCHAR(40), b LONGBLOB, "
           "c MEDIUMTEXT) CHARACTER SET utf8mb4");
  run(src, "INSERT INTO big.t SELECT seq, CONCAT('row', seq), NULL, NULL "
           "FROM big.seq_1_to_3000");
  run(src, std::string{"INSERT INTO big.t SELECT 100000 + seq, CONCAT('big', seq), "} +
               big_blob + ", " + big_text + " FROM big.seq_1_to_200");
  // Without a key: read with OFFSET pages, changed by matching statements that
  // carry the row twice (SET and WHERE), so its rows are kept under 400 KB of hex.
  run(src, "CREATE TABLE big.nokey (id INT, name VARCHAR(40), b LONGBLOB, c TEXT)");
  run(src,
      "INSERT INTO big.nokey SELECT seq, 'small', x'00', NULL FROM big.seq_1_to_500");
  run(src, "INSERT INTO big.nokey SELECT 1000 + seq, 'big', "
           "REPEAT(UNHEX(SHA2(seq, 256)), 1000 + seq * 37 % 5000), 'c' "
           "FROM big.seq_1_to_30");
  auto s = small_target_settings("bigsnap");
  s.start_mode = binlog::start_point::snapshot;
  auto p = start(s);
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  EXPECT_EQ(p->status().snapshot_rows, 3730u);

  // Streamed: big rows changed, added, moved to another key and deleted, many
  // small rows in the same batches, matching updates of big rows without a key.
  run(src, "UPDATE big.t SET b = REPEAT(UNHEX(SHA2(id * 7, 256)), 1000 + id % 9000) "
           "WHERE id > 100000 AND id % 3 = 0");
  run(src, std::string{"INSERT INTO big.t SELECT 200000 + seq, CONCAT('new', seq), "} +
               big_blob + ", " + big_text + " FROM big.seq_1_to_60");
  run(src, "DELETE FROM big.t WHERE id > 100000 AND id % 5 = 0");
  run(src, "UPDATE big.t SET name = CONCAT(name, '+') WHERE id <= 3000 AND id % 2 = 0");
  run(src, "UPDATE big.t SET id = 1000001 WHERE id = 100001");
  run(src, "UPDATE big.nokey SET b = REPEAT(x'27', 150000), c = 'changed' "
           "WHERE id > 1000 AND id % 4 = 0");
  ASSERT_TRUE(caught_up_small(*p));
  auto dst = small_target_->connect();
  EXPECT_EQ(digests(dst, "big.t", "id"), digests(src, "big.t", "id"));
  EXPECT_EQ(checksum(dst, "big.t"), checksum(src, "big.t"));
  EXPECT_EQ(digests(dst, "big.nokey", "id, MD5(b)"),
            digests(src, "big.nokey", "id, MD5(b)"));
  EXPECT_EQ(checksum(dst, "big.nokey"), checksum(src, "big.nokey"));
  EXPECT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
}

TEST_F(sync_big_rows_test, a_row_over_the_targets_packet_stops_the_snapshot_naming_it) {
  auto src = source().connect();
  run(src, "CREATE DATABASE big");
  run(src, "CREATE TABLE big.t (id INT PRIMARY KEY, name VARCHAR(40), b LONGBLOB)");
  run(src, "INSERT INTO big.t SELECT seq, 'small', x'00' FROM big.seq_1_to_100");
  run(src, "UPDATE big.t SET b = REPEAT('x', 1500000) WHERE id = 77");
  auto s = small_target_settings("bigsnapfail");
  s.start_mode = binlog::start_point::snapshot;
  auto p = start(s, binlog::pipeline_state::failed);
  auto st = p->status();
  ASSERT_EQ(st.state, binlog::pipeline_state::failed);
  EXPECT_NE(st.error.find("`big`.`t`"), std::string::npos) << st.error;
  EXPECT_NE(st.error.find("`id`='77'"), std::string::npos) << st.error;
  EXPECT_NE(st.error.find("max_allowed_packet"), std::string::npos) << st.error;
}

TEST_F(sync_big_rows_test, a_row_over_the_targets_packet_stops_the_stream_naming_it) {
  auto src = source().connect();
  auto p = start(small_target_settings("bigstreamfail"));
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  run(src, "CREATE DATABASE big");
  run(src, "CREATE TABLE big.t (id INT PRIMARY KEY, name VARCHAR(40), b LONGBLOB)");
  run(src, "INSERT INTO big.t SELECT seq, 'small', x'00' FROM big.seq_1_to_100");
  // 700 KB of bytes, 1.4 MB as the hex literal the stream writes.
  run(src, "UPDATE big.t SET b = REPEAT(x'ff', 700000) WHERE id = 42");
  ASSERT_TRUE(eventually(
      [&] { return p->status().state == binlog::pipeline_state::failed; }, 30s))
      << "state " << p->status().state << ": " << p->status().error;
  auto error = p->status().error;
  EXPECT_NE(error.find("`big`.`t`"), std::string::npos) << error;
  EXPECT_NE(error.find("`id`=42"), std::string::npos) << error;
  EXPECT_NE(error.find("max_allowed_packet"), std::string::npos) << error;
}

// Rows read but not applied are bounded by bytes (max_inflight_bytes) as well as by
// count: against a stalled target, 256 KB rows stop the reader near 2 MiB, not
// 5,000 rows (1.2 GB) later. Once applied, the credits come back to 0.
TEST_F(sync_big_rows_test, wide_rows_are_held_in_flight_by_bytes) {
  constexpr int64_t bound = 2 << 20;
  constexpr int rows = 40;
  for (bool whole : {false, true}) {
    SCOPED_TRACE(whole ? "apply transaction" : "apply key");
    std::string db = whole ? "widetx" : "widekey";
    auto s = settings(db, 3);
    s.whole_transactions = whole;
    s.max_inflight_bytes = bound;
    s.filter = binlog::table_filter{{db + ".*"}, {}, {}, "shoal"};
    auto p = start(s);
    ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
    auto src = source().connect();
    run(src, "CREATE DATABASE " + db);
    run(src, "CREATE TABLE " + db + ".w (id INT PRIMARY KEY, b LONGBLOB)");
    ASSERT_TRUE(caught_up(*p));
    auto dst = target().connect();
    run(dst, "LOCK TABLES " + db + ".w WRITE");
    for (int i = 1; i <= rows; ++i)
      run(src, "INSERT INTO " + db + ".w VALUES (" + std::to_string(i) +
                   ", REPEAT(UNHEX(SHA2(" + std::to_string(i) + ", 256)), 8192))");
    ASSERT_TRUE(eventually([&] { return p->status().inflight_bytes >= bound / 2; }, 30s))
        << "inflight_bytes " << p->status().inflight_bytes;
    // The reader stays held: reading all rows would take milliseconds.
    EXPECT_FALSE(eventually([&] { return p->status().rows_read >= rows; }, 1500ms))
        << "the reader read every row while the target was stalled";
    auto held = p->status();
    EXPECT_LE(held.inflight_bytes_peak, bound + 300 * 1024);
    EXPECT_LT(held.inflight, rows);
    run(dst, "UNLOCK TABLES");
    ASSERT_TRUE(caught_up(*p));
    EXPECT_EQ(checksum(dst, db + ".w"), checksum(src, db + ".w"));
    EXPECT_TRUE(eventually(
        [&] {
          auto st = p->status();
          return st.inflight == 0 && st.inflight_bytes == 0;
        },
        5s))
        << "inflight " << p->status().inflight << " rows, " << p->status().inflight_bytes
        << " bytes after catching up";
    p->stop();
  }
}

} // namespace
} // namespace shoal::test
