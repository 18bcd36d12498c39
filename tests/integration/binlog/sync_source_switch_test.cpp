// A pipeline moves to another server of its source's replication topology by
// GTID: a GTID replica (log_slave_updates) promoted after its primary died,
// or a source changed in the config, with nothing lost or applied twice; and
// it refuses a server that lacks transactions the target already applied.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/binlog/sync/checkpoint.hpp"
#include "tests/integration/binlog/sync_test_support.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/pipeline_config.hpp"
#include "tests/support/temp_dir.hpp"

using namespace std::chrono_literals;

namespace shoal::test {
namespace {

class sync_source_switch_test : public sync_fixture {
protected:
  void SetUp() override {
    sync_fixture::SetUp();
    mariadb_options o;
    o.name = "replica";
    o.server_id = 7;
    o.extra_args = {"--log-slave-updates"};
    replica_ = std::make_unique<mariadb_server>(o);
    // The pipelines start at the current position: the tables exist on both.
    for (auto* server : {&source(), &target()}) {
      auto c = server->connect();
      run(c, "CREATE DATABASE shop");
      // `orders` has a key (a row applied twice looks the same); `journal` has
      // none, so a row applied twice or skipped shows as an extra or a missing row.
      run(c, "CREATE TABLE shop.orders (id INT PRIMARY KEY, qty INT NOT NULL, "
             "note VARCHAR(40)) ENGINE=InnoDB");
      run(c, "CREATE TABLE shop.journal (txn BIGINT NOT NULL, part INT NOT NULL, "
             "amount BIGINT UNSIGNED NOT NULL) ENGINE=InnoDB");
    }
    // The replica's binlog holds the same transactions at other places: it
    // starts in a later file, and rotate() moves it on again mid-run.
    auto r = replica_->connect();
    run(r, "FLUSH BINARY LOGS");
    run(r, "FLUSH BINARY LOGS");
    run(r, "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=" +
               std::to_string(source().port()) +
               ", MASTER_USER=" + r.quote(source().user()) +
               ", MASTER_PASSWORD=" + r.quote(source().password()) +
               ", MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1");
    run(r, "START SLAVE");
  }

  void TearDown() override {
    stop_writer();
    sync_fixture::TearDown();
    replica_.reset();
  }

  mariadb_server& replica() { return *replica_; }

  /// A new binlog file on `server`.
  static void rotate(mariadb_server& server) {
    auto c = server.connect();
    run(c, "FLUSH BINARY LOGS");
  }

  /// Transactions of several rows on `server` until stop_writer(): upserts and
  /// deletes of orders, and journal rows, so that the partitions stand at
  /// different places when a server goes away. Paused while `hold_` is set.
  void start_writer(mariadb_server& server) {
    stop_writer();
    stop_ = false;
    writer_ = std::thread{[this, &server] {
      std::mt19937 rng{static_cast<unsigned>(next_txn_)};
      std::optional<mysql_connection> conn;
      while (!stop_) {
        std::unique_lock<std::mutex> guard{write_mtx_};
        if (hold_) {
          guard.unlock();
          std::this_thread::sleep_for(1ms);
          continue;
        }
        if (!conn) {
          auto c = mysql_connection::connect(server.connection_config());
          if (!c) {
            std::this_thread::sleep_for(20ms);
            continue;
          }
          conn.emplace(std::move(*c));
        }
        auto txn = next_txn_.load();
        std::vector<std::string> sql{"BEGIN"};
        for (int i = 0; i < rows_per_txn_; ++i) {
          auto id = std::to_string(rng() % 200);
          if (rng() % 5 == 0)
            sql.push_back("DELETE FROM shop.orders WHERE id=" + id);
          else
            sql.push_back("INSERT INTO shop.orders VALUES (" + id + "," +
                          std::to_string(rng() % 1000) + ",'t" + std::to_string(txn) +
                          "') ON DUPLICATE KEY UPDATE qty=qty+1, note=VALUES(note)");
          sql.push_back("INSERT INTO shop.journal VALUES (" + std::to_string(txn) + "," +
                        std::to_string(i) + ",18446744073709551615 - " +
                        std::to_string(txn) + ")");
        }
        sql.push_back("COMMIT");
        std::vector<std::string_view> views(sql.begin(), sql.end());
        auto r = conn->query_batch(views);
        if (r) {
          ++next_txn_;
          ++committed_;
        } else {
          // The server went away (its transaction may or may not have
          // committed: the comparison below reads what the server has).
          conn.reset();
        }
      }
    }};
  }

  void stop_writer() {
    stop_ = true;
    if (writer_.joinable())
      writer_.join();
  }

  /// Holds the writer between transactions; returns once none is under way
  /// (the writer looks at the flag under the lock it writes under).
  void hold_writer() {
    std::lock_guard<std::mutex> guard{write_mtx_};
    hold_ = true;
  }

  void release_writer() { hold_ = false; }

  /// Waits until the replica has executed everything the source has logged.
  ::testing::AssertionResult replica_caught_up() {
    auto src = source().connect();
    auto want = run(src, "SELECT @@gtid_binlog_pos").rows.at(0).at(0).value_or("");
    auto r = replica().connect();
    std::string has;
    bool ok = eventually(
        [&] {
          has = run(r, "SELECT @@gtid_slave_pos").rows.at(0).at(0).value_or("");
          return has == want;
        },
        30s);
    if (ok)
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "replica at " << has << ", source at " << want;
  }

  /// Stops replication on the replica and makes it a primary.
  void promote() {
    auto r = replica().connect();
    run(r, "STOP SLAVE");
    run(r, "RESET SLAVE ALL");
  }

  /// Waits until `p` has applied everything `server` has logged.
  ::testing::AssertionResult caught_up_with(binlog::pipeline& p, mariadb_server& server) {
    auto conn = server.connect();
    auto pos = master_position(conn);
    if (p.wait_applied(pos, 60s))
      return ::testing::AssertionSuccess();
    auto s = p.status();
    return ::testing::AssertionFailure()
           << "not applied up to " << pos.to_string() << " on " << server.endpoint()
           << " (state " << s.state << ": " << s.error << ", reading "
           << s.source_endpoint << " at " << s.source.to_string() << ")";
  }

  /// The target holds exactly what `server` holds.
  void expect_same_as(mariadb_server& server) {
    auto want = server.connect();
    auto got = target().connect();
    for (auto* t : {"shop.orders", "shop.journal"}) {
      auto a = rows_of(want, t);
      auto b = rows_of(got, t);
      EXPECT_EQ(a.size(), b.size()) << t;
      EXPECT_TRUE(a == b) << t << " differs";
    }
  }

  /// The primary is killed under load with its replica caught up, the
  /// replica promoted; the pipeline moves to it and ends equal to it.
  void promoted_replica_takes_over(bool whole_transactions) {
    auto s = settings("moves", 4);
    s.whole_transactions = whole_transactions;
    s.source_candidates = {replica().connection_config()};
    s.source_candidates.back().read_timeout = 5s;
    s.source_switch_after = 1000ms;
    auto p = start(s);
    ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
    start_writer(source());
    ASSERT_TRUE(eventually([&] { return committed_ >= 100; }, 30s));
    rotate(replica());
    ASSERT_TRUE(eventually([&] { return committed_ >= 200; }, 30s));
    rotate(source());
    ASSERT_TRUE(eventually([&] { return committed_ >= 300; }, 30s));
    // The primary dies with the replica caught up (as semi-sync or a failover
    // manager that waits for the replica would leave it); the pipeline may
    // still be applying what it read.
    hold_writer();
    ASSERT_TRUE(replica_caught_up());
    source().kill();
    auto killed = std::chrono::steady_clock::now();
    release_writer();
    promote();
    ASSERT_TRUE(eventually([&] { return p->status().source_switches == 1; }, 30s))
        << p->status().error;
    // For the README: switch_after_ms, then the replica's binlog read to place
    // the checkpoints (not asserted: timing belongs to bench/).
    std::cout << "[ moved    ] to the replica "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - killed)
                     .count()
              << " ms after the primary was killed (switch_after_ms 1000)" << std::endl;
    auto before = committed_.load();
    start_writer(replica());
    ASSERT_TRUE(eventually([&] { return committed_ >= before + 300; }, 30s));
    stop_writer();
    ASSERT_TRUE(caught_up_with(*p, replica()));
    auto st = p->status();
    EXPECT_EQ(st.source_endpoint, replica().endpoint());
    EXPECT_EQ(st.source_server_id, 7u);
    EXPECT_EQ(st.source_switches, 1u);
    EXPECT_EQ(st.gtid.server_id, 7u) << "the last group read was written by the replica";
    expect_same_as(replica());
    auto t = target().connect();
    auto stored = binlog::load_source(t, "shoal", "moves");
    ASSERT_TRUE(stored && *stored);
    EXPECT_EQ((*stored)->server_id, 7u);
  }

  std::unique_ptr<mariadb_server> replica_;
  std::thread writer_;
  std::atomic<bool> stop_{true};
  std::atomic<bool> hold_{false};
  std::mutex write_mtx_;
  std::atomic<uint64_t> next_txn_{1};
  std::atomic<uint64_t> committed_{0};
  /// Orders changes (and journal rows) per transaction.
  std::atomic<int> rows_per_txn_{4};
};

TEST_F(sync_source_switch_test, a_promoted_replica_takes_over_from_a_dead_primary) {
  promoted_replica_takes_over(false);
}

TEST_F(sync_source_switch_test, a_promoted_replica_takes_over_in_transaction_mode) {
  promoted_replica_takes_over(true);
}

// The same takeover through a `shoal node` process: the candidate comes from its
// config file, and its /status says where the pipeline reads and how often it moved.
TEST_F(sync_source_switch_test, a_node_moves_its_pipeline_to_a_candidate_of_its_config) {
  using nlohmann::json;
  temp_dir dir{"source-switch-node"};
  auto http_port = free_port();
  auto entry =
      pipeline_json("moves", 4243, source(), target(),
                    {{"start", "current"}, {"partitions", 2}, {"batch_rows", 200}});
  entry["source"]["candidates"] = json::array({{{"port", replica().port()}}});
  entry["source"]["switch_after_ms"] = 1000;
  json cfg{{"node", {{"name", "n1"}, {"port", free_port()}}},
           {"http", {{"port", http_port}}},
           {"log", {{"level", "info"}}},
           {"sync", {{"pipelines", json::array({entry})}}}};
  auto config = (dir.path() / "n1.json").string();
  std::ofstream{config} << cfg.dump(2);
  process_options opts;
  auto bin = std::getenv("SHOAL_BINARY_DIR");
  opts.program = bin ? std::string{bin} + "/runtime/shoal" : "shoal";
  opts.args = {"node", "--config", config};
  opts.env = {{"SHOAL_TEST_MYSQL_PW", source().password()}};
  opts.name = "n1";
  opts.output_dir = dir.path();
  child_process node{opts};
  auto view = [&]() -> json {
    httplib::Client http{"127.0.0.1", http_port};
    http.set_connection_timeout(0, 300000);
    http.set_read_timeout(2, 0);
    auto r = http.Get("/status");
    if (!r || r->status != 200)
      return json::object();
    auto j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.contains("sync") || !j["sync"].contains("moves"))
      return json::object();
    return j["sync"]["moves"];
  };
  ASSERT_TRUE(eventually([&] { return view().value("state", "") == "running"; }, 60s))
      << node.output_tail(3000);
  auto replica_port = ":" + std::to_string(replica().port());
  start_writer(source());
  ASSERT_TRUE(eventually([&] { return committed_ >= 200; }, 30s));
  hold_writer();
  ASSERT_TRUE(replica_caught_up());
  source().kill();
  release_writer();
  promote();
  json moved;
  ASSERT_TRUE(eventually(
      [&] {
        moved = view();
        return moved.contains("source_server") &&
               moved["source_server"].value("switches", 0) == 1;
      },
      30s))
      << moved.dump() << "\n"
      << node.output_tail(3000);
  auto endpoint = moved["source_server"].value("endpoint", "");
  EXPECT_EQ(
      endpoint.substr(endpoint.size() - std::min(endpoint.size(), replica_port.size())),
      replica_port)
      << moved.dump();
  EXPECT_EQ(moved["source_server"].value("server_id", 0u), 7u) << moved.dump();
  auto before = committed_.load();
  start_writer(replica());
  ASSERT_TRUE(eventually([&] { return committed_ >= before + 200; }, 30s));
  stop_writer();
  auto want = [&] {
    auto r = replica().connect();
    return master_position(r);
  }();
  auto caught_up = [&] {
    auto t = target().connect();
    auto rows = run(t, "SELECT file, pos FROM shoal.sync_checkpoint WHERE "
                       "pipeline='moves'");
    bool all = rows.rows.size() == 2;
    for (auto& r : rows.rows)
      all = all && want <= binlog::binlog_position{r.at(0).value_or(""),
                                                   std::stoull(r.at(1).value_or("0"))};
    return all;
  };
  ASSERT_TRUE(eventually(caught_up, 60s)) << view().dump() << "\n"
                                          << node.output_tail(3000);
  expect_same_as(replica());
  auto last = view();
  EXPECT_EQ(last.value("state", ""), "running") << last.dump();
  EXPECT_EQ(last["source_server"].value("waiting", "x"), "") << last.dump();
  EXPECT_EQ(last.value("gtid", "").rfind("0-7-", 0), 0u)
      << "the last group read was written by the replica: " << last.dump();
  node.terminate();
}

TEST_F(sync_source_switch_test, a_pipeline_pointed_at_a_replica_resumes_there_by_gtid) {
  // Large transactions in small batches: a stop leaves partitions inside a
  // transaction (a key with an index), whose place moves by its own GTID.
  auto s = settings("pointed", 3);
  s.batch_rows = 7;
  rows_per_txn_ = 40;
  // Its start (the current position) is fixed before anything is written.
  start(s)->stop();
  start_writer(source());
  ASSERT_TRUE(eventually([&] { return committed_ >= 20; }, 30s));
  rotate(replica());
  auto t = target().connect();
  bool inside = false;
  for (int attempt = 0; attempt < 20 && !inside; ++attempt) {
    auto p = start(s);
    ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
    auto from = committed_.load();
    ASSERT_TRUE(eventually([&] { return committed_ >= from + 20; }, 30s));
    p->stop();
    inside = run(t, "SELECT COUNT(*) FROM shoal.sync_checkpoint WHERE pipeline='pointed' "
                    "AND idx > 0")
                 .rows.at(0)
                 .at(0)
                 .value_or("0") != "0";
  }
  ASSERT_TRUE(inside) << "no stop left a partition inside a transaction";
  // More on the primary while the pipeline is down, then it is pointed at
  // the replica, whose binlog positions are not the primary's.
  auto before = committed_.load();
  ASSERT_TRUE(eventually([&] { return committed_ >= before + 20; }, 30s));
  stop_writer();
  ASSERT_TRUE(replica_caught_up());
  s.source = replica().connection_config();
  s.source.read_timeout = 5s;
  auto moved = start(s);
  ASSERT_EQ(moved->status().state, binlog::pipeline_state::running)
      << moved->status().error;
  ASSERT_TRUE(caught_up_with(*moved, replica()));
  EXPECT_EQ(moved->status().source_switches, 1u);
  expect_same_as(source());
  expect_same_as(replica());
}

TEST_F(sync_source_switch_test,
       a_ddl_in_progress_moves_with_the_checkpoints_and_runs_once) {
  // Fewer partitions than before, too: the rows of the old count go.
  auto s = settings("ddl", 4);
  start(s)->stop();
  auto src = source().connect();
  run(src, "INSERT INTO shop.orders VALUES (1, 1, 'a')");
  // An unnamed index: run twice, it would be there twice (qty and qty_2).
  run(src, "ALTER TABLE shop.orders ADD INDEX (qty)");
  run(src, "INSERT INTO shop.orders VALUES (2, 2, 'b')");
  auto crashed = std::make_shared<std::atomic<bool>>(false);
  auto attempt = s;
  attempt.fault = [crashed](const std::string& point) {
    return point == "ddl_applied" && !crashed->exchange(true);
  };
  auto p = start(attempt);
  ASSERT_TRUE(eventually(
      [&] { return p->status().state == binlog::pipeline_state::failed; }, 30s));
  ASSERT_NE(p->status().error.find("fault injected"), std::string::npos)
      << p->status().error;
  p->stop();
  // Crashed between the DDL and its checkpoint; it resumes on the replica.
  ASSERT_TRUE(replica_caught_up());
  s.source = replica().connection_config();
  s.source.read_timeout = 5s;
  s.partitions = 2;
  auto moved = start(s);
  ASSERT_EQ(moved->status().state, binlog::pipeline_state::running)
      << moved->status().error;
  ASSERT_TRUE(caught_up_with(*moved, replica()));
  EXPECT_EQ(moved->status().source_switches, 1u);
  auto t = target().connect();
  EXPECT_EQ(run(t, "SHOW CREATE TABLE shop.orders").rows.at(0).at(1),
            run(src, "SHOW CREATE TABLE shop.orders").rows.at(0).at(1));
  expect_same_as(replica());
}

TEST_F(sync_source_switch_test, a_server_without_the_targets_transactions_is_refused) {
  auto s = settings("refused", 2);
  s.source_candidates = {replica().connection_config()};
  s.source_candidates.back().read_timeout = 5s;
  s.source_switch_after = 500ms;
  auto p = start(s);
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  // The replica stops receiving; the primary commits more, which the pipeline
  // applies, and dies: those transactions exist nowhere but on the target.
  ASSERT_TRUE(replica_caught_up());
  {
    auto r = replica().connect();
    run(r, "STOP SLAVE");
  }
  auto src = source().connect();
  run(src, "INSERT INTO shop.orders VALUES (1, 1, 'lost')");
  ASSERT_TRUE(caught_up(*p));
  source().kill();
  // While the replica may still receive them, the pipeline waits and says so.
  ASSERT_TRUE(eventually(
      [&] {
        return p->status().waiting_for_source.find("does not have GTID") !=
               std::string::npos;
      },
      30s))
      << p->status().waiting_for_source << " / " << p->status().error;
  EXPECT_NE(p->status().state, binlog::pipeline_state::failed) << p->status().error;
  // ... and once the replica, promoted, logs other transactions in their
  // place, it stops and says why, having applied none of them.
  promote();
  auto r = replica().connect();
  run(r, "INSERT INTO shop.orders VALUES (2, 2, 'after')");
  ASSERT_TRUE(eventually(
      [&] { return p->status().state == binlog::pipeline_state::failed; }, 30s))
      << p->status().error;
  auto err = p->status().error;
  EXPECT_NE(err.find("never received"), std::string::npos) << err;
  auto t = target().connect();
  EXPECT_EQ(run(t, "SELECT COUNT(*) FROM shop.orders WHERE id=2").rows.at(0).at(0), "0");
  EXPECT_EQ(run(t, "SELECT COUNT(*) FROM shop.orders WHERE id=1").rows.at(0).at(0), "1");
}

} // namespace
} // namespace shoal::test
