// sysbench_sync: what the cluster tests of binlog sync share: sysbench
// oltp_write_only on the source (database sbtest, 2 tables of 1,000 rows), a wait
// until a pipeline's checkpoints pass the source's current position, and the
// table-by-table comparison of source and target.
//
//   prepare_sbtest(source(), dir.path());
//   auto load = sysbench_on(source(), "run", 8, 4, dir.path());
//   ...
//   ASSERT_TRUE(checkpoints_caught_up(source(), target(), "sb", 4, 60s));
//   expect_sbtest_equal(source(), target());

#pragma once

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "actors/binlog/decoder/binlog_position.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/mariadb_server.hpp"

namespace shoal::test {

/// The result of `sql`; throws with the statement and the error on failure.
inline mysql_result run(mysql_connection& conn, const std::string& sql) {
  auto r = conn.query(sql);
  if (!r)
    throw std::runtime_error(sql + ": " + r.error().to_string());
  return std::move(*r);
}

/// CHECKSUM TABLE ... EXTENDED of `table` ("NULL" when it does not exist).
inline std::string checksum(mysql_connection& conn, const std::string& table) {
  return run(conn, "CHECKSUM TABLE " + table + " EXTENDED")
      .rows.at(0)
      .at(1)
      .value_or("NULL");
}

/// sysbench oltp_write_only `command` against `source`'s sbtest database for
/// `seconds`, its output in `out`.
inline child_process sysbench_on(const mariadb_server& source, const std::string& command,
                                 int seconds, int threads,
                                 const std::filesystem::path& out) {
  process_options opts;
  opts.program = "sysbench";
  opts.args = {"oltp_write_only",
               "--db-driver=mysql",
               "--mysql-host=127.0.0.1",
               "--mysql-port=" + std::to_string(source.port()),
               "--mysql-user=root",
               "--mysql-password=" + source.password(),
               "--mysql-db=sbtest",
               "--tables=2",
               "--table-size=1000",
               "--threads=" + std::to_string(threads),
               "--time=" + std::to_string(seconds),
               "--report-interval=0",
               "--mysql-ignore-errors=all",
               command};
  opts.name = "sysbench-" + command;
  opts.output_dir = out;
  return child_process{opts};
}

/// Creates sbtest and its two tables on `source`.
inline void prepare_sbtest(const mariadb_server& source,
                           const std::filesystem::path& out) {
  auto src = source.connect();
  run(src, "CREATE DATABASE sbtest");
  auto prep = sysbench_on(source, "prepare", 1, 1, out);
  auto status = prep.wait_for_exit(std::chrono::seconds{60});
  ASSERT_TRUE(status && status->success()) << prep.output_tail();
}

/// True once each of the `partitions` checkpoints of `pipeline` is at or past
/// the source's position (read once per try), within `timeout`. A server that
/// is restarting, or a checkpoint table not made yet, counts as not yet.
inline bool checkpoints_caught_up(const mariadb_server& source,
                                  const mariadb_server& target,
                                  const std::string& pipeline, size_t partitions,
                                  std::chrono::milliseconds timeout) {
  return eventually(
      [&] {
        try {
          auto src = source.connect();
          auto m = run(src, "SHOW MASTER STATUS");
          binlog::binlog_position want{m.rows.at(0).at(0).value_or(""),
                                       std::stoull(m.rows.at(0).at(1).value_or("0"))};
          auto dst = target.connect();
          auto rows =
              run(dst, "SELECT file, pos FROM shoal.sync_checkpoint WHERE pipeline='" +
                           pipeline + "'");
          bool all = rows.rows.size() == partitions;
          for (auto& r : rows.rows)
            all = all &&
                  want <= binlog::binlog_position{r.at(0).value_or(""),
                                                  std::stoull(r.at(1).value_or("0"))};
          return all;
        } catch (const std::exception&) {
          return false;
        }
      },
      timeout);
}

/// Both sbtest tables: the same checksum and row count on `target` as on `source`.
inline void expect_sbtest_equal(const mariadb_server& source,
                                const mariadb_server& target) {
  auto src = source.connect();
  auto dst = target.connect();
  for (auto table : {"sbtest.sbtest1", "sbtest.sbtest2"}) {
    auto want = checksum(src, table);
    EXPECT_NE(want, "NULL");
    EXPECT_EQ(checksum(dst, table), want) << table;
    EXPECT_EQ(run(dst, std::string{"SELECT COUNT(*) FROM "} + table).rows.at(0).at(0),
              run(src, std::string{"SELECT COUNT(*) FROM "} + table).rows.at(0).at(0));
  }
}

} // namespace shoal::test
