// rejected(provider, token) from every node at once: one refresh for the current
// token, none for a token that was already replaced.

#include "tests/cluster/token_cluster.hpp"
#include "tests/support/shared_servers.hpp"

namespace shoal::test {
namespace {

class token_rejected : public server_test {};

TEST_F(token_rejected,
       all_nodes_rejecting_the_current_token_cause_one_refresh_a_replaced_one_none) {
  standins::token_standin_options up;
  up.expiry = seconds{60};
  up.grace = seconds{5};
  token_cluster c({"n1", "n2", "n3"}, redis(), up, 1500, 4);
  c.start_all();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_EQ(c.upstream().tokens_issued(), 1);
  std::vector<std::string> nodes{"n1", "n2", "n3"};
  for (auto& n : nodes)
    c.reject(n, 1);
  ASSERT_TRUE(
      eventually([&] { return c.rejected("n1") && c.rejected("n2") && c.rejected("n3"); },
                 seconds{10}));
  ASSERT_TRUE(c.wait_tokens(2, seconds{10}));
  ASSERT_TRUE(eventually(
      [&] {
        for (auto& n : nodes)
          if (c.status(n).value("version", 0) != 2)
            return false;
        return true;
      },
      seconds{10}));
  // Every node reported, every node holds version 2: a second refresh would have
  // followed at once. Give late reports a moment to arrive.
  EXPECT_FALSE(c.wait_tokens(3, milliseconds{1500})) << c.upstream().stats().dump();

  // Token 1 again: it was replaced meanwhile, so nobody refreshes.
  for (auto& n : nodes)
    c.reject(n, 1);
  ASSERT_TRUE(
      eventually([&] { return c.rejected("n1") && c.rejected("n2") && c.rejected("n3"); },
                 seconds{10}));
  EXPECT_FALSE(c.wait_tokens(3, milliseconds{1500})) << c.upstream().stats().dump();
  for (auto& n : nodes) {
    auto r = c.finish(n);
    EXPECT_EQ(r.value("errors", -1), 0) << n << ": " << r.dump();
    EXPECT_EQ(r.value("invalid", -1), 0) << n << ": " << r.dump();
  }
  EXPECT_EQ(c.upstream().tokens_issued(), 2);
}

} // namespace
} // namespace shoal::test
