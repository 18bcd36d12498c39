// The token keeper's outer interfaces on a real `shoal node`: GET /token/NAME and
// POST /token/NAME/rejected behind a bearer secret, `shoal token get`, and the
// WxJava-style plain Redis key that follows every refresh.

#include "tests/cluster/token_cluster.hpp"
#include "tests/support/shared_servers.hpp"

namespace shoal::test {
namespace {

class token_http : public server_test {};

TEST_F(token_http, http_api_needs_the_bearer_secret_and_serves_and_rejects_tokens) {
  standins::token_standin up_server{standins::token_standin_options{}};
  ASSERT_GT(up_server.start(), 0);
  temp_dir dir{"token-http"};
  auto http_port = free_port();
  json cfg{{"node", {{"name", "n1"}, {"port", free_port()}}},
           {"http", {{"port", http_port}}},
           {"redis", {{"port", redis().port()}}},
           {"tokens",
            {{"http_api", {{"secret_env", "SHOAL_TEST_TOKEN_API"}}},
             {"providers", json::array({{{"name", "wx"},
                                         {"kind", "wechat"},
                                         {"base_url", up_server.base_url()},
                                         {"appid", "wx-test-app"},
                                         {"secret_env", "SHOAL_TEST_WX_SECRET"},
                                         {"plain_key", "wx:access_token:{appid}"},
                                         {"refresh",
                                          {{"forced_min_interval_ms", 2000},
                                           {"forced_max_per_day", 2}}}}})}}}};
  auto path = (dir.path() / "n1.json").string();
  std::ofstream{path} << cfg.dump(2);
  process_options o;
  o.program = shoal_binary();
  o.args = {"node", "--config", path};
  o.env = {{"SHOAL_TEST_WX_SECRET", "wx-test-secret"},
           {"SHOAL_TEST_TOKEN_API", "api-secret-1"}};
  o.output_dir = dir.path();
  o.name = "n1";
  child_process node{o};
  ASSERT_TRUE(node.wait_for_output("ready node=n1", seconds{15})) << node.output_tail();

  httplib::Client http{"127.0.0.1", http_port};
  http.set_read_timeout(10, 0);
  auto anon = http.Get("/token/wx");
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->status, 401);
  httplib::Headers wrong{{"Authorization", "Bearer api-secret-2"}};
  EXPECT_EQ(http.Get("/token/wx", wrong)->status, 401);
  httplib::Headers auth{{"Authorization", "Bearer api-secret-1"}};
  EXPECT_EQ(http.Get("/token/nope", auth)->status, 404);
  auto got = http.Get("/token/wx", auth);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;
  auto first = json::parse(got->body);
  auto token = first["access_token"].get<std::string>();
  EXPECT_EQ(up_server.check(token), 0);
  EXPECT_EQ(first["version"], 1);

  // What a Java service using WxJava's WxMpRedisConfigImpl reads: the bare token,
  // expiring 200 s before it does (the stand-in's tokens last 2 h).
  auto redis_conn = redis().connect();
  auto plain = [&] {
    auto r = redis_conn.command({"GET", "wx:access_token:wx-test-app"});
    return r && !r->is_nil() ? r->str : std::string{};
  };
  // The keeper records a fresh token before it serves it, and the bare key is
  // written in the same script as the record: it is there already.
  EXPECT_EQ(plain(), token) << "GET wx:access_token:wx-test-app";
  auto pttl = redis_conn.command({"PTTL", "wx:access_token:wx-test-app"});
  ASSERT_TRUE(pttl);
  EXPECT_LE(pttl->integer, (7200 - 200) * 1000);
  EXPECT_GT(pttl->integer, (7200 - 200 - 60) * 1000);

  // The CLI reads what the keeper stored.
  process_options cli;
  cli.program = shoal_binary();
  cli.args = {"token", "get", "--config", path, "--provider", "wx"};
  cli.output_dir = dir.path();
  cli.name = "cli";
  child_process get{cli};
  auto status = get.wait_for_exit(seconds{10});
  ASSERT_TRUE(status && status->success()) << get.output_tail();
  EXPECT_NE(get.output(output_stream::out).find(token), std::string::npos);

  // Rejecting the current token refreshes once; rejecting it again does nothing.
  auto rej = http.Post("/token/wx/rejected", auth, json{{"access_token", token}}.dump(),
                       "application/json");
  ASSERT_TRUE(rej);
  EXPECT_EQ(rej->status, 202);
  ASSERT_TRUE(eventually(
      [&] {
        auto r = http.Get("/token/wx", auth);
        return r && r->status == 200 && json::parse(r->body)["version"] == 2;
      },
      seconds{10}));
  // The plain key follows the refresh.
  auto token_v2 = json::parse(http.Get("/token/wx", auth)->body)["access_token"];
  EXPECT_EQ(plain(), token_v2.get<std::string>());
  http.Post("/token/wx/rejected", auth, json{{"access_token", token}}.dump(),
            "application/json");
  EXPECT_FALSE(
      eventually([&] { return up_server.tokens_issued() > 2; }, milliseconds{1000}));

  // Reports of the new token too: a refused-token report cannot spend the quota.
  // The second forced refresh waits out forced_min_interval_ms...
  auto forced = [&] {
    auto r = http.Get("/status");
    if (!r || r->status != 200)
      return json::object();
    return json::parse(r->body)["tokens"]["wx"];
  };
  auto token2 = json::parse(http.Get("/token/wx", auth)->body)["access_token"];
  http.Post("/token/wx/rejected", auth, json{{"access_token", token2}}.dump(),
            "application/json");
  ASSERT_TRUE(eventually(
      [&] { return forced()["forced_refreshes"].value("deferred", 0) == 1; }, seconds{5}))
      << forced().dump();
  json token3;
  ASSERT_TRUE(eventually(
      [&] {
        auto r = http.Get("/token/wx", auth);
        if (!r || r->status != 200 || json::parse(r->body)["version"] != 3)
          return false;
        token3 = json::parse(r->body)["access_token"];
        return true;
      },
      seconds{10}));
  EXPECT_EQ(up_server.tokens_issued(), 3);
  // ... and the third of the day is refused: the current token stays.
  http.Post("/token/wx/rejected", auth, json{{"access_token", token3}}.dump(),
            "application/json");
  ASSERT_TRUE(eventually(
      [&] { return forced()["forced_refreshes"].value("refused", 0) == 1; }, seconds{5}))
      << forced().dump();
  EXPECT_NE(forced().value("last_forced_limit", "").find("forced_max_per_day"),
            std::string::npos)
      << forced().dump();
  EXPECT_EQ(forced()["forced_refreshes"].value("refresh", 0), 1);
  EXPECT_FALSE(
      eventually([&] { return up_server.tokens_issued() > 3; }, milliseconds{1000}));
  EXPECT_EQ(json::parse(http.Get("/token/wx", auth)->body)["access_token"], token3);
  EXPECT_EQ(http.Post("/token/wx/rejected", wrong, "{}", "application/json")->status,
            401);
  node.terminate();
  EXPECT_TRUE(node.wait_for_exit(seconds{10})) << node.output_tail();
  EXPECT_EQ(node.output().find("api-secret-1"), std::string::npos);
  EXPECT_EQ(node.output().find("wx-test-secret"), std::string::npos);
}

} // namespace
} // namespace shoal::test
