// The platforms beyond WeChat's access token, each on 3 node processes against
// the stand-in: WeCom gettoken (the same token until it expires), the JS-SDK
// jsapi_ticket (fetched with the access token of another provider), and the Open
// Platform component_access_token (needs the pushed component_verify_ticket).
// Each: one upstream call per cycle across the cluster, and every token or ticket
// a caller got was valid at the stand-in.

#include "tests/cluster/token_cluster.hpp"
#include "tests/support/shared_servers.hpp"

namespace shoal::test {
namespace {

class token_platforms : public server_test {};

json fast_refresh() {
  return {{"backoff_initial_ms", 50}, {"backoff_max_ms", 400}};
}

void expect_clean(token_cluster& c, const std::vector<std::string>& nodes,
                  int64_t min_left_ms) {
  for (auto& n : nodes) {
    auto r = c.finish(n);
    EXPECT_EQ(r.value("errors", -1), 0) << n << ": " << r.dump();
    EXPECT_EQ(r.value("invalid", -1), 0) << n << ": " << r.dump();
    EXPECT_GT(r.value("checks", 0), 0) << n << ": " << r.dump();
    EXPECT_GE(r.value("min_left_ms", -1), min_left_ms) << n << ": " << r.dump();
  }
}

TEST_F(token_platforms, wecom_does_not_believe_a_repeated_token_and_calls_once_a_cycle) {
  // WeCom returns the same token until it expires, each time with the full
  // expires_in. A keeper that refreshed in the advisory window would get the old
  // token back, believe its new expiry and hand it out dead.
  standins::token_standin_options up;
  up.expiry = seconds{4};
  up.apps["ww-test-corp"] = "wx-test-secret";
  token_cluster_spec spec;
  spec.provider = "corp";
  spec.providers = [](const std::string& url) {
    return json::array({{{"name", "corp"},
                         {"kind", "wecom"},
                         {"base_url", url},
                         {"corpid", "ww-test-corp"},
                         {"secret_env", "SHOAL_TEST_WX_SECRET"},
                         {"connect_timeout_ms", 500},
                         {"read_timeout_ms", 1500},
                         {"daily_quota", 0},
                         {"refresh", fast_refresh()}}});
  };
  token_cluster c({"n1", "n2", "n3"}, redis(), up, 1500, 8, spec);
  c.start_all();
  ASSERT_FALSE(HasFatalFailure());
  // The first token and 5 cycles.
  ASSERT_TRUE(
      eventually([&] { return c.upstream().count("gettoken", "ok") >= 6; }, seconds{60}))
      << c.upstream().stats().dump();
  // The hand-out margin of a 4 s token is 500 ms: no caller got less, less what a
  // descheduled thread loses between get() and its clock reading.
  expect_clean(c, {"n1", "n2", "n3"}, 300);
  auto ok = c.upstream().count("gettoken", "ok");
  auto same = c.upstream().count("gettoken", "same");
  // The call comes at the token's expiry plus the upstream's latency: the
  // platform has a new token by then. A call that still meets the old one (its
  // clock a little behind) is retried after a short backoff; never a call per
  // cycle in the advisory window.
  EXPECT_LE(same, ok / 3) << c.upstream().stats().dump();
  EXPECT_EQ(c.upstream().count("gettoken", "ok"),
            static_cast<int64_t>(c.upstream().issue_times("gettoken").size()));
}

TEST_F(token_platforms, jsapi_ticket_follows_its_base_token_and_survives_its_refusal) {
  // 60 s access tokens, 4 s tickets: many ticket cycles on one access token.
  standins::token_standin_options up;
  up.expiry = seconds{60};
  up.ticket_expiry = seconds{4};
  up.grace = seconds{2};
  token_cluster_spec spec;
  spec.provider = "js";
  spec.providers = [](const std::string& url) {
    return json::array({{{"name", "wx"},
                         {"kind", "wechat"},
                         {"base_url", url},
                         {"appid", "wx-test-app"},
                         {"secret_env", "SHOAL_TEST_WX_SECRET"},
                         {"connect_timeout_ms", 500},
                         {"read_timeout_ms", 1500},
                         {"daily_quota", 0},
                         {"refresh", fast_refresh()}},
                        {{"name", "js"},
                         {"kind", "jsapi_ticket"},
                         {"base", "wx"},
                         {"base_url", url},
                         {"connect_timeout_ms", 500},
                         {"read_timeout_ms", 1500},
                         {"daily_quota", 0},
                         {"refresh", fast_refresh()}}});
  };
  token_cluster c({"n1", "n2", "n3"}, redis(), up, 1500, 8, spec);
  c.start_all();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(
      eventually([&] { return c.upstream().count("getticket", "ok") >= 3; }, seconds{30}))
      << c.upstream().stats().dump();
  EXPECT_EQ(c.upstream().count("token", "ok"), 1) << c.upstream().stats().dump();
  // The platform stops accepting the access token (a secret reset): the next
  // getticket gets 40001. That is the base token's problem, not the ticket's:
  // the ticket keeper reports it, the access token is refreshed at once (not at
  // its own schedule, 30 s away), and tickets follow with the new one.
  auto tickets = c.upstream().count("getticket", "ok");
  c.upstream().revoke_tokens();
  ASSERT_TRUE(
      eventually([&] { return c.upstream().count("token", "ok") >= 2; }, seconds{15}))
      << c.upstream().stats().dump();
  ASSERT_TRUE(eventually(
      [&] { return c.upstream().count("getticket", "ok") >= tickets + 3; }, seconds{30}))
      << c.upstream().stats().dump();
  // One refused call: the keeper never sends the refused token again.
  EXPECT_EQ(c.upstream().count("getticket", "errcode_40001"), 1)
      << c.upstream().stats().dump();
  EXPECT_EQ(c.upstream().count("token", "ok"), 2) << c.upstream().stats().dump();
  // A ticket is never fetched with an access token in its last moments (its
  // mandatory window, the last 15 s of 60).
  EXPECT_GE(c.upstream().min_base_left_ms(), 15000);
  // The ticket's hand-out margin is 500 ms.
  expect_clean(c, {"n1", "n2", "n3"}, 300);
  // Tickets live 4 s; their advisory window opens 2 s before expiry.
  c.expect_one_issue_per_cycle("getticket", milliseconds{1000});
}

TEST_F(token_platforms, component_token_waits_for_the_pushed_ticket_and_uses_the_newest) {
  standins::token_standin_options up;
  up.expiry = seconds{4};
  up.grace = seconds{2};
  up.apps["wx-component"] = "wx-test-secret";
  token_cluster_spec spec;
  spec.provider = "cmp";
  spec.http_api = true;
  spec.providers = [](const std::string& url) {
    return json::array({{{"name", "cmp"},
                         {"kind", "component"},
                         {"base_url", url},
                         {"component_appid", "wx-component"},
                         {"secret_env", "SHOAL_TEST_WX_SECRET"},
                         {"connect_timeout_ms", 500},
                         {"read_timeout_ms", 1500},
                         {"daily_quota", 0},
                         {"refresh", fast_refresh()}},
                        {{"name", "wx"},
                         {"kind", "wechat"},
                         {"base_url", url},
                         {"appid", "wx-test-app"},
                         {"secret_env", "SHOAL_TEST_WX_SECRET"},
                         {"daily_quota", 0}}});
  };
  token_cluster c({"n1", "n2", "n3"}, redis(), up, 1500, 8, spec);
  auto post = [&](const std::string& node, const std::string& path, const json& body,
                  const std::string& secret) {
    httplib::Client http{"127.0.0.1", c.http_port(node)};
    http.set_connection_timeout(1, 0);
    http.set_read_timeout(5, 0);
    return http.Post(path.c_str(), {{"Authorization", "Bearer " + secret}}, body.dump(),
                     "application/json");
  };
  // n1 waits for its first token until a ticket is pushed: push it from here
  // once n1 says why it waits.
  std::string first_ticket = c.upstream().push_verify_ticket();
  std::atomic<bool> pushed{false};
  std::string seen_wait;
  std::thread pusher{[&] {
    if (!eventually(
            [&] {
              seen_wait = c.status("n1").value("waiting_for", "");
              return seen_wait.find("no component_verify_ticket") != std::string::npos;
            },
            seconds{20}))
      return;
    auto anon = post("n1", "/token/cmp/verify_ticket",
                     {{"component_verify_ticket", first_ticket}}, "wrong");
    auto wrong_kind = post("n1", "/token/wx/verify_ticket",
                           {{"component_verify_ticket", first_ticket}}, http_api_secret);
    auto ok = post("n1", "/token/cmp/verify_ticket",
                   {{"component_verify_ticket", first_ticket}}, http_api_secret);
    pushed = anon && anon->status == 401 && wrong_kind && wrong_kind->status == 400 &&
             ok && ok->status == 202;
  }};
  c.start("n1");
  pusher.join();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(pushed) << "waiting_for: " << seen_wait;
  EXPECT_EQ(c.upstream().count("component", "errcode_61006"), 0)
      << "a call was made without a ticket: " << c.upstream().stats().dump();
  c.start("n2");
  c.start("n3");
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(
      eventually([&] { return c.upstream().count("component", "ok") >= 3; }, seconds{30}))
      << c.upstream().stats().dump();
  EXPECT_EQ(c.upstream().last_verify_ticket_used(), first_ticket);
  // The next push arrives at another node: the keeper, wherever it is, uses it.
  auto second_ticket = c.upstream().push_verify_ticket();
  auto at = c.keeper() == "n2" ? "n3" : "n2";
  auto r = post(at, "/token/cmp/verify_ticket",
                {{"component_verify_ticket", second_ticket}}, http_api_secret);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  auto calls = c.upstream().count("component", "ok");
  ASSERT_TRUE(eventually(
      [&] { return c.upstream().count("component", "ok") >= calls + 2; }, seconds{20}))
      << c.upstream().stats().dump();
  EXPECT_EQ(c.upstream().last_verify_ticket_used(), second_ticket);
  expect_clean(c, {"n1", "n2", "n3"}, 300);
  EXPECT_EQ(c.upstream().count("component", "ok"),
            static_cast<int64_t>(c.upstream().issue_times("component").size()));
  c.expect_one_issue_per_cycle("component", milliseconds{1000});
}

} // namespace
} // namespace shoal::test
