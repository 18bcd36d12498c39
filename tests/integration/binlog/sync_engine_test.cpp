// Binlog sync through the embedded API: a config with a pipeline, an engine
// running it, and engine.sync() to wait for and inspect the pipeline.
#include <chrono>
#include <cstdlib>

#include "runtime/engine.hpp"
#include "runtime/sync_service.hpp"
#include "tests/integration/binlog/sync_test_support.hpp"

using namespace std::chrono_literals;

namespace shoal::test {
namespace {

class sync_engine_test : public server_test {};

TEST_F(sync_engine_test, engine_runs_the_pipeline_and_waits_until_caught_up) {
  ::setenv("SHOAL_SYNC_ENGINE_TEST_PW", source().password().c_str(), 1);
  auto src = source().connect();
  run(src, "CREATE DATABASE e");
  run(src, "CREATE TABLE e.t (id INT PRIMARY KEY, v TEXT)");
  run(src, "INSERT INTO e.t VALUES (1, 'before the start')");
  auto text = R"({
    "node": {"name": "n1", "port": 0},
    "http": {"enabled": false},
    "sync": {"pipelines": [{
      "name": "e",
      "source": {"port": )" +
              std::to_string(source().port()) +
              R"(, "password_env": "SHOAL_SYNC_ENGINE_TEST_PW", "server_id": 99},
      "target": {"port": )" +
              std::to_string(target().port()) +
              R"(, "password_env": "SHOAL_SYNC_ENGINE_TEST_PW"},
      "partitions": 2, "start": "snapshot", "include": ["e.*"]}]}})";
  auto cfg = parse_config_text(text);
  ASSERT_TRUE(cfg) << (cfg.error().empty() ? "" : cfg.error().front());
  std::string error;
  auto eng = engine::start(*cfg, &error);
  ASSERT_TRUE(eng) << error;
  ASSERT_NE(eng->sync(), nullptr);
  EXPECT_EQ(eng->sync()->pipelines(), std::vector<std::string>{"e"});
  for (int i = 2; i <= 50; ++i)
    run(src, "INSERT INTO e.t VALUES (" + std::to_string(i) + ", REPEAT('v', " +
                 std::to_string(i) + "))");
  ASSERT_TRUE(eng->sync()->wait_caught_up("e", 60s))
      << eng->sync()->status_of("e")->error;
  auto dst = target().connect();
  EXPECT_EQ(checksum(dst, "e.t"), checksum(src, "e.t"));
  auto st = eng->sync()->status_of("e");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state, binlog::pipeline_state::running);
  EXPECT_EQ(st->partitions.size(), 2u);
  EXPECT_FALSE(eng->sync()->status_of("nope"));
  EXPECT_FALSE(eng->sync()->wait_caught_up("nope", 10ms));
  auto json = eng->sync()->status();
  EXPECT_EQ(json["e"]["state"], "running");
  eng->stop();
}

} // namespace
} // namespace shoal::test
