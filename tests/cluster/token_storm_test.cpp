// The expiry storm: 3 node processes x 32 threads calling get() through 8 short
// token lifetimes. One upstream call per cycle, every token served was valid at
// the stand-in, and no get ever waited while a valid token existed.

#include "tests/cluster/token_cluster.hpp"
#include "tests/support/shared_servers.hpp"

namespace shoal::test {
namespace {

class token_storm : public server_test {};

TEST_F(token_storm, one_upstream_call_per_cycle_and_no_waiting_caller) {
  standins::token_standin_options up;
  up.expiry = seconds{4};
  up.grace = seconds{2};
  token_cluster c({"n1", "n2", "n3"}, redis(), up);
  c.start_all();
  ASSERT_FALSE(HasFatalFailure());
  std::map<std::string, double> waited_before;
  for (auto n : {"n1", "n2", "n3"})
    waited_before[n] = c.status(n).value("waited_gets", 0.0);
  // The first token plus 8 refresh cycles.
  ASSERT_TRUE(c.wait_tokens(9, seconds{50})) << c.upstream().stats().dump();
  std::this_thread::sleep_for(milliseconds{200});
  std::map<std::string, double> waited_after;
  for (auto n : {"n1", "n2", "n3"})
    waited_after[n] = c.status(n).value("waited_gets", 0.0);
  std::set<std::string> served;
  auto issued_before_finish = c.upstream().tokens_issued();
  int64_t gets = 0;
  for (auto n : {"n1", "n2", "n3"}) {
    auto r = c.finish(n);
    EXPECT_EQ(r.value("errors", -1), 0) << n << ": " << r.dump();
    EXPECT_EQ(r.value("invalid", -1), 0) << n << ": " << r.dump();
    EXPECT_GT(r.value("checks", 0), 0) << n;
    EXPECT_EQ(waited_after[n], waited_before[n]) << n << " had gets that waited";
    gets += r.value("gets", 0);
    for (auto& t : r["tokens"])
      served.insert(t.get<std::string>());
  }
  auto issued = c.upstream().tokens_issued();
  EXPECT_EQ(c.upstream().count("token", "ok"), issued);
  // Every token fetched was used by the cluster: none fetched for nothing (a
  // refresh may still land while the nodes stop).
  EXPECT_GE(static_cast<int64_t>(served.size()), issued_before_finish)
      << c.upstream().stats().dump();
  EXPECT_LE(static_cast<int64_t>(served.size()), issued);
  // The lifetime is 4 s and the advisory window opens 2 s before expiry, up to
  // its own length (1 s) earlier when the upstream answered slowly (a loaded
  // machine); a duplicate refresh would come within a few ms.
  c.expect_one_call_per_cycle(milliseconds{500});
  RecordProperty("gets", static_cast<int>(std::min<int64_t>(gets, INT32_MAX)));
  RecordProperty("upstream_calls", static_cast<int>(issued));
}

} // namespace
} // namespace shoal::test
