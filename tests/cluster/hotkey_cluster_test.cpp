// Hot keys across real node processes on loopback: three applications embedding
// shoal::engine (hotkey_app), Redis as the backend, and `shoal hotkeys replay`.

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/placement.hpp"
#include "tests/cluster/hot_cluster.hpp"
#include "tests/support/redis_server.hpp"

namespace shoal {
namespace {

using namespace std::chrono;
using namespace test;
using nlohmann::json;

TEST(hotkey_cluster, burst_on_one_node_is_hot_everywhere_and_cools_everywhere) {
  hot_cluster c{{{"flush_ms", 5}, {"rules", rule(100, 1500)}}};
  c.start_all();
  c.record("n1", "sku:42", 300);
  c.record("n2", "sku:cold", 20);
  EXPECT_TRUE(eventually(
      [&] {
        return c.hot_on("n1", "sku:42") && c.hot_on("n2", "sku:42") &&
               c.hot_on("n3", "sku:42");
      },
      seconds{5}))
      << c.dump();
  // Traffic under the threshold never becomes hot: its counts reached a shard...
  ASSERT_TRUE(eventually(
      [&] {
        uint64_t recorded = 0;
        for (auto& n : c.names)
          recorded += c.status(n).value("recorded", 0);
        return recorded == 320;
      },
      seconds{5}));
  for (auto& n : c.names)
    EXPECT_FALSE(c.hot_on(n, "sku:cold")) << n;
  // ...and a key that stops being accessed cools down on every node.
  EXPECT_TRUE(eventually(
      [&] {
        return !c.hot_on("n1", "sku:42") && !c.hot_on("n2", "sku:42") &&
               !c.hot_on("n3", "sku:42");
      },
      seconds{10}))
      << c.dump();
  for (auto& n : c.names)
    EXPECT_FALSE(c.hot_on(n, "sku:cold")) << n;
}

TEST(hotkey_cluster, detection_continues_after_the_owning_shard_is_killed) {
  hot_cluster c{{{"flush_ms", 5}, {"rules", rule(100, 60000)}}};
  c.start_all();
  // A key owned by n3's shard, recorded on n1.
  std::string key;
  for (int i = 0; key.empty(); ++i)
    if (owner_of("flash:" + std::to_string(i), c.names) ==
        std::optional<std::string>{"n3"})
      key = "flash:" + std::to_string(i);
  c.record("n1", key, 300);
  ASSERT_TRUE(
      eventually([&] { return c.hot_on("n1", key) && c.hot_on("n2", key); }, seconds{5}))
      << c.dump();
  c.proc("n3").kill();
  ASSERT_TRUE(eventually(
      [&] {
        return c.status("n1")["shard_nodes"].size() == 2 &&
               c.status("n2")["shard_nodes"].size() == 2;
      },
      seconds{10}))
      << c.dump();
  // Another key n3 owned: now counted by a survivor, and hot on both survivors.
  std::string next;
  for (int i = 0; next.empty(); ++i) {
    auto k = "sale:" + std::to_string(i);
    if (owner_of(k, c.names) == std::optional<std::string>{"n3"})
      next = k;
  }
  c.record("n2", next, 300);
  EXPECT_TRUE(eventually([&] { return c.hot_on("n1", next) && c.hot_on("n2", next); },
                         seconds{5}))
      << c.dump();
}

TEST(hotkey_cluster, manual_keys_invalidation_and_the_breaker_against_redis) {
  test::redis_server redis;
  auto conn = redis.connect();
  conn.command({"SET", "sku:7", "v1"});
  json hk{{"flush_ms", 5},
          {"rules", rule(1000000, 60000)},
          {"fallback", "busy"},
          {"breaker", {{"minimum_calls", 3}, {"error_ratio", 0.5}, {"open_ms", 60000}}}};
  hot_cluster c{hk, redis.port()};
  c.start_all();
  // Not hot: every read reaches Redis.
  EXPECT_EQ(c.get("n2", "sku:7")["source"], "loader");
  EXPECT_EQ(c.get("n2", "sku:7")["source"], "loader");
  // An operator makes it hot on n1: every node has it, and n2 serves it locally.
  // The mutating routes demand the bearer secret of hotkeys.http_api, and bodies
  // have a size limit.
  EXPECT_EQ(c.admin_status("n1", "/hotkeys/manual?key=sku:7&hot=1", ""), 401);
  EXPECT_EQ(c.admin_status("n1", "/hotkeys/manual?key=sku:7&hot=1", "Bearer wrong"), 401);
  EXPECT_EQ(c.admin_status("n1", "/hotkeys/invalidate?key=sku:7", ""), 401);
  EXPECT_EQ(c.admin_status("n1", "/hotkeys/invalidate", "Bearer " + c.api_secret), 400);
  EXPECT_EQ(c.admin_status("n1", "/hotkeys/manual?key=sku:7&hot=1",
                           "Bearer " + c.api_secret, std::string(2 << 20, 'x')),
            413);
  EXPECT_FALSE(c.hot_on("n1", "sku:7")) << "a refused request made the key hot";
  ASSERT_TRUE(c.admin("n1", "/hotkeys/manual?key=sku:7&hot=1"));
  ASSERT_TRUE(eventually(
      [&] {
        return c.hot_on("n1", "sku:7") && c.hot_on("n2", "sku:7") &&
               c.hot_on("n3", "sku:7");
      },
      seconds{5}))
      << c.dump();
  EXPECT_EQ(c.get("n2", "sku:7")["value"], "v1");
  auto cached = c.get("n2", "sku:7");
  EXPECT_EQ(cached["source"], "hot_cache");
  EXPECT_EQ(cached["value"], "v1");
  auto calls = c.status("n2")["loader_calls"].get<uint64_t>();
  // Redis down: hot reads keep being served by the node.
  redis.stop();
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(c.get("n2", "sku:7")["source"], "hot_cache");
  EXPECT_EQ(c.status("n2")["loader_calls"].get<uint64_t>(), calls);
  // A key that is not hot fails, then trips the breaker: the fallback answers.
  for (int i = 0; i < 3; ++i) {
    auto r = c.get("n2", "sku:8");
    EXPECT_EQ(r["source"], "fallback");
    EXPECT_EQ(r["reason"], "load_failed");
    EXPECT_EQ(r["value"], "busy");
  }
  auto r = c.get("n2", "sku:8");
  EXPECT_EQ(r["reason"], "breaker_open");
  EXPECT_EQ(c.status("n2")["breaker"], "open");
  // Invalidation from n3 drops the value on n2: the next read goes to the backend.
  redis.start();
  redis.connect().command({"SET", "sku:7", "v2"});
  ASSERT_TRUE(c.admin("n3", "/hotkeys/invalidate?key=sku:7"));
  ASSERT_TRUE(
      eventually([&] { return c.get("n1", "sku:7")["value"] == "v2"; }, seconds{5}));
  // Removing the manual key removes it everywhere.
  ASSERT_TRUE(c.admin("n2", "/hotkeys/manual?key=sku:7&hot=0"));
  EXPECT_TRUE(eventually(
      [&] {
        return !c.hot_on("n1", "sku:7") && !c.hot_on("n2", "sku:7") &&
               !c.hot_on("n3", "sku:7");
      },
      seconds{5}))
      << c.dump();
}

TEST(hotkey_cluster, manual_keys_survive_a_restart_of_the_shard_that_owns_them) {
  hot_cluster c{{{"flush_ms", 5}, {"rules", rule(1000000, 60000)}}};
  c.start_all();
  auto owned_by = [&](const std::string& node, const std::string& prefix) {
    for (int i = 0;; ++i) {
      auto k = prefix + std::to_string(i);
      if (owner_of(k, c.names) == std::optional<std::string>{node})
        return k;
    }
  };
  auto a = owned_by("n3", "a:");
  auto b = owned_by("n1", "b:");
  auto gone = owned_by("n3", "c:");
  for (auto& k : {a, b, gone})
    ASSERT_TRUE(c.admin("n1", "/hotkeys/manual?key=" + k + "&hot=1"));
  auto hot_everywhere = [&](const std::string& k) {
    return c.hot_on("n1", k) && c.hot_on("n2", k) && c.hot_on("n3", k);
  };
  ASSERT_TRUE(
      eventually([&] { return hot_everywhere(a) && hot_everywhere(b); }, seconds{5}))
      << c.dump();
  ASSERT_TRUE(eventually([&] { return hot_everywhere(gone); }, seconds{5})) << c.dump();
  c.proc("n3").kill();
  ASSERT_TRUE(eventually(
      [&] {
        return c.status("n1")["shard_nodes"].size() == 2 &&
               c.status("n2")["shard_nodes"].size() == 2;
      },
      seconds{10}))
      << c.dump();
  // Removed while its owner is dead: the survivor that owns it now never held it,
  // and still removes it from every cache.
  ASSERT_TRUE(c.admin("n2", "/hotkeys/manual?key=" + gone + "&hot=0"));
  EXPECT_TRUE(eventually([&] { return !c.hot_on("n1", gone) && !c.hot_on("n2", gone); },
                         seconds{5}))
      << c.dump();
  // n3 comes back empty: its shard takes back the keys it owns from the other
  // caches, and the other shards send their keys to its new cache.
  c.start("n3");
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_TRUE(
      eventually([&] { return hot_everywhere(a) && hot_everywhere(b); }, seconds{10}))
      << c.dump();
  EXPECT_FALSE(c.hot_on("n3", gone)) << "a removed key came back";
  // The restarted owner can remove its key again.
  ASSERT_TRUE(c.admin("n2", "/hotkeys/manual?key=" + a + "&hot=0"));
  EXPECT_TRUE(eventually(
      [&] { return !c.hot_on("n1", a) && !c.hot_on("n2", a) && !c.hot_on("n3", a); },
      seconds{5}))
      << c.dump();
  EXPECT_TRUE(hot_everywhere(b));
  // A malformed duration is refused with a clear error.
  EXPECT_FALSE(c.admin("n1", "/hotkeys/manual?key=x&hot=1&duration_ms=soon"));
}

TEST(hotkey_cluster,
     rule_reload_applies_cluster_wide_and_a_bad_file_keeps_the_old_rules) {
  test::temp_dir dir{"hotkey-rules"};
  auto rules = (dir / "rules.json").string();
  std::ofstream{rules} << json{{"rules", rule(1000000, 60000)}}.dump();
  hot_cluster c{{{"flush_ms", 5}, {"rules_file", rules}}};
  c.start_all();
  c.record("n1", "sku:1", 300);
  ASSERT_TRUE(eventually([&] { return c.status("n1")["recorded"] == 300; }, seconds{5}));
  // Bad file: rejected with its JSON path, old rules kept.
  std::ofstream{rules, std::ios::trunc}
      << R"({"rules": [{"key": "*", "threshold": "x"}]})";
  auto mark = c.proc("n2").mark();
  c.proc("n2").signal(SIGHUP);
  EXPECT_TRUE(c.proc("n2").wait_for_output("$.rules[0].threshold", seconds{5},
                                           test::output_stream::both, mark))
      << c.proc("n2").output_tail();
  EXPECT_EQ(c.status("n2")["rules_version"], 0);
  // Good file, reloaded on n2 only: every node applies it, without a restart.
  std::ofstream{rules, std::ios::trunc} << json{{"rules", rule(100, 60000)}}.dump();
  c.proc("n2").signal(SIGHUP);
  ASSERT_TRUE(eventually(
      [&] {
        for (auto& n : c.names)
          if (c.status(n)["rules"][0]["threshold"] != 100)
            return false;
        return true;
      },
      seconds{5}))
      << c.dump();
  c.record("n3", "sku:1", 300);
  EXPECT_TRUE(eventually(
      [&] {
        return c.hot_on("n1", "sku:1") && c.hot_on("n2", "sku:1") &&
               c.hot_on("n3", "sku:1");
      },
      seconds{5}))
      << c.dump();
}

TEST(hotkey_replay, prints_each_detection_at_its_trace_time) {
  test::temp_dir dir{"hotkey-replay"};
  std::ofstream{dir / "cfg.json"}
      << json{{"node", {{"name", "r1"}, {"port", test::free_port()}}},
              {"hotkeys",
               {{"rules",
                 json::array(
                     {{{"prefix", "sku:"}, {"threshold", 8}, {"window_ms", 1000}}})}}}}
             .dump();
  std::ofstream trace{dir / "trace.txt"};
  // sku:hot: one access per ms from 1000; sku:slow: 5 per second (never 8 in 1 s);
  // other:x is under no rule.
  for (int t = 0; t < 3000; t += 200)
    trace << 1000 + t << " sku:slow\n";
  for (int i = 0; i < 20; ++i)
    trace << 5000 + i << " sku:hot\n" << 5000 + i << " other:x\n";
  trace.close();
  test::process_options opts;
  opts.program = binary("runtime/shoal");
  opts.args = {"hotkeys",  "replay",
               "--config", (dir / "cfg.json").string(),
               "--trace",  (dir / "trace.txt").string(),
               "--speed",  "0"};
  opts.output_dir = dir.path();
  test::child_process replay{opts};
  auto status = replay.wait_for_exit(seconds{20});
  ASSERT_TRUE(status && status->success()) << replay.output_tail();
  auto out = replay.output(test::output_stream::out);
  std::vector<json> lines;
  std::istringstream in{out};
  for (std::string line; std::getline(in, line);)
    lines.push_back(json::parse(line));
  ASSERT_EQ(lines.size(), 1u) << out;
  EXPECT_EQ(lines[0]["key"], "sku:hot");
  // The 8th access is at 5007; the shard admits a key into its exact window after a
  // quarter of the threshold, so it is declared hot by the 10th access at the latest.
  EXPECT_GE(lines[0]["at_ms"].get<int64_t>(), 5007);
  EXPECT_LE(lines[0]["at_ms"].get<int64_t>(), 5009);
}

} // namespace
} // namespace shoal
