#include "runtime/adapters/redis_connection.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "tests/support/shared_servers.hpp"

using namespace std::chrono_literals;
using shoal::redis_connection;
using shoal::redis_reply;

namespace {

class redis_connection_test : public shoal::test::server_test {};

// Compare-and-set on a version field, as the token keeper stores tokens:
// KEYS[1] = hash, ARGV = expected version, new version, new token.
const std::string cas_script = R"(
local current = redis.call('HGET', KEYS[1], 'version')
if (current or '0') ~= ARGV[1] then return {0, current or '0'} end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'token', ARGV[3])
return {1, ARGV[2]}
)";

} // namespace

TEST_F(redis_connection_test, binary_keys_and_values_round_trip) {
  auto conn = redis().connect();
  std::string key{"k\0ey\r\n", 6};
  std::string value;
  for (int c = 0; c < 256; ++c)
    value += static_cast<char>(c);
  auto set = conn.command({"SET", key, value});
  ASSERT_TRUE(set) << set.error().to_string();
  EXPECT_TRUE(set->is_status("OK"));
  auto get = conn.command({"GET", key});
  ASSERT_TRUE(get);
  EXPECT_EQ(get->type, redis_reply::kind::string);
  EXPECT_EQ(get->str, value);
  EXPECT_EQ(conn.command({"STRLEN", key})->integer, 256);
  auto empty = conn.command({"SET", "empty", ""});
  ASSERT_TRUE(empty);
  auto got_empty = conn.command({"GET", "empty"});
  EXPECT_EQ(got_empty->type, redis_reply::kind::string);
  EXPECT_EQ(got_empty->str, "");
  EXPECT_TRUE(conn.command({"GET", "missing"})->is_nil());
}

TEST_F(redis_connection_test, replies_of_every_kind) {
  auto conn = redis().connect();
  auto n = conn.command({"INCRBY", "counter", "41"});
  ASSERT_TRUE(n);
  EXPECT_EQ(n->type, redis_reply::kind::integer);
  EXPECT_EQ(n->integer, 41);
  ASSERT_TRUE(conn.command({"RPUSH", "list", "a", "", "c"}));
  auto list = conn.command({"LRANGE", "list", "0", "-1"});
  ASSERT_TRUE(list);
  ASSERT_EQ(list->type, redis_reply::kind::array);
  ASSERT_EQ(list->elements.size(), 3u);
  EXPECT_EQ(list->elements[1].str, "");
  EXPECT_EQ(list->elements[2].str, "c");
  auto wrong = conn.command({"GET", "list"});
  ASSERT_TRUE(wrong) << "a server error is a reply, not a transport error";
  EXPECT_TRUE(wrong->is_error());
  EXPECT_TRUE(wrong->is_error("WRONGTYPE"));
  EXPECT_FALSE(wrong->is_error("WRONG"));
  EXPECT_TRUE(conn.connected());
  EXPECT_FALSE(conn.command(std::vector<std::string_view>{}));
}

TEST_F(redis_connection_test, lua_compare_and_set_through_eval_and_evalsha) {
  auto conn = redis().connect();
  auto first = conn.eval(cas_script, {"token:wechat"}, {"0", "1", "tok-1"});
  ASSERT_TRUE(first) << first.error().to_string();
  ASSERT_EQ(first->type, redis_reply::kind::array);
  EXPECT_EQ(first->elements[0].integer, 1);

  auto stale = conn.eval_cached(cas_script, {"token:wechat"}, {"0", "1", "tok-old"});
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->elements[0].integer, 0) << "a stale version must not overwrite";
  EXPECT_EQ(stale->elements[1].str, "1");
  EXPECT_EQ(conn.command({"HGET", "token:wechat", "token"})->str, "tok-1");

  auto sha = conn.script_load(cas_script);
  ASSERT_TRUE(sha);
  EXPECT_EQ(sha->size(), 40u);
  ASSERT_TRUE(conn.command({"SCRIPT", "FLUSH"}));
  auto unknown = conn.evalsha(*sha, {"token:wechat"}, {"1", "2", "tok-2"});
  ASSERT_TRUE(unknown);
  EXPECT_TRUE(unknown->is_error("NOSCRIPT"));
  // eval_cached loads the script again after the server forgot it.
  auto next = conn.eval_cached(cas_script, {"token:wechat"}, {"1", "2", "tok-2"});
  ASSERT_TRUE(next) << next.error().to_string();
  EXPECT_EQ(next->elements[0].integer, 1);
  EXPECT_EQ(conn.command({"HGET", "token:wechat", "token"})->str, "tok-2");

  auto broken = conn.eval("return redis.call('NOSUCHCOMMAND')", {}, {});
  ASSERT_TRUE(broken);
  EXPECT_TRUE(broken->is_error());
  auto bad_load = conn.script_load("this is not lua");
  EXPECT_FALSE(bad_load);
}

TEST(redis_connection, auth_and_select_with_a_password) {
  const std::string secret = "redis-Kn0wn-secret";
  shoal::test::redis_options opts;
  opts.name = "auth";
  opts.password = secret;
  shoal::test::redis_server server(opts);

  auto cfg = server.connection_config();
  cfg.password.clear();
  auto anonymous = redis_connection::connect(cfg);
  ASSERT_TRUE(anonymous);
  EXPECT_TRUE(anonymous->command({"PING"})->is_error("NOAUTH"));

  cfg.password = secret + "-wrong";
  auto denied = redis_connection::connect(cfg);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().what, shoal::redis_error::kind::connect);
  EXPECT_NE(denied.error().to_string().find(server.endpoint()), std::string::npos);
  EXPECT_EQ(denied.error().to_string().find(secret), std::string::npos)
      << denied.error().to_string();

  cfg.password = secret;
  cfg.db = 3;
  auto db3 = redis_connection::connect(cfg);
  ASSERT_TRUE(db3) << db3.error().to_string();
  ASSERT_TRUE(db3->command({"SET", "where", "db3"}));
  auto db0 = server.connect();
  EXPECT_TRUE(db0.command({"GET", "where"})->is_nil());
  EXPECT_EQ(db3->command({"GET", "where"})->str, "db3");
}

TEST_F(redis_connection_test, reconnects_on_demand_after_a_restart) {
  auto conn = redis().connect();
  ASSERT_TRUE(conn.command({"SET", "k", "v"}));
  auto port = redis().port();
  redis().kill();
  redis().start();
  EXPECT_EQ(redis().port(), port);

  auto failed = conn.command({"PING"});
  ASSERT_FALSE(failed) << "the old socket is dead; the command is not resent";
  EXPECT_EQ(failed.error().what, shoal::redis_error::kind::io)
      << failed.error().to_string();
  EXPECT_FALSE(conn.connected());
  auto pong = conn.command({"PING"});
  ASSERT_TRUE(pong) << pong.error().to_string();
  EXPECT_TRUE(pong->is_status("PONG"));
  EXPECT_TRUE(conn.command({"GET", "k"})->is_nil()) << "no persistence: data is gone";
}

TEST_F(redis_connection_test, commands_to_a_frozen_server_time_out) {
  auto cfg = redis().connection_config();
  cfg.command_timeout = 300ms;
  auto conn = redis_connection::connect(cfg);
  ASSERT_TRUE(conn);
  redis().freeze();
  auto start = std::chrono::steady_clock::now();
  auto reply = conn->command({"PING"});
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().what, shoal::redis_error::kind::timeout)
      << reply.error().to_string();
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 2s);
  redis().thaw();
  auto after = conn->command({"PING"});
  ASSERT_TRUE(after) << after.error().to_string();
  EXPECT_TRUE(after->is_status("PONG"));
}

TEST(redis_connection, persistent_server_keeps_data_across_restart) {
  shoal::test::redis_options opts;
  opts.name = "durable";
  opts.persistence = true;
  shoal::test::redis_server server(opts);
  {
    auto conn = server.connect();
    ASSERT_TRUE(conn.command({"SET", "kept", "yes"}));
  }
  server.kill();
  server.start();
  auto conn = server.connect();
  EXPECT_EQ(conn.command({"GET", "kept"})->str, "yes");
}
