// Failures around the keeper: Redis restarted (empty) mid-run, and an upstream
// that fails half of its calls and answers slowly. Nodes keep serving the token
// they have, callers see no error while a valid token exists, and there is no
// duplicate refresh.

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

} // namespace
} // namespace shoal::test
