// What a reader of the target sees while a pipeline applies bank transfers (each
// source transaction moves an amount between two accounts, often of two tables):
// with apply "key" the rows of one transfer are committed by different partitions
// at different times, so the total balance on the target wobbles (a documented
// property of that mode, shown here); with whole transactions it never does, also
// across a stop and a resume from the checkpoint, and the copy ends identical.

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
  auto src = source().connect();
  EXPECT_EQ(rows_of(src, "bank.a"), rows_of(dst, "bank.a"));
  EXPECT_EQ(rows_of(src, "bank.b"), rows_of(dst, "bank.b"));
}

TEST_F(sync_transaction_test, whole_transactions_never_show_half_a_transfer) {
  auto s = settings("bank-tx", 1);
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
  auto src = source().connect();
  EXPECT_EQ(rows_of(src, "bank.a"), rows_of(dst, "bank.a"));
  EXPECT_EQ(rows_of(src, "bank.b"), rows_of(dst, "bank.b"));
  EXPECT_EQ(resumed->status().state, binlog::pipeline_state::running)
      << resumed->status().error;
}

TEST_F(sync_transaction_test,
       a_transaction_larger_than_the_inflight_bound_is_applied_whole) {
  auto s = settings("bank-big", 1);
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
