// Failures around the keeper: Redis restarted (empty) mid-run, an upstream that
// fails half of its calls and answers slowly, one that fails until a token is in
// its last moments, and one that takes a second per call. Nodes keep serving the
// token they have, callers see no error while a valid token exists, no caller is
// handed a token inside its hand-out margin, and there is no duplicate refresh.
// With the MySQL mirror, a Redis outage longer than a token's life is ridden out on
// the mirror's fallback lease, across the death of the keeper.

#include <atomic>

#include "tests/cluster/token_cluster.hpp"
#include "tests/support/shared_servers.hpp"

namespace shoal::test {
namespace {

class token_faults : public server_test {};

TEST_F(token_faults, redis_restarted_mid_run_keeps_serving_and_refreshes_once) {
  standins::token_standin_options up;
  up.expiry = seconds{6};
  up.grace = seconds{2};
  token_cluster c({"n1", "n2", "n3"}, redis(), up, 1500, 8);
  c.start_all();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(c.wait_tokens(2, seconds{20}));
  redis().kill();
  // Without Redis no keeper can renew its lease: all step down, nobody refreshes.
  ASSERT_TRUE(eventually([&] { return c.keeper().empty(); }, seconds{5}));
  redis().start();
  ASSERT_TRUE(eventually([&] { return !c.keeper().empty(); }, seconds{5}));
  ASSERT_TRUE(c.wait_tokens(4, seconds{25}));
  for (auto n : {"n1", "n2", "n3"}) {
    auto r = c.finish(n);
    EXPECT_EQ(r.value("errors", -1), 0) << n << ": " << r.dump();
    EXPECT_EQ(r.value("invalid", -1), 0) << n << ": " << r.dump();
  }
  EXPECT_EQ(c.upstream().count("token", "ok"), c.upstream().tokens_issued());
  c.expect_one_call_per_cycle(milliseconds{2000});
}

TEST_F(token_faults, a_new_token_is_served_only_once_the_store_holds_it) {
  // A keeper killed between the upstream's answer and its store write takes the
  // token with it. Had nodes been served that token already, the successor would
  // fetch another under the same version, which those nodes would not take: they
  // would go on using a token the upstream retires. So the keeper records a token
  // before serving it. Here Redis freezes as the upstream answers the first
  // refresh, for less than the keeper's Redis timeout (1 s): no node may serve
  // the new token until Redis has it.
  standins::token_standin_options up;
  up.expiry = seconds{6};
  up.grace = seconds{2};
  std::atomic<bool> frozen{false};
  auto* store = &redis();
  up.before_token_answer = [&frozen, store](int64_t issued) {
    if (issued == 2) {
      store->freeze();
      frozen = true;
    }
  };
  token_cluster c({"n1", "n2", "n3"}, redis(), up, 4000, 8);
  c.start_all();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(eventually([&] { return frozen.load(); }, seconds{30}))
      << "no refresh: " << c.upstream().stats().dump();
  auto until = steady_clock::now() + milliseconds{600};
  std::string early;
  int old_seen = 0;
  while (steady_clock::now() < until && early.empty()) {
    for (auto n : {"n1", "n2", "n3"}) {
      auto v = c.status(n).value("version", int64_t{-1});
      if (v >= 2)
        early = n;
      else if (v == 1)
        ++old_seen;
    }
    std::this_thread::sleep_for(milliseconds{20});
  }
  redis().thaw();
  EXPECT_EQ(early, "") << "served before Redis recorded it";
  EXPECT_GT(old_seen, 0) << "no node answered /status while Redis was frozen";
  ASSERT_TRUE(eventually(
      [&] {
        for (auto n : {"n1", "n2", "n3"})
          if (c.status(n).value("version", int64_t{-1}) < 2)
            return false;
        return true;
      },
      seconds{5}))
      << "the new token did not reach every node once Redis answered";
  for (auto n : {"n1", "n2", "n3"}) {
    auto r = c.finish(n);
    EXPECT_EQ(r.value("errors", -1), 0) << n << ": " << r.dump();
    EXPECT_EQ(r.value("invalid", -1), 0) << n << ": " << r.dump();
  }
  c.expect_one_call_per_cycle(milliseconds{2000});
}

TEST_F(token_faults,
       a_redis_outage_longer_than_a_token_life_is_ridden_out_on_the_mirror) {
  // 6 s tokens, 1.5 s leases. Redis dies (kill -9, data gone) for three token
  // lives; the keeper dies too in the middle of it. Callers on every surviving node
  // never fail and never get a token the upstream no longer accepts, and there is
  // still one upstream call per cycle.
  standins::token_standin_options up;
  up.expiry = seconds{6};
  up.grace = seconds{2};
  token_cluster_spec spec;
  spec.mirror = &source();
  token_cluster c({"n1", "n2", "n3"}, redis(), up, 1500, 8, spec);
  c.start_all();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_NE(c.young_token(milliseconds{1500}, seconds{30}), steady_clock::time_point{});
  std::string keeper;
  ASSERT_TRUE(eventually([&] { return !(keeper = c.keeper()).empty(); }, seconds{10}));
  auto before = c.upstream().tokens_issued();
  redis().kill();

  // The keeper goes on acting on the fallback lease it already held.
  ASSERT_TRUE(eventually(
      [&] { return c.status(keeper).value("keeper_lease", "") == "mysql"; }, seconds{5}))
      << c.status(keeper).dump();
  ASSERT_TRUE(c.wait_tokens(before + 2, seconds{20}))
      << "no refresh while Redis was down: " << c.upstream().stats().dump();

  // The keeper dies just after a refresh: a standby takes the fallback lease.
  // "After" means once its node serves the new token; the keeper records a token
  // (here in the mirror) before it serves it, so the standby finds it there. A
  // keeper killed between the upstream's answer and that record costs one more
  // call, which no successor can avoid: the token died with it.
  ASSERT_NE(c.young_token(milliseconds{1500}, seconds{20}), steady_clock::time_point{});
  auto dead = c.keeper();
  ASSERT_FALSE(dead.empty());
  ASSERT_TRUE(eventually(
      [&] {
        return c.status(dead).value("version", int64_t{-1}) ==
               c.upstream().tokens_issued();
      },
      seconds{5}))
      << c.status(dead).dump();
  c.proc(dead).kill();
  std::string next;
  ASSERT_TRUE(eventually(
      [&] {
        next = c.keeper();
        return !next.empty() && next != dead &&
               c.status(next).value("keeper_lease", "") == "mysql";
      },
      seconds{10}));
  auto after_kill = c.upstream().tokens_issued();
  ASSERT_TRUE(c.wait_tokens(after_kill + 1, seconds{20}))
      << "the new keeper did not refresh while Redis was down";

  // Redis comes back empty. A keeper takes its lease (the one on the fallback lease,
  // or a standby, which then waits for the fallback lease to be handed over) and
  // writes the token the cluster uses into it.
  redis().start();
  std::string back;
  ASSERT_TRUE(eventually(
      [&] {
        back = c.keeper();
        return !back.empty() && c.status(back).value("keeper_lease", "") == "redis";
      },
      seconds{10}))
      << "no keeper on the Redis lease after Redis came back";
  ASSERT_TRUE(eventually(
      [&] {
        auto r =
            redis().connect().command({"HGET", "shoal:token:{wx}:record", "version"});
        return r && r->type == redis_reply::kind::string &&
               std::stoll(r->str) == c.status(back).value("version", int64_t{-1});
      },
      seconds{10}))
      << "the newest token was not written back to Redis";
  ASSERT_TRUE(c.wait_tokens(c.upstream().tokens_issued() + 1, seconds{20}));

  for (auto& n : std::vector<std::string>{"n1", "n2", "n3"}) {
    if (n == dead)
      continue;
    auto r = c.finish(n);
    EXPECT_EQ(r.value("errors", -1), 0) << n << ": " << r.dump();
    EXPECT_EQ(r.value("invalid", -1), 0) << n << ": " << r.dump();
  }
  EXPECT_EQ(c.upstream().count("token", "ok"), c.upstream().tokens_issued());
  c.expect_one_call_per_cycle(milliseconds{2000});
}

TEST_F(token_faults, half_of_upstream_calls_failing_slowly_never_reach_a_caller) {
  standins::token_standin_options up;
  // 10 s tokens: the advisory window (5 s to 2.5 s before expiry) leaves room for
  // a dozen attempts; half of them fail, each answer takes 150 ms.
  up.expiry = seconds{10};
  up.grace = seconds{2};
  up.error_rate = 0.5;
  up.latency = milliseconds{150};
  token_cluster c({"n1", "n2", "n3"}, redis(), up, 1500, 8);
  c.start_all();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(c.wait_tokens(3, seconds{40}));
  for (auto n : {"n1", "n2", "n3"}) {
    auto r = c.finish(n);
    EXPECT_EQ(r.value("errors", -1), 0) << n << ": " << r.dump();
    EXPECT_EQ(r.value("invalid", -1), 0) << n << ": " << r.dump();
  }
  auto stats = c.upstream().stats();
  int64_t faults = 0;
  for (auto& [outcome, n] : stats["calls"]["token"].items())
    if (outcome.rfind("fault_", 0) == 0)
      faults += n.get<int64_t>();
  EXPECT_GT(faults, 0) << stats.dump();
  EXPECT_EQ(c.upstream().count("token", "ok"), c.upstream().tokens_issued());
  c.expect_one_call_per_cycle(milliseconds{1500});
}

TEST_F(token_faults, a_refresh_landing_in_the_last_moments_is_waited_for) {
  // 6 s tokens: the mandatory window is the last 1.5 s, the hand-out margin the
  // last 750 ms. The upstream fails every call from the first token until 500 ms
  // before it expires: the new token lands inside the margin (or just after the
  // expiry), and callers must wait for it instead of getting the dying one.
  standins::token_standin_options up;
  up.expiry = seconds{6};
  up.grace = seconds{2};
  token_cluster c({"n1", "n2"}, redis(), up, 1500, 8);
  c.start_all();
  ASSERT_FALSE(HasFatalFailure());
  auto issued = c.young_token(milliseconds{1000}, seconds{30});
  ASSERT_NE(issued, steady_clock::time_point{}) << "no token issued";
  auto before = c.upstream().tokens_issued();
  ASSERT_EQ(c.upstream().control({{"error_rate", 1.0}, {"errors", {"busy"}}}), "");
  ASSERT_LT(steady_clock::now(), issued + milliseconds{3000})
      << "the faults were switched on after the refresh window opened";
  std::this_thread::sleep_until(issued + milliseconds{5500});
  ASSERT_EQ(c.upstream().control({{"error_rate", 0.0}}), "");
  ASSERT_TRUE(c.wait_tokens(before + 2, seconds{20}));
  EXPECT_GT(c.upstream().count("token", "fault_busy"), 0) << c.upstream().stats().dump();
  for (auto n : {"n1", "n2"}) {
    auto r = c.finish(n);
    EXPECT_EQ(r.value("errors", -1), 0) << n << ": " << r.dump();
    EXPECT_EQ(r.value("invalid", -1), 0) << n << ": " << r.dump();
    // 750 ms of margin, less what a thread descheduled between get() and its own
    // clock reading can lose under a loaded test machine.
    EXPECT_GE(r.value("min_left_ms", -1), 600) << n << ": " << r.dump();
  }
  EXPECT_EQ(c.upstream().count("token", "ok"), c.upstream().tokens_issued());
}

TEST_F(token_faults, a_slow_upstream_is_called_early_enough) {
  // Every call takes a second. The keeper measures that and starts each refresh a
  // second earlier in the advisory window (3 s to 1.5 s before expiry), so the new
  // token arrives before the mandatory window: callers never see a token with
  // much less than 1.5 s left. Started at the unshifted point, the call would
  // land up to 500 ms before expiry.
  standins::token_standin_options up;
  up.expiry = seconds{6};
  up.grace = seconds{2};
  up.latency = milliseconds{1000};
  token_cluster c({"n1", "n2"}, redis(), up, 1500, 8);
  c.start_all();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(c.wait_tokens(5, seconds{40}));
  for (auto n : {"n1", "n2"}) {
    auto r = c.finish(n);
    EXPECT_EQ(r.value("errors", -1), 0) << n << ": " << r.dump();
    EXPECT_EQ(r.value("invalid", -1), 0) << n << ": " << r.dump();
    // 1.5 s less the store write and the push to the caches (up to ~300 ms in a
    // sanitizer build).
    EXPECT_GE(r.value("min_left_ms", -1), 1000) << n << ": " << r.dump();
  }
  EXPECT_EQ(c.upstream().count("token", "ok"), c.upstream().tokens_issued());
  // Refreshes start 2 s to 3.5 s into a token's life (the advisory window moved a
  // second earlier): tokens come at least ~2 s apart; a duplicate call would come
  // a call's latency (1 s) after the first.
  c.expect_one_call_per_cycle(milliseconds{1500});
}

} // namespace
} // namespace shoal::test
