// Binlog-driven hot-cache invalidation across real processes: a source and a
// target MariaDB, Redis as the loader's backend, three applications embedding
// shoal::engine (hotkey_app); n1 runs pipeline "shop", whose committed changes
// of shop.sku drop keys on every node (hotkeys.invalidate_from).

#include <chrono>
#include <iostream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cluster/hot_cluster.hpp"
#include "tests/support/pipeline_config.hpp"
#include "tests/support/shared_servers.hpp"

namespace shoal::test {
namespace {

class hot_cache_invalidation_test : public server_test {
protected:
  void create_table() {
    for (auto* server : {&source(), &target()}) {
      auto conn = server->connect();
      for (auto sql : {"CREATE DATABASE shop",
                       "CREATE TABLE shop.sku (id INT UNSIGNED PRIMARY KEY, "
                       "code VARCHAR(20), price DECIMAL(10,2))",
                       "INSERT INTO shop.sku VALUES (1, 'A', 1.00), (2, 'B2', 5.00)"}) {
        auto r = conn.exec(sql);
        ASSERT_TRUE(r) << sql << ": " << r.error().to_string();
      }
    }
  }

  hot_cluster cluster(const json& invalidate_from) {
    json hotkeys{{"flush_ms", 5},
                 {"rules", rule(1000000, 60000)},
                 {"invalidate_from", invalidate_from}};
    json extra{{"sync",
                {{"pipelines",
                  json::array({pipeline_json(
                      "shop", 951, source(), target(),
                      {{"node", "n1"}, {"partitions", 2}, {"start", "current"}})})}}}};
    return hot_cluster{
        hotkeys, redis().port(), extra, {{"SHOAL_TEST_MYSQL_PW", source().password()}}};
  }

  // Waits until n1's pipeline streams.
  void wait_running(hot_cluster& c) {
    ASSERT_TRUE(eventually(
        [&] { return c.status_section("n1", "sync")["shop"]["state"] == "running"; },
        seconds{30}))
        << c.status_section("n1", "sync").dump() << "\n"
        << c.dump();
  }

  // Whether every node serves `value` for `key` now.
  static bool served_everywhere(hot_cluster& c, const std::string& key,
                                const std::string& value) {
    for (auto& n : c.names)
      if (c.get(n, key)["value"] != value)
        return false;
    return true;
  }

  // Makes `key` hot everywhere and cached on every node with `value`.
  void cache_everywhere(hot_cluster& c, const std::string& key,
                        const std::string& value) {
    ASSERT_TRUE(c.admin("n1", "/hotkeys/manual?key=" + key + "&hot=1"));
    ASSERT_TRUE(eventually(
        [&] {
          for (auto& n : c.names)
            if (!c.hot_on(n, key))
              return false;
          return true;
        },
        seconds{5}))
        << c.dump();
    for (auto& n : c.names) {
      EXPECT_EQ(c.get(n, key)["value"], value) << n;
      auto cached = c.get(n, key);
      EXPECT_EQ(cached["source"], "hot_cache") << n;
      EXPECT_EQ(cached["value"], value) << n;
    }
  }
};

TEST_F(hot_cache_invalidation_test,
       a_committed_source_change_drops_the_keys_on_every_node) {
  create_table();
  auto backend = redis().connect();
  backend.command({"SET", "sku:1", "price 1.00"});
  backend.command({"SET", "code:A", "sku 1"});
  backend.command({"SET", "sku:2", "price 5.00"});
  auto c = cluster(json::array(
      {{{"pipeline", "shop"}, {"table", "shop.sku"}, {"key", "sku:{id}"}},
       {{"pipeline", "shop"}, {"table", "shop.sku"}, {"key", "code:{code}"}}}));
  c.start_all();
  wait_running(c);
  cache_everywhere(c, "sku:1", "price 1.00");
  cache_everywhere(c, "code:A", "sku 1");
  cache_everywhere(c, "sku:2", "price 5.00");
  // The application's backend changes; the cached values are now stale, and
  // the nodes keep serving them: nothing told them yet.
  backend.command({"SET", "sku:1", "price 2.00"});
  backend.command({"SET", "code:A", "(none)"});
  backend.command({"SET", "sku:2", "price 6.00"});
  for (auto& n : c.names)
    EXPECT_EQ(c.get(n, "sku:1")["value"], "price 1.00") << n;
  // The database commits the change: sku:1 and the row's old code (from the
  // before image) are dropped on every node; sku:2, untouched, stays cached.
  auto src = source().connect();
  auto committed = steady_clock::now();
  auto updated = src.exec("UPDATE shop.sku SET price = 2.00, code = 'C' WHERE id = 1");
  ASSERT_TRUE(updated && *updated == 1u);
  std::map<std::string, milliseconds> seen;
  ASSERT_TRUE(eventually(
      [&] {
        for (auto& n : c.names)
          if (!seen.count(n) && c.get(n, "sku:1")["value"] == "price 2.00")
            seen[n] = duration_cast<milliseconds>(steady_clock::now() - committed);
        return seen.size() == c.names.size();
      },
      seconds{10}))
      << c.status_section("n1", "sync").dump() << "\n"
      << c.dump();
  for (auto& [n, t] : seen)
    std::cout << "sku:1 reloaded on " << n << " " << t.count()
              << " ms after the source's COMMIT returned (polled through HTTP)\n";
  // code:A went in the same message as sku:1, dropped right after it.
  EXPECT_TRUE(
      eventually([&] { return served_everywhere(c, "code:A", "(none)"); }, seconds{5}))
      << c.dump();
  for (auto& n : c.names) {
    auto untouched = c.get(n, "sku:2");
    EXPECT_EQ(untouched["source"], "hot_cache") << n;
    EXPECT_EQ(untouched["value"], "price 5.00") << n;
  }
  EXPECT_GE(c.status_section("n1", "sync")["shop"]["keys_invalidated"].get<uint64_t>(),
            2u);
  // A TRUNCATE names no row: every cached key of the table's templates goes.
  backend.command({"SET", "sku:2", "(gone)"});
  auto truncated = src.exec("TRUNCATE TABLE shop.sku");
  ASSERT_TRUE(truncated) << truncated.error().to_string();
  EXPECT_TRUE(
      eventually([&] { return served_everywhere(c, "sku:2", "(gone)"); }, seconds{10}))
      << c.dump();
}

} // namespace
} // namespace shoal::test
