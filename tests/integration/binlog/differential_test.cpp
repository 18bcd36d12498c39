// Differential test of the sync: one source, two copies. A seeded random
// workload (random_workload: every MariaDB 10.11 column type at its edges, key
// changes, rollbacks, large transactions, DDL in the middle) runs on the
// source; a native MariaDB replica (the oracle) and shoal's pipeline (into the
// target) both follow it. At the end, once both have reached the source's
// SHOW MASTER STATUS position, the database must be identical on all three:
// defaults, table list, column definitions, SHOW CREATE TABLE and every row
// (table_dump). A difference is reported per setting, table and column with
// both values in hex; a replica that differs from the source is reported
// apart, as MariaDB's own doing, not shoal's.
//
// Each case is one combination of the source's binlog_row_metadata,
// binlog_row_image, sql_mode and the pipeline's start and apply modes. The
// eighteen cases cross every metadata with every image and both start modes;
// the sql mode alternates so that each metadata x image pair meets both sql
// modes, and each pair runs once per apply mode ("snapshot" with "key",
// "current" with "transaction", whose rounds spread over 4 partitions).
//
//   SHOAL_DIFF_SEED=123 build/tests/integration/binlog/differential_test
//   SHOAL_DIFF_TRANSACTIONS=1000 ...      (default 400 ordinary transactions)
//   SHOAL_DIFF_TABLES=ints,nums ...       (transactions write only these tables:
//                                          for triage when one failure stops the sync)
//   ... --gtest_filter='*NO_LOG_FULL*'
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <vector>

#include "tests/integration/binlog/random_workload.hpp"
#include "tests/integration/binlog/sync_test_support.hpp"
#include "tests/integration/binlog/table_dump.hpp"
#include "tests/support/eventually.hpp"

using namespace std::chrono_literals;

namespace shoal::test {
namespace {

constexpr uint64_t default_seed = 20240611;

uint64_t number_from_env(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::stoull(text) : fallback;
}

std::vector<std::string> list_from_env(const char* name) {
  std::vector<std::string> out;
  const char* text = std::getenv(name);
  std::string item;
  for (const char* p = text ? text : "";; ++p) {
    if (*p == ',' || *p == '\0') {
      if (!item.empty())
        out.push_back(item);
      item.clear();
      if (*p == '\0')
        break;
    } else {
      item += *p;
    }
  }
  return out;
}

/// One setting of the matrix.
struct diff_case {
  /// The source's binlog_row_metadata: NO_LOG, MINIMAL or FULL.
  std::string metadata;
  /// The source's binlog_row_image: FULL, MINIMAL or NOBLOB.
  std::string image;
  /// The pipeline's start mode: "snapshot" (the source has data first) or "current".
  std::string start;
  /// The source session's sql_mode: MariaDB's default (strict) or '' (not strict).
  bool strict = true;
  /// "apply": "transaction" instead of "key".
  bool whole = false;

  std::string name() const {
    return metadata + "_" + image + "_" + start + "_" +
           (strict ? "strict" : "nonstrict") + (whole ? "_tx" : "_key");
  }
};

void PrintTo(const diff_case& c, std::ostream* os) {
  *os << c.name();
}

/// The native replica: server_id 3, started on first use, killed at exit.
mariadb_server& replica() {
  static std::unique_ptr<mariadb_server> server;
  if (!server) {
    mariadb_options opts;
    opts.name = "replica";
    opts.server_id = 3;
    opts.extra_args = {"--skip-slave-start"};
    server = std::make_unique<mariadb_server>(opts);
  }
  return *server;
}

std::string field(const mysql_result& r, const std::string& name) {
  for (size_t i = 0; i < r.columns.size(); ++i)
    if (r.columns[i] == name)
      return r.rows.at(0).at(i).value_or("");
  return "";
}

class differential_test : public sync_fixture,
                          public ::testing::WithParamInterface<diff_case> {
protected:
  void SetUp() override {
    stop_replication();
    sync_fixture::SetUp();
    replica().reset();
  }

  void TearDown() override {
    sync_fixture::TearDown();
    stop_replication();
  }

  // Errors mean there was nothing to stop or reset.
  static void stop_replication() {
    auto conn = replica().connect();
    conn.exec("STOP SLAVE");
    conn.exec("RESET SLAVE ALL");
  }

  /// Points the replica at the start of the source's first binlog and starts it.
  void start_replication() {
    auto src = source().connect();
    auto first = run(src, "SHOW BINARY LOGS").rows.at(0).at(0).value_or("");
    auto conn = replica().connect();
    run(conn, "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=" +
                  std::to_string(source().port()) +
                  ", MASTER_USER=" + conn.quote(source().user()) +
                  ", MASTER_PASSWORD=" + conn.quote(source().password()) +
                  ", MASTER_LOG_FILE=" + conn.quote(first) +
                  ", MASTER_LOG_POS=4, MASTER_USE_GTID=no, MASTER_CONNECT_RETRY=1");
    run(conn, "START SLAVE");
  }

  /// Waits until the replica's SQL thread has executed everything before `pos`.
  ::testing::AssertionResult replica_reached(const binlog::binlog_position& pos,
                                             std::chrono::milliseconds timeout) {
    auto conn = replica().connect();
    std::string state;
    bool stopped = false;
    bool reached = eventually(
        [&] {
          auto r = run(conn, "SHOW SLAVE STATUS");
          if (r.rows.empty()) {
            state = "no replication configured";
            return false;
          }
          binlog::binlog_position at{field(r, "Relay_Master_Log_File"),
                                     std::stoull(field(r, "Exec_Master_Log_Pos"))};
          state = "executed up to " + at.to_string() + ", IO " +
                  field(r, "Slave_IO_Running") + " " + field(r, "Last_IO_Error") +
                  ", SQL " + field(r, "Slave_SQL_Running") + " " +
                  field(r, "Last_SQL_Error");
          stopped = field(r, "Slave_SQL_Running") == "No" ||
                    field(r, "Slave_IO_Running") == "No";
          return stopped || !(at < pos);
        },
        timeout, 20ms);
    if (reached && !stopped)
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "the native replica did not reach " << pos.to_string() << ": " << state;
  }

  static void run_step(mysql_connection& conn, const workload_step& step, size_t index) {
    auto fail = [&](const std::string& sql, const mysql_error& e) {
      throw std::runtime_error("the source rejected step " + std::to_string(index) +
                               " (" + step.label + "): " + sql.substr(0, 400) + ": " +
                               e.to_string());
    };
    auto exec = [&](const std::string& sql) {
      if (auto r = conn.exec(sql); !r)
        fail(sql, r.error());
    };
    if (step.end != workload_step::ending::autocommit)
      exec("START TRANSACTION");
    for (auto& sql : step.statements)
      exec(sql);
    if (step.end == workload_step::ending::commit)
      exec("COMMIT");
    else if (step.end == workload_step::ending::rollback)
      exec("ROLLBACK");
  }
};

TEST_P(differential_test, replica_and_target_end_identical_to_the_source) {
  auto& c = GetParam();
  auto seed = number_from_env("SHOAL_DIFF_SEED", default_seed);
  workload_options opts;
  opts.seed = seed;
  opts.strict = c.strict;
  opts.transactions = number_from_env("SHOAL_DIFF_TRANSACTIONS", opts.transactions);
  opts.tables = list_from_env("SHOAL_DIFF_TABLES");
  auto w = generate_workload(opts);
  std::cout << "[" << c.name() << "] seed " << seed << " (SHOAL_DIFF_SEED), "
            << w.steps.size() << " steps, workload " << std::hex << fingerprint(w)
            << std::dec;
  for (auto& t : opts.tables)
    std::cout << (&t == &opts.tables.front() ? ", writing only " : ",") << t;
  std::cout << std::endl;
  RecordProperty("seed", std::to_string(seed));

  auto admin = source().connect();
  run(admin, "SET GLOBAL binlog_row_metadata = " + admin.quote(c.metadata));
  run(admin, "SET GLOBAL binlog_row_image = " + admin.quote(c.image));
  start_replication();
  // A new session takes the global binlog_row_image. A time zone other than
  // UTC: TIMESTAMP literals then name other instants than their UTC reading.
  auto src = source().connect();
  run(src, std::string{"SET SESSION sql_mode = "} + (c.strict ? "DEFAULT" : "''"));
  run(src, "SET SESSION time_zone = '+05:30'");

  auto s = settings("diff", 4);
  s.whole_transactions = c.whole;
  s.start_mode = c.start == "snapshot" ? binlog::start_point::snapshot
                                       : binlog::start_point::current;
  size_t next = 0;
  if (c.start == "snapshot")
    for (; next < w.snapshot_split; ++next)
      run_step(src, w.steps[next], next);
  auto p = start(s);
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  for (; next < w.steps.size(); ++next)
    run_step(src, w.steps[next], next);

  auto end = master_position(admin);
  auto replica_ok = replica_reached(end, 180s);
  EXPECT_TRUE(replica_ok) << "[" << c.name() << "]";
  bool target_ok = p->wait_applied(end, 180s);
  auto status = p->status();
  EXPECT_TRUE(target_ok) << "[" << c.name() << "] shoal's pipeline did not apply up to "
                         << end.to_string() << ": state " << status.state << ": "
                         << status.error << " (handed on " << status.handed_on.to_string()
                         << ")";

  auto source_dump = dump_database(admin, opts.database);
  auto replica_conn = replica().connect();
  auto replica_dump = dump_database(replica_conn, opts.database);
  auto target_conn = target().connect();
  auto target_dump = dump_database(target_conn, opts.database);
  auto replica_report =
      describe_differences(source_dump, replica_dump, "source", "replica");
  auto target_report = describe_differences(source_dump, target_dump, "source", "target");
  EXPECT_TRUE(replica_report.empty()) << "[" << c.name() << "] seed " << seed
                                      << ": THE NATIVE REPLICA DIFFERS FROM THE SOURCE "
                                         "(MariaDB's own doing, not shoal's):\n"
                                      << replica_report;
  std::string stopped;
  if (!target_ok)
    stopped = "shoal's pipeline stopped before the end (" + status.error +
              "): changes after that point never reached the target, so the differences "
              "below mix the cause with its consequences\n";
  EXPECT_TRUE(target_report.empty())
      << "[" << c.name() << "] seed " << seed
      << ": shoal's target differs from the source"
      << (replica_report.empty() ? "" : " (and so does the native replica, see above)")
      << ":\n"
      << stopped << target_report;
  std::cout << "[" << c.name() << "] replica "
            << (replica_report.empty() ? "identical" : "DIFFERS") << ", target "
            << (target_report.empty() ? "identical" : "DIFFERS") << "; pipeline "
            << status.state << ", " << status.rows_applied << " rows applied"
            << std::endl;
}

// Every metadata x image x start mode; the sql_mode alternates so that each
// metadata x image pair meets both (see the top).
std::vector<diff_case> every_case() {
  std::vector<diff_case> out;
  int n = 0;
  for (auto metadata : {"NO_LOG", "MINIMAL", "FULL"})
    for (auto image : {"FULL", "MINIMAL", "NOBLOB"})
      for (auto start : {"snapshot", "current"}) {
        // The two start modes of a pair get opposite sql modes, in turn.
        out.push_back(diff_case{metadata, image, start, (n / 2 + n) % 2 == 0,
                                std::string{start} == "current"});
        ++n;
      }
  return out;
}

INSTANTIATE_TEST_SUITE_P(matrix, differential_test, ::testing::ValuesIn(every_case()),
                         [](const ::testing::TestParamInfo<diff_case>& info) {
                           return info.param.name();
                         });

} // namespace
} // namespace shoal::test
