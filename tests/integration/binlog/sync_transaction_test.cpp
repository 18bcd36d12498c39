// What a reader of the target sees while a pipeline applies bank transfers (each
// source transaction moves an amount between two accounts, often of two tables):
// with apply "key" the rows of one transfer are committed by different partitions
// at different times, so the total balance on the target wobbles (a documented
// property of that mode, shown here); with whole transactions it never does, also
// across a stop and a resume from the checkpoint, and the copy ends identical,
// while transfers on disjoint accounts are committed by several partitions.

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/integration/binlog/sync_test_support.hpp"
#include "tests/support/bank_transfers.hpp"
#include "tests/support/eventually.hpp"

namespace shoal::test {
namespace {

using namespace std::chrono;

class sync_transaction_test : public sync_fixture {
protected:
  void create_bank() {
    auto src = source().connect();
    bank::create(src);
  }

  void transfer(std::atomic<bool>& stop, int count, uint64_t seed) {
    auto src = source().connect();
    bank::transfer(src, stop, count, seed);
  }

  /// The target's bank tables hold the source's rows.
  void expect_same_bank(mysql_connection& dst) {
    auto src = source().connect();
    EXPECT_EQ(rows_of(src, "bank.a"), rows_of(dst, "bank.a"));
    EXPECT_EQ(rows_of(src, "bank.b"), rows_of(dst, "bank.b"));
  }
};

TEST_F(sync_transaction_test, per_key_apply_shows_half_transfers_to_a_reader) {
  auto s = settings("bank-key", 4);
  s.batch_rows = 20;
  auto p = start(s);
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  create_bank();
  ASSERT_TRUE(caught_up(*p));
  auto dst = target().connect();
  std::atomic<bool> stop{false};
  std::atomic<int64_t> reads{0}, wrong{0};
  std::thread checker{[&] { bank::check(dst, stop, reads, wrong); }};
  std::thread writer{[&] { transfer(stop, 1'000'000, 7); }};
  bool seen = eventually([&] { return wrong > 0; }, seconds{60});
  stop = true;
  writer.join();
  checker.join();
  EXPECT_TRUE(seen) << reads << " reads of the target, none saw a half transfer";
  // Once caught up, the copy is right again: the mode keeps every row's order.
  ASSERT_TRUE(caught_up(*p));
  expect_same_bank(dst);
}

TEST_F(sync_transaction_test, whole_transactions_never_show_half_a_transfer) {
  auto s = settings("bank-tx", 4);
  s.whole_transactions = true;
  s.batch_rows = 20; // several transfers per target transaction; some larger than it
  auto p = start(s);
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  create_bank();
  ASSERT_TRUE(caught_up(*p));
  auto dst = target().connect();
  std::atomic<bool> stop{false}, writers_done{false};
  std::atomic<int64_t> reads{0}, wrong{0};
  std::thread checker{[&] { bank::check(dst, stop, reads, wrong); }};
  std::thread writer{[&] { transfer(writers_done, 1500, 11); }};
  std::thread writer2{[&] { transfer(writers_done, 1500, 13); }};
  // Halfway, the pipeline stops and a new one resumes from the checkpoint.
  // (Threads run: no fatal assertion until they are joined.)
  EXPECT_TRUE(eventually([&] { return p->status().rows_applied > 1500; }, seconds{60}));
  p->stop();
  auto resumed = start(s);
  writer.join();
  writer2.join();
  auto done = caught_up(*resumed);
  stop = true;
  checker.join();
  ASSERT_TRUE(done);
  EXPECT_GT(reads, 100);
  EXPECT_EQ(wrong, 0) << "of " << reads << " reads of the target";
  expect_same_bank(dst);
  EXPECT_EQ(resumed->status().state, binlog::pipeline_state::running)
      << resumed->status().error;
  // Disjoint transfers went to several partitions.
  int busy = 0;
  for (auto& part : resumed->status().partitions)
    busy += part.transactions > 0 ? 1 : 0;
  EXPECT_GE(busy, 2);
}

// A round cut short: some partitions committed their share, one never got its
// share (as when the process dies between commits). Key mode refuses such
// checkpoints; transaction mode reads the round again and applies only the
// groups not yet committed: the copy ends identical and no reader ever saw a
// half transfer.
TEST_F(sync_transaction_test, a_round_cut_short_is_finished_exactly_once) {
  auto s = settings("bank-cut", 4);
  s.whole_transactions = true;
  s.batch_rows = 20;
  auto calls = std::make_shared<std::atomic<int>>(0);
  s.fault = [calls](const std::string& point) {
    return point == "round_cut_short" && calls->fetch_add(1) == 30;
  };
  auto p = start(s);
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  create_bank();
  auto dst = target().connect();
  std::atomic<bool> stop{false}, writers_done{false};
  std::atomic<int64_t> reads{0}, wrong{0};
  std::thread checker{[&] { bank::check(dst, stop, reads, wrong); }};
  std::thread writer{[&] { transfer(writers_done, 1500, 17); }};
  std::thread writer2{[&] { transfer(writers_done, 1500, 19); }};
  // (Threads run: no fatal assertion until they are joined.)
  bool cut = eventually(
      [&] { return p->status().state == binlog::pipeline_state::failed; }, seconds{60});
  EXPECT_TRUE(cut);
  EXPECT_NE(p->status().error.find("injected: a round cut short"), std::string::npos)
      << p->status().error;
  p->stop();
  auto positions = [&] {
    auto c = target().connect();
    return run(c, "SELECT COUNT(DISTINCT file, pos, idx) FROM shoal.sync_checkpoint "
                  "WHERE pipeline='bank-cut' AND partition_id >= 0")
        .rows.at(0)
        .at(0);
  };
  EXPECT_EQ(positions(), "2");
  auto key_mode = s;
  key_mode.whole_transactions = false;
  key_mode.fault = nullptr;
  auto refused = start(key_mode);
  EXPECT_EQ(refused->status().state, binlog::pipeline_state::failed);
  EXPECT_NE(refused->status().error.find("stopped in the middle of a round"),
            std::string::npos)
      << refused->status().error;
  refused->stop();
  EXPECT_EQ(positions(), "2");
  s.fault = nullptr;
  auto resumed = start(s);
  writer.join();
  writer2.join();
  auto done = caught_up(*resumed);
  stop = true;
  checker.join();
  ASSERT_TRUE(cut);
  ASSERT_TRUE(done);
  EXPECT_EQ(wrong, 0) << "of " << reads << " reads of the target";
  expect_same_bank(dst);
  EXPECT_EQ(resumed->status().state, binlog::pipeline_state::running)
      << resumed->status().error;
}

TEST_F(sync_transaction_test,
       a_transaction_larger_than_the_inflight_bound_is_applied_whole) {
  auto s = settings("bank-big", 4);
  s.whole_transactions = true;
  s.batch_rows = 50;
  s.max_inflight_rows = 100;
  auto p = start(s);
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  create_bank();
  auto src = source().connect();
  run(src, "CREATE TABLE bank.log (id INT PRIMARY KEY, note VARCHAR(20))");
  ASSERT_TRUE(caught_up(*p));
  // 2000 rows in one transaction: 20 times the in-flight bound.
  run(src, "BEGIN");
  for (int i = 0; i < 2000; i += 100) {
    std::string values;
    for (int k = i; k < i + 100; ++k)
      values += (k > i ? ",(" : "(") + std::to_string(k) + ",'n')";
    run(src, "INSERT INTO bank.log VALUES " + values);
  }
  run(src, "COMMIT");
  ASSERT_TRUE(caught_up(*p));
  auto dst = target().connect();
  EXPECT_EQ(run(dst, "SELECT COUNT(*) FROM bank.log").rows.at(0).at(0), "2000");
}

} // namespace
} // namespace shoal::test
