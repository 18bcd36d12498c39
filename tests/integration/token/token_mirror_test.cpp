// The optional MySQL mirror of the token record, against real MariaDB and Redis:
// a row only moves to a higher version; a node that starts while Redis is down
// serves the mirrored token; and a keeper that finds Redis empty writes the
// mirrored token back instead of spending an upstream call.

#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "actors/token/actors/token_mirror.hpp"
#include "actors/token/actors/token_store.hpp"
#include "runtime/engine.hpp"
#include "runtime/token_service.hpp"
#include "tests/standins/token_standin.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/shared_servers.hpp"

namespace shoal::test {
namespace {

using namespace std::chrono;
using nlohmann::json;

token::token_record record(const std::string& token, uint64_t version) {
  auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch());
  return {token, token::from_epoch_ms(now.count()),
          token::from_epoch_ms((now + hours{2}).count()), version};
}

class token_mirror_test : public server_test {
protected:
  std::unique_ptr<engine> start_node(const std::string& base_url) {
    ::setenv("SHOAL_MIRROR_TEST_PW", source().password().c_str(), 1);
    ::setenv("SHOAL_MIRROR_TEST_WX", "wx-test-secret", 1);
    json cfg{{"node", {{"name", "n1"}, {"port", 0}}},
             {"http", {{"enabled", false}}},
             {"redis", {{"port", redis().port()}, {"timeout_ms", 300}}},
             {"mysql",
              {{"main",
                {{"port", source().port()},
                 {"password_env", "SHOAL_MIRROR_TEST_PW"},
                 {"connect_timeout_ms", 1000}}}}},
             {"tokens",
              {{"lease_ms", 600},
               {"mirror", {{"mysql", "main"}, {"table", "shoalm.tokens"}}},
               {"providers", json::array({{{"name", "wx"},
                                           {"kind", "wechat"},
                                           {"base_url", base_url},
                                           {"appid", "wx-test-app"},
                                           {"secret_env", "SHOAL_MIRROR_TEST_WX"}}})}}}};
    auto parsed = parse_config(cfg);
    EXPECT_TRUE(parsed) << (parsed.error().empty() ? "" : parsed.error().front());
    if (!parsed)
      return nullptr;
    std::string error;
    auto eng = engine::start(*parsed, &error);
    EXPECT_TRUE(eng) << error;
    return eng;
  }

  std::optional<std::string> mirrored_token() {
    auto c = source().connect();
    auto r = c.query("SELECT token FROM shoalm.tokens WHERE provider = 'wx'");
    if (!r || r->rows.empty())
      return std::nullopt;
    return r->rows[0][0];
  }
};

TEST_F(token_mirror_test, a_row_only_moves_to_a_higher_version) {
  token::token_mirror m{source().connection_config(), "shoalm.tokens"};
  auto none = m.read("wx");
  ASSERT_TRUE(none) << none.error().to_string();
  EXPECT_FALSE(*none);
  ASSERT_TRUE(m.write("wx", record("t2", 2), "n1"));
  ASSERT_TRUE(m.write("wx", record("t1", 1), "old-keeper"));
  auto got = m.read("wx");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->token, "t2");
  EXPECT_EQ((*got)->version, 2u);
  ASSERT_TRUE(m.write("wx", record("t3", 3), "n2"));
  got = m.read("wx");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->token, "t3");
  EXPECT_EQ((*got)->version, 3u);
  EXPECT_TRUE(m.read("other") && !*m.read("other"));
}

TEST_F(token_mirror_test,
       the_fallback_lease_has_one_owner_until_it_runs_out_or_is_released) {
  token::token_mirror a{source().connection_config(), "shoalm.tokens"};
  token::token_mirror b{source().connection_config(), "shoalm.tokens"};
  auto take = [](token::token_mirror& m, const std::string& owner, milliseconds lease) {
    auto r = m.take_lease("wx", owner, lease);
    EXPECT_TRUE(r) << r.error().to_string();
    return r && *r;
  };
  EXPECT_TRUE(take(a, "keeper-a", milliseconds{800}));
  EXPECT_FALSE(take(b, "keeper-b", milliseconds{800}));
  EXPECT_TRUE(take(a, "keeper-a", milliseconds{800})) << "the owner renews";
  EXPECT_TRUE(take(a, "keeper-a", milliseconds{800})) << "a renewal within the same ms";
  // Leases are per provider.
  auto other = b.take_lease("other", "keeper-b", milliseconds{800});
  ASSERT_TRUE(other && *other);
  // Once a's lease runs out by the server's clock, b takes it and a cannot renew.
  ASSERT_TRUE(
      eventually([&] { return take(b, "keeper-b", milliseconds{60000}); }, seconds{5}));
  EXPECT_FALSE(take(a, "keeper-a", milliseconds{800}));
  auto not_mine = a.release_lease("wx", "keeper-a");
  ASSERT_TRUE(not_mine);
  EXPECT_FALSE(*not_mine);
  auto mine = b.release_lease("wx", "keeper-b");
  ASSERT_TRUE(mine);
  EXPECT_TRUE(*mine);
  EXPECT_TRUE(take(a, "keeper-a", milliseconds{800})) << "released: free at once";
}

TEST_F(token_mirror_test, an_unreachable_server_is_an_error_naming_the_mirror) {
  auto cfg = source().connection_config();
  cfg.port = 1;
  cfg.connect_timeout = seconds{1};
  token::token_mirror m{cfg, "shoalm.tokens"};
  auto r = m.read("wx");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().to_string().find("token mirror shoalm.tokens"), std::string::npos)
      << r.error().to_string();
}

TEST_F(token_mirror_test, the_mirror_serves_while_redis_is_down_and_refills_it) {
  standins::token_standin upstream{standins::token_standin_options{}};
  ASSERT_GT(upstream.start(), 0);
  std::string first;
  {
    auto eng = start_node(upstream.base_url());
    ASSERT_TRUE(eng);
    auto t = eng->tokens().get("wx", seconds{10});
    ASSERT_TRUE(t) << t.error;
    first = t.token();
    ASSERT_TRUE(eventually([&] { return mirrored_token() == first; }, seconds{10}))
        << "the keeper did not mirror its token";
    eng->stop();
  }
  ASSERT_EQ(upstream.tokens_issued(), 1);

  // Redis goes away with its data: a node starting now still has the token.
  redis().flushall();
  redis().stop();
  {
    auto eng = start_node(upstream.base_url());
    ASSERT_TRUE(eng);
    auto t = eng->tokens().get("wx", seconds{10});
    ASSERT_TRUE(t) << t.error;
    EXPECT_EQ(t.token(), first);
    EXPECT_EQ(upstream.check(t.token()), 0);

    // Redis returns empty: the keeper takes the lease and writes the mirrored
    // token back instead of fetching a new one.
    redis().start();
    token::token_store store{redis().connection_config(), "wx", "reader", seconds{1}};
    ASSERT_TRUE(eventually(
        [&] {
          auto r = store.read();
          return r && *r && (*r)->token == first;
        },
        seconds{10}))
        << "the mirrored token was not written back to Redis";
    EXPECT_EQ(upstream.tokens_issued(), 1);
    eng->stop();
  }
}

} // namespace
} // namespace shoal::test
