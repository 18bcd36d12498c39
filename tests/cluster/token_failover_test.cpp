// The keeper's node dies (kill -9) or freezes (SIGSTOP) mid-cycle: another node
// takes the lease within the lease time, continues from the stored token without
// refreshing early (or refreshes at once when it took over inside the advisory
// window), callers see no error, and there is still one upstream call per cycle
// (also after the frozen node wakes up with its old lease in mind).

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
  std::string witness = victim == "n1" ? "n2" : "n1";
  auto version_before = c.status(witness).value("version", int64_t{-1});
  auto killed_at = steady_clock::now();
  c.proc(victim).kill();
  ASSERT_TRUE(c.wait_tokens(before + 1, seconds{20}));
  // The heir's first token skips a version, above one its predecessor might have
  // pushed without a record (token_keeper.cpp, skip_version).
  EXPECT_TRUE(eventually(
      [&] {
        return c.status(witness).value("version", int64_t{-1}) == version_before + 2;
      },
      seconds{5}))
      << "version before the kill " << version_before << ", now "
      << c.status(witness).dump();
  // The watcher records an issue up to a poll (2 ms) after the stand-in counts it.
  ASSERT_TRUE(eventually(
      [&] { return c.issues().size() >= static_cast<size_t>(before + 1); }, seconds{5}));
  auto failover_ms = duration_cast<milliseconds>(
                         c.issues().at(static_cast<size_t>(before)).first - killed_at)
                         .count();
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

TEST_F(token_failover,
       a_keeper_taking_over_inside_the_advisory_window_refreshes_at_once) {
  // 20 s tokens: the advisory window runs from 10 s to 15 s after the token was
  // obtained. The keeper is killed at 9.5 s, before its refresh point; the lease
  // (1.5 s) passes to another node inside the advisory window. The point the dead
  // keeper chose is lost with it: the heir refreshes as soon as it holds the lease
  // rather than at a new random point up to 4 s later, closer to expiry.
  auto up = upstream();
  up.expiry = seconds{20};
  token_cluster c({"n1", "n2", "n3"}, redis(), up, 1500, 4);
  c.start_all();
  ASSERT_FALSE(HasFatalFailure());
  auto issued = c.young_token(milliseconds{5000}, seconds{60});
  ASSERT_NE(issued, steady_clock::time_point{}) << "no token issued";
  auto before = c.upstream().tokens_issued();
  ASSERT_TRUE(eventually([&] { return !c.keeper().empty(); }, seconds{5}));
  auto victim = c.keeper();
  std::this_thread::sleep_until(issued + milliseconds{9500});
  ASSERT_EQ(c.upstream().tokens_issued(), before)
      << "refreshed before the advisory window";
  c.proc(victim).kill();
  std::vector<std::string> heirs;
  for (auto n : {"n1", "n2", "n3"})
    if (n != victim)
      heirs.push_back(n);
  std::string heir;
  ASSERT_TRUE(eventually(
      [&] {
        for (auto& n : heirs)
          if (c.status(n).value("keeper_here", false))
            heir = n;
        return !heir.empty() || c.upstream().tokens_issued() > before;
      },
      seconds{10}));
  auto took_over = steady_clock::now();
  // The watcher records an issue up to a poll (2 ms) after the stand-in counts it.
  ASSERT_TRUE(eventually(
      [&] { return c.issues().size() >= static_cast<size_t>(before + 1); }, seconds{10}));
  auto refreshed = c.issues().at(static_cast<size_t>(before)).first;
  ASSERT_GT(took_over, issued + milliseconds{10000})
      << "the takeover happened before the advisory window; the test timing is off";
  auto wait_ms = duration_cast<milliseconds>(refreshed - took_over).count();
  EXPECT_LT(wait_ms, 1000) << "the heir waited " << wait_ms
                           << " ms after taking over inside the advisory window";
  RecordProperty("takeover_to_refresh_ms", static_cast<int>(wait_ms));
  for (auto& n : heirs) {
    auto r = c.finish(n);
    EXPECT_EQ(r.value("errors", -1), 0) << n << ": " << r.dump();
    EXPECT_EQ(r.value("invalid", -1), 0) << n << ": " << r.dump();
  }
  EXPECT_EQ(c.upstream().count("token", "ok"), c.upstream().tokens_issued());
  c.expect_one_call_per_cycle(milliseconds{9000});
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
  // Counted once: what a demo or an operator reads to explain a skipped version.
  EXPECT_EQ(c.status(heir).value("keeper_takeovers", -1), 1) << c.status(heir).dump();
  auto rest = c.finish(heir);
  EXPECT_EQ(rest.value("errors", -1), 0) << rest.dump();
  EXPECT_EQ(rest.value("invalid", -1), 0) << rest.dump();
}

} // namespace
} // namespace shoal::test
