// hotkeys.invalidation_channel against a real Redis: a key published on the channel
// loses its cached value on the node, and the node resubscribes after Redis
// restarts, so writers in other languages can invalidate.

#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/engine.hpp"
#include "runtime/hotkey_service.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/shared_servers.hpp"

namespace shoal::test {
namespace {

using namespace std::chrono;
using nlohmann::json;

class invalidation_channel_test : public server_test {};

TEST_F(invalidation_channel_test,
       a_published_key_is_dropped_and_redis_restarts_are_survived) {
  json cfg{{"node", {{"name", "n1"}, {"port", 0}}},
           {"http", {{"enabled", false}}},
           {"redis", {{"port", redis().port()}, {"timeout_ms", 500}}},
           {"hotkeys",
            {{"invalidation_channel", "shoal:invalidate"},
             {"rules", json::array({{{"prefix", "sku:"}, {"threshold", 1000000}}})}}}};
  auto parsed = parse_config(cfg);
  ASSERT_TRUE(parsed) << parsed.error().front();
  std::string error;
  auto eng = engine::start(*parsed, &error);
  ASSERT_TRUE(eng) << error;
  auto subscribed = [&] {
    return eng->status()["hotkeys"].value("invalidation_channel", "") == "subscribed";
  };
  ASSERT_TRUE(eventually(subscribed, seconds{10}));

  eng->hotkeys().add("sku:1");
  ASSERT_TRUE(eventually([&] { return eng->hotkeys().is_hot("sku:1"); }, seconds{5}));
  std::atomic<int> loads{0};
  auto loader = [&](const std::string& key) {
    ++loads;
    return "value of " + key + " #" + std::to_string(loads.load());
  };
  ASSERT_EQ(eng->cache().get("sku:1", loader).value, "value of sku:1 #1");
  ASSERT_EQ(eng->cache().get("sku:1", loader).value, "value of sku:1 #1") << "not cached";
  ASSERT_EQ(loads, 1);

  auto publish = [&](const std::string& key) {
    auto c = redis().connect();
    auto r = c.command({"PUBLISH", "shoal:invalidate", key});
    return r && r->integer >= 1;
  };
  ASSERT_TRUE(publish("sku:1"));
  ASSERT_TRUE(eventually(
      [&] { return eng->status()["hotkeys"].value("invalidations_received", 0) >= 1; },
      seconds{5}));
  EXPECT_EQ(eng->cache().get("sku:1", loader).value, "value of sku:1 #2");

  // Redis restarts: the node resubscribes and invalidations work again.
  redis().restart();
  ASSERT_TRUE(eventually([&] { return publish("sku:1"); }, seconds{15}))
      << "the node did not resubscribe after the restart";
  ASSERT_TRUE(eventually(
      [&] { return eng->status()["hotkeys"].value("invalidations_received", 0) >= 2; },
      seconds{5}));
  EXPECT_EQ(eng->cache().get("sku:1", loader).value, "value of sku:1 #3");
  eng->stop();
}

TEST_F(invalidation_channel_test, the_channel_needs_redis_in_the_config) {
  json cfg{{"node", {{"name", "n1"}, {"port", 0}}},
           {"hotkeys", {{"invalidation_channel", "shoal:invalidate"}}}};
  auto parsed = parse_config(cfg);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(
      parsed.error().front(),
      "config error at $.hotkeys.invalidation_channel: needs $.redis (the server that "
      "carries the channel)");
}

} // namespace
} // namespace shoal::test
