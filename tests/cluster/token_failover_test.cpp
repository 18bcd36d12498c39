// The keeper's node dies (kill -9) or freezes (SIGSTOP) mid-cycle: another node
// takes the lease within the lease time, continues from the stored token without
// refreshing early, callers see no error, and there is still one upstream call per
// cycle (also after the frozen node wakes up with its old lease in mind).

#include "tests/cluster/token_cluster.hpp"
#include "tests/support/shared_servers.hpp"

namespace shoal::test {
namespace {

class token_failover : public server_test {
protected:
  static standins::token_standin_options upstream() {
    standins::token_standin_options up;
    // 6 s tokens: the advisory window opens 3 s before expiry, which leaves room
    // for a takeover (lease 1.5 s) before the token runs out.
    up.expiry = seconds{6};
    up.grace = seconds{2};
    return up;
  }
};

TEST_F(token_failover, kill_9_of_the_keepers_node_hands_over_without_extra_calls) {
  token_cluster c({"n1", "n2", "n3"}, redis(), upstream(), 1500, 8);
  c.start_all();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(c.wait_tokens(2, seconds{20}));
  std::this_thread::sleep_for(milliseconds{1000});
  auto victim = c.keeper();
  ASSERT_FALSE(victim.empty());
  auto before = c.upstream().tokens_issued();
  auto killed_at = steady_clock::now();
  c.proc(victim).kill();
  ASSERT_TRUE(c.wait_tokens(before + 1, seconds{20}));
  auto failover_ms =
      duration_cast<milliseconds>(c.issues().back().first - killed_at).count();
  ASSERT_TRUE(eventually([&] { return !c.keeper().empty(); }, seconds{5}));
  EXPECT_NE(c.keeper(), victim);
  ASSERT_TRUE(c.wait_tokens(before + 3, seconds{25}));
  for (auto n : {"n1", "n2", "n3"}) {
    if (n == victim)
      continue;
    auto r = c.finish(n);
    EXPECT_EQ(r.value("errors", -1), 0) << n << ": " << r.dump();
    EXPECT_EQ(r.value("invalid", -1), 0) << n << ": " << r.dump();
  }
  EXPECT_EQ(c.upstream().count("token", "ok"), c.upstream().tokens_issued());
  c.expect_one_call_per_cycle(milliseconds{2000});
  RecordProperty("kill_to_next_refresh_ms", static_cast<int>(failover_ms));
}

TEST_F(token_failover,
       sigstop_of_the_keepers_node_hands_over_and_the_woken_keeper_is_fenced) {
  token_cluster c({"n1", "n2", "n3"}, redis(), upstream(), 1500, 8);
  c.start_all();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(c.wait_tokens(2, seconds{20}));
  std::this_thread::sleep_for(milliseconds{1000});
  auto victim = c.keeper();
  ASSERT_FALSE(victim.empty());
  auto before = c.upstream().tokens_issued();
  c.proc(victim).stop();
  ASSERT_TRUE(c.wait_tokens(before + 2, seconds{25}));
  c.proc(victim).resume();
  ASSERT_TRUE(c.wait_tokens(before + 3, seconds{15}));
  for (auto n : {"n1", "n2", "n3"}) {
    auto r = c.finish(n);
    EXPECT_EQ(r.value("errors", -1), 0) << n << ": " << r.dump();
    // A frozen node's threads freeze with it; on waking, they may read the token
    // they had until the cache hears of the new one (within the grace period).
    if (n != victim) {
      EXPECT_EQ(r.value("invalid", -1), 0) << n << ": " << r.dump();
    }
  }
  EXPECT_EQ(c.upstream().count("token", "ok"), c.upstream().tokens_issued());
  c.expect_one_call_per_cycle(milliseconds{2000});
}

TEST_F(token_failover, a_clean_shutdown_hands_the_lease_over_at_once) {
  // A long lease and long tokens: a standby that had to wait for the lease to run
  // out would take over 4-6 s after the stop; one that finds it released takes
  // over at its next lease tick (every 2 s), without fetching a new token.
  auto up = upstream();
  up.expiry = seconds{60};
  token_cluster c({"n1", "n2"}, redis(), up, 6000, 4);
  c.start_all();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(c.wait_tokens(1, seconds{20}));
  ASSERT_TRUE(eventually([&] { return !c.keeper().empty(); }, seconds{10}));
  auto victim = c.keeper();
  auto heir = victim == "n1" ? "n2" : "n1";
  auto before = c.upstream().tokens_issued();
  auto r = c.finish(victim);
  EXPECT_EQ(r.value("errors", -1), 0) << r.dump();
  auto stopped = steady_clock::now();
  ASSERT_TRUE(eventually([&] { return c.status(heir).value("keeper_here", false); },
                         milliseconds{3000}))
      << heir << " did not take the released lease within 3 s";
  RecordProperty("stop_to_takeover_ms",
                 static_cast<int>(
                     duration_cast<milliseconds>(steady_clock::now() - stopped).count()));
  EXPECT_EQ(c.upstream().tokens_issued(), before) << "the takeover fetched a new token";
  auto rest = c.finish(heir);
  EXPECT_EQ(rest.value("errors", -1), 0) << rest.dump();
  EXPECT_EQ(rest.value("invalid", -1), 0) << rest.dump();
}

} // namespace
} // namespace shoal::test
