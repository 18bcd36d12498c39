// Binlog sync through crashes: a `shoal node` process syncs a source to a
// target while sysbench writes to the source; the node is killed (SIGKILL) at
// random moments and restarted, and the source and target servers are killed
// and restarted; afterwards the target equals the source, table by table.

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/binlog/decoder/binlog_position.hpp"
#include "tests/support/bank_transfers.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/pipeline_config.hpp"
#include "tests/support/shared_servers.hpp"
#include "tests/support/stream_rebuilder.hpp"
#include "tests/support/sysbench_sync.hpp"
#include "tests/support/temp_dir.hpp"

namespace shoal::test {
namespace {

using namespace std::chrono;
using nlohmann::json;

class sync_crash_test : public server_test {
protected:
  void SetUp() override {
    server_test::SetUp();
    write_config(json{{"partitions", 4}});
  }

  /// The node's config: pipeline "sb" with `mode` (partitions, apply) added.
  void write_config(const json& mode) {
    partitions_ = mode.value("partitions", 4);
    json extra{{"start", "snapshot"}, {"batch_rows", 200}, {"max_inflight_rows", 4000}};
    extra.update(mode);
    auto cfg =
        json{{"node", {{"name", "n1"}, {"port", free_port()}}},
             {"http", {{"port", http_port_}}},
             {"log", {{"level", "info"}}},
             {"sync",
              {{"pipelines",
                json::array({pipeline_json("sb", 777, source(), target(), extra)})}}}};
    std::ofstream{config()} << cfg.dump(2);
  }

  std::string config() const { return (dir_.path() / "n1.json").string(); }

  void start_node() {
    process_options opts;
    auto bin = std::getenv("SHOAL_BINARY_DIR");
    opts.program = bin ? std::string{bin} + "/runtime/shoal" : "shoal";
    opts.args = {"node", "--config", config()};
    opts.env = {{"SHOAL_TEST_MYSQL_PW", source().password()}};
    opts.name = "n1";
    opts.output_dir = dir_.path();
    node_.reset();
    node_.emplace(opts);
  }

  child_process sysbench(const std::string& command, int seconds_to_run) {
    return sysbench_on(source(), command, seconds_to_run, 4, dir_.path());
  }

  bool caught_up(milliseconds timeout) {
    return checkpoints_caught_up(source(), target(), "sb",
                                 static_cast<size_t>(partitions_), timeout);
  }

  void expect_equal() { expect_sbtest_equal(source(), target()); }

  void prepare() { prepare_sbtest(source(), dir_.path()); }

  /// sysbench runs `seconds` while the node is killed (SIGKILL) up to `kills`
  /// times at random moments and restarted; then the target must equal the source.
  void kill_9_during_sysbench(int seconds_to_run, int kills_wanted) {
    prepare();
    start_node();
    ASSERT_TRUE(node_->wait_for_output("starting at", seconds{30}))
        << node_->output_tail();
    kill_9_while_sysbench_runs(seconds_to_run, kills_wanted);
    if (HasFatalFailure())
      return;
    ASSERT_TRUE(caught_up(seconds{60})) << node_->output_tail();
    expect_equal();
  }

  /// sysbench runs `seconds` while the running node is killed (SIGKILL) up to
  /// `kills` times at random moments and restarted.
  void kill_9_while_sysbench_runs(int seconds_to_run, int kills_wanted) {
    auto load = sysbench("run", seconds_to_run);
    std::mt19937 rng{std::random_device{}()};
    std::uniform_int_distribution<int> pause_ms{300, 1500};
    int kills = 0;
    for (; kills < kills_wanted && load.running(); ++kills) {
      std::this_thread::sleep_for(milliseconds{pause_ms(rng)});
      ASSERT_TRUE(node_->kill());
      node_->wait_for_exit(seconds{5});
      start_node();
      ASSERT_TRUE(node_->wait_for_output("resuming from", seconds{30}))
          << node_->output_tail();
    }
    auto done = load.wait_for_exit(seconds{60});
    ASSERT_TRUE(done && done->success()) << load.output_tail();
    EXPECT_GE(kills, 2);
  }

  temp_dir dir_{"sync-crash"};
  uint16_t http_port_ = free_port();
  int partitions_ = 4;
  std::optional<child_process> node_;
};

TEST_F(sync_crash_test, target_equals_source_after_kill_9_of_the_node_during_sysbench) {
  kill_9_during_sysbench(8, 4);
}

TEST_F(sync_crash_test, whole_transactions_resume_exactly_once_after_kill_9) {
  write_config(json{{"apply", "transaction"}});
  kill_9_during_sysbench(6, 3);
}

// The bank-transfer checker of sync_transaction_test, across kill -9 of the node
// process: a transaction committed on the target before the kill is not applied
// again after it, and none is ever half there.
TEST_F(sync_crash_test, whole_transactions_never_show_half_a_transfer_across_kill_9) {
  write_config(json{{"apply", "transaction"}, {"batch_rows", 20}});
  {
    auto src = source().connect();
    bank::create(src);
  }
  start_node();
  ASSERT_TRUE(node_->wait_for_output("starting at", seconds{30})) << node_->output_tail();
  // The snapshot fills the target's tables in chunks: the checker starts after it.
  ASSERT_TRUE(caught_up(seconds{60})) << node_->output_tail();
  auto dst = target().connect();
  std::atomic<bool> stop{false}, writers_done{false};
  std::atomic<int64_t> reads{0}, wrong{0};
  std::thread checker{[&] { bank::check(dst, stop, reads, wrong); }};
  auto writer = [&](uint64_t seed) {
    auto src = source().connect();
    bank::transfer(src, writers_done, 1'000'000, seed);
  };
  std::thread w1{writer, 21}, w2{writer, 23};
  // Threads run: no fatal assertion until they are joined.
  std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> pause_ms{300, 1200};
  int kills = 0;
  bool restarted = true;
  for (; kills < 3 && restarted; ++kills) {
    std::this_thread::sleep_for(milliseconds{pause_ms(rng)});
    EXPECT_TRUE(node_->kill());
    node_->wait_for_exit(seconds{5});
    start_node();
    restarted = node_->wait_for_output("resuming from", seconds{30});
  }
  writers_done = true;
  w1.join();
  w2.join();
  auto done = restarted && caught_up(seconds{60});
  stop = true;
  checker.join();
  ASSERT_TRUE(done) << node_->output_tail();
  EXPECT_EQ(kills, 3);
  EXPECT_GT(reads, 100);
  EXPECT_EQ(wrong, 0) << "of " << reads << " reads of the target";
  auto src = source().connect();
  for (auto table : {"bank.a", "bank.b"})
    EXPECT_EQ(checksum(dst, table), checksum(src, table)) << table;
}

TEST_F(sync_crash_test, target_equals_source_after_target_and_source_restarts) {
  prepare();
  start_node();
  ASSERT_TRUE(node_->wait_for_output("starting at", seconds{30})) << node_->output_tail();
  auto load = sysbench("run", 3);
  std::this_thread::sleep_for(milliseconds{800});
  target().kill();
  std::this_thread::sleep_for(milliseconds{500});
  target().start();
  auto done = load.wait_for_exit(seconds{60});
  ASSERT_TRUE(done) << load.output_tail();
  ASSERT_TRUE(caught_up(seconds{60})) << node_->output_tail();
  expect_equal();
  {
    // DDL after the target's restart goes through the reader's reconnected session.
    auto src = source().connect();
    run(src, "ALTER TABLE sbtest.sbtest2 ADD COLUMN extra INT NOT NULL DEFAULT 7");
  }
  source().kill();
  source().start();
  auto more = sysbench("run", 2);
  done = more.wait_for_exit(seconds{60});
  ASSERT_TRUE(done) << more.output_tail();
  ASSERT_TRUE(caught_up(seconds{60})) << node_->output_tail();
  expect_equal();
  EXPECT_TRUE(node_->running());

  httplib::Client http{"127.0.0.1", http_port_};
  // The reader takes the last credits in at its next poll (a source heartbeat
  // at the latest): in flight reaches 0 then, unless credits leaked.
  json sb;
  ASSERT_TRUE(eventually(
      [&] {
        auto status = http.Get("/status");
        if (!status)
          return false;
        sb = json::parse(status->body).at("sync").at("sb");
        return sb.at("inflight_rows").get<int>() == 0;
      },
      seconds{10}))
      << sb.dump();
  EXPECT_EQ(sb.at("state"), "running") << sb.dump();
  EXPECT_EQ(sb.at("partitions").size(), 4u);
  EXPECT_GE(sb.at("reconnects").get<int>(), 1) << sb.dump();
  EXPECT_EQ(sb.at("inflight_rows").get<int>(), 0) << sb.dump();
  EXPECT_GT(sb.at("rows_applied").get<int>(), 0);
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  for (auto name :
       {"shoal_sync_lag_seconds{pipeline=\"sb\"}", "shoal_sync_source_position_bytes",
        "shoal_sync_partition_applied_position_bytes",
        "shoal_sync_rows_applied_total{pipeline=\"sb\"}",
        "shoal_sync_pipeline_state{pipeline=\"sb\",state=\"running\"} 1",
        "shoal_sync_partition_queued_rows"})
    EXPECT_NE(metrics->body.find(name), std::string::npos) << name;
}

// The same kills with Redis streams as the target: a consumer that starts from
// a copy of the tables rebuilds them from the streams alone, equal to the
// source, and no change reaches a stream twice (each batch lands with its
// position in one script, and a restart resumes from the positions Redis holds).
TEST_F(sync_crash_test, a_redis_stream_target_holds_each_change_once_after_kill_9) {
  auto src = source().connect();
  run(src, "SET GLOBAL binlog_row_metadata = 'FULL'");
  prepare();
  // The consumer's starting copy, taken while the source is quiet: the
  // pipeline starts at the source's position right after it.
  auto dst = target().connect();
  run(dst, "CREATE DATABASE rebuilt");
  run(dst, "USE rebuilt");
  std::vector<std::string> tables{"sbtest1", "sbtest2"};
  for (auto& t : tables) {
    run(dst, run(src, "SHOW CREATE TABLE sbtest." + t).rows.at(0).at(1).value_or(""));
    auto rows = run(src, "SELECT id, k, c, pad FROM sbtest." + t);
    std::string values;
    for (auto& r : rows.rows)
      values += std::string{values.empty() ? "" : ","} + "(" + r.at(0).value_or("") +
                "," + r.at(1).value_or("") + "," + dst.quote(r.at(2).value_or("")) + "," +
                dst.quote(r.at(3).value_or("")) + ")";
    run(dst, "INSERT INTO " + t + " VALUES " + values);
  }
  json target{
      {"kind", "redis_stream"},
      {"redis", {{"port", redis().port()}}},
      {"state",
       {{"port", this->target().port()}, {"password_env", "SHOAL_TEST_MYSQL_PW"}}}};
  write_config(json{{"target", target}, {"start", "current"}});
  start_node();
  ASSERT_TRUE(node_->wait_for_output("starting at", seconds{30})) << node_->output_tail();
  kill_9_while_sysbench_runs(8, 4);
  if (HasFatalFailure())
    return;
  stream_rebuilder consumer{dst, "rebuilt"};
  auto streams = redis().connect();
  auto equal = [&] {
    for (auto& t : tables)
      consumer.consume(streams, "shoal:sb:sbtest." + t, t, {});
    for (auto& t : tables)
      if (checksum(src, "sbtest." + t) != checksum(dst, "rebuilt." + t))
        return false;
    return true;
  };
  ASSERT_TRUE(eventually(equal, seconds{60})) << node_->output_tail();
  EXPECT_EQ(consumer.duplicates(), 0u) << "changes that reached a stream twice";
  EXPECT_GT(consumer.events(), 1000u);
}

} // namespace
} // namespace shoal::test
