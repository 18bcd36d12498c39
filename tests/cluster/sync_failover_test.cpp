// Pipeline failover: three `shoal node` processes list one pipeline in `nodes`;
// the holder of its lease on the target runs it and the others stand by. While
// sysbench writes to the source the holder is killed (SIGKILL) twice and frozen
// (SIGSTOP) past its lease once: each time another node takes over, the frozen
// one steps down when it wakes, and the target ends equal to the source. A
// clean stop hands the pipeline over without waiting for the lease to run out.

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/binlog/decoder/binlog_position.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/pipeline_config.hpp"
#include "tests/support/shared_servers.hpp"
#include "tests/support/sysbench_sync.hpp"
#include "tests/support/temp_dir.hpp"

namespace shoal::test {
namespace {

using namespace std::chrono;
using nlohmann::json;

class sync_failover_test : public server_test {
protected:
  const std::vector<std::string> names_{"n1", "n2", "n3"};

  /// Each node's config: every pipeline of `pipelines` (name -> keys added to
  /// its entry) may run on all three, lease `lease_ms`; by default one pipeline
  /// "sb" of both sbtest tables.
  void write_configs(int lease_ms, const std::map<std::string, json>& pipelines = {
                                       {"sb", json::object()}}) {
    for (auto& n : names_) {
      ports_[n] = free_port();
      http_[n] = free_port();
    }
    for (auto& n : names_) {
      auto peers = json::array();
      for (auto& p : names_)
        if (p != n)
          peers.push_back({{"name", p}, {"host", "127.0.0.1"}, {"port", ports_[p]}});
      auto entries = json::array();
      uint32_t server_id = 778;
      for (auto& [name, more] : pipelines) {
        json extra{{"start", "snapshot"},
                   {"partitions", 2},
                   {"batch_rows", 200},
                   {"nodes", names_},
                   {"lease_ms", lease_ms}};
        extra.update(more);
        entries.push_back(pipeline_json(name, server_id++, source(), target(), extra));
      }
      json cfg{{"node", {{"name", n}, {"port", ports_[n]}}},
               {"http", {{"port", http_[n]}}},
               {"cluster", {{"peers", peers}}},
               {"log", {{"level", "info"}}},
               {"sync",
                {{"pipelines", entries},
                 {"http_api", {{"secret_env", "SHOAL_TEST_SYNC_SECRET"}}}}}};
      std::ofstream{(dir_.path() / (n + ".json")).string()} << cfg.dump(2);
    }
  }

  void start(const std::string& n) {
    process_options opts;
    auto bin = std::getenv("SHOAL_BINARY_DIR");
    opts.program = bin ? std::string{bin} + "/runtime/shoal" : "shoal";
    opts.args = {"node", "--config", (dir_.path() / (n + ".json")).string()};
    opts.env = {{"SHOAL_TEST_MYSQL_PW", source().password()},
                {"SHOAL_TEST_SYNC_SECRET", secret_}};
    opts.name = n + "-" + std::to_string(++starts_);
    opts.output_dir = dir_.path();
    nodes_.erase(n);
    nodes_.emplace(n, child_process{opts});
  }

  /// Configs with lease `lease_ms`, sbtest on the source, all three nodes
  /// started: the node that runs pipeline sb ("" if none within 30 s).
  std::string start_cluster(int lease_ms) {
    write_configs(lease_ms);
    prepare();
    for (auto& n : names_)
      start(n);
    return wait_owner(seconds{30});
  }

  /// Node `n`'s view of `pipeline`; nullopt when it does not answer.
  std::optional<json> view(const std::string& n, const std::string& pipeline = "sb") {
    httplib::Client http{"127.0.0.1", http_[n]};
    http.set_connection_timeout(0, 300000);
    http.set_read_timeout(1, 0);
    auto r = http.Get("/status");
    if (!r || r->status != 200)
      return std::nullopt;
    auto j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.contains("sync") || !j["sync"].contains(pipeline))
      return std::nullopt;
    return j["sync"][pipeline];
  }

  /// The node other than `except` that holds the lease and runs the pipeline
  /// (is in `state` there), waiting up to `timeout`; "" if none did.
  std::string wait_owner(milliseconds timeout, const std::string& except = "",
                         const std::string& pipeline = "sb",
                         const std::string& state = "running") {
    std::string found;
    eventually(
        [&] {
          for (auto& n : names_) {
            if (n == except || !nodes_.count(n) || !nodes_.at(n).running())
              continue;
            auto v = view(n, pipeline);
            if (v && v->value("state", "") == state &&
                (*v)["lease"].value("holding", false)) {
              found = n;
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }

  /// POST /sync/sb/`action` to node `n` with the bearer secret: status, body.
  std::pair<int, std::string> operate(const std::string& n, const std::string& action) {
    httplib::Client http{"127.0.0.1", http_[n]};
    http.set_read_timeout(15, 0);
    auto r = http.Post(("/sync/sb/" + action).c_str(),
                       {{"Authorization", "Bearer " + secret_}}, "", "text/plain");
    if (!r)
      return {0, "no answer"};
    return {r->status, r->body};
  }

  /// The node that holds the lease of sb while it is paused (and runs nothing).
  std::string wait_paused_holder(milliseconds timeout, const std::string& except = "") {
    return wait_owner(timeout, except, "sb", "paused");
  }

  uint64_t stored_epoch() {
    auto dst = target().connect();
    return std::stoull(run(dst, "SELECT epoch FROM shoal.sync_owner WHERE pipeline='sb'")
                           .rows.at(0)
                           .at(0)
                           .value_or("0"));
  }

  child_process sysbench(const std::string& command, int seconds_to_run) {
    return sysbench_on(source(), command, seconds_to_run, 2, dir_.path());
  }

  bool caught_up(milliseconds timeout, const std::string& pipeline = "sb") {
    return checkpoints_caught_up(source(), target(), pipeline, 2, timeout);
  }

  void expect_equal() { expect_sbtest_equal(source(), target()); }

  void prepare() { prepare_sbtest(source(), dir_.path()); }

  std::string tails() {
    std::string out;
    for (auto& [n, p] : nodes_)
      out += "--- " + n + "\n" + p.output_tail(3000) + "\n";
    return out;
  }

  temp_dir dir_{"sync-failover"};
  std::map<std::string, uint16_t> ports_, http_;
  std::map<std::string, child_process> nodes_;
  int starts_ = 0;
  const std::string secret_ = "failover-ops";
};

TEST_F(sync_failover_test,
       a_standby_takes_over_after_kill_9_and_sigstop_and_nothing_diverges) {
  const int lease_ms = 2000;
  auto owner = start_cluster(lease_ms);
  ASSERT_NE(owner, "") << tails();
  // One runs it; the other two stand by and name it.
  for (auto& n : names_) {
    if (n == owner)
      continue;
    ASSERT_TRUE(eventually(
        [&] {
          auto v = view(n);
          return v && v->value("state", "") == "standby" && (*v)["owner"] == owner;
        },
        seconds{10}))
        << n << ": " << view(n).value_or(json{}).dump() << tails();
  }
  // A standby is healthy and ready, and says so in /metrics.
  for (auto& n : names_) {
    if (n == owner)
      continue;
    httplib::Client http{"127.0.0.1", http_[n]};
    auto health = http.Get("/healthz");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200) << n << ": " << health->body;
    auto ready = http.Get("/readyz");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, 200) << n << ": " << ready->body;
    auto metrics = http.Get("/metrics");
    ASSERT_TRUE(metrics);
    EXPECT_NE(metrics->body.find(
                  "shoal_sync_pipeline_state{pipeline=\"sb\",state=\"standby\"} 1"),
              std::string::npos)
        << n;
  }
  auto load = sysbench("run", 20);
  std::string takeovers;
  for (int kill = 0; kill < 2; ++kill) {
    std::this_thread::sleep_for(milliseconds{1500});
    ASSERT_TRUE(nodes_.at(owner).kill());
    nodes_.at(owner).wait_for_exit(seconds{5});
    auto killed_at = steady_clock::now();
    auto next = wait_owner(seconds{20}, owner);
    ASSERT_NE(next, "") << "no node took over after kill -9 of " << owner << "\n"
                        << tails();
    auto ms = duration_cast<milliseconds>(steady_clock::now() - killed_at).count();
    takeovers += "kill -9 " + owner + " -> " + next + " " + std::to_string(ms) + " ms; ";
    start(owner); // it comes back as a standby
    owner = next;
  }
  // Frozen past its lease: another node takes over; woken, it must step down.
  std::this_thread::sleep_for(milliseconds{1000});
  ASSERT_TRUE(nodes_.at(owner).stop());
  auto stopped_at = steady_clock::now();
  auto next = wait_owner(seconds{20}, owner);
  ASSERT_NE(next, "") << "no node took over from the frozen " << owner << "\n" << tails();
  auto ms = duration_cast<milliseconds>(steady_clock::now() - stopped_at).count();
  takeovers += "SIGSTOP " + owner + " -> " + next + " " + std::to_string(ms) + " ms";
  auto frozen = owner;
  auto woke = nodes_.at(frozen).mark();
  ASSERT_TRUE(nodes_.at(frozen).resume());
  EXPECT_TRUE(nodes_.at(frozen).wait_for_output("stepped down", seconds{10},
                                                output_stream::both, woke))
      << tails();
  ASSERT_TRUE(eventually(
      [&] {
        auto v = view(frozen);
        return v && v->value("state", "") == "standby" && (*v)["owner"] == next;
      },
      seconds{10}))
      << view(frozen).value_or(json{}).dump() << tails();
  // The woken node never ran the pipeline again: the new owner still does.
  EXPECT_EQ(wait_owner(seconds{5}), next) << tails();
  std::cout << "takeovers (lease " << lease_ms << " ms): " << takeovers << std::endl;
  RecordProperty("takeovers", takeovers);

  auto done = load.wait_for_exit(seconds{60});
  ASSERT_TRUE(done && done->success()) << load.output_tail();
  ASSERT_TRUE(caught_up(seconds{60})) << tails();
  expect_equal();
  // The epoch rose with every takeover: each new owner fenced the one before.
  auto dst = target().connect();
  auto epoch =
      std::stoull(run(dst, "SELECT epoch FROM shoal.sync_owner WHERE pipeline='sb'")
                      .rows.at(0)
                      .at(0)
                      .value_or("0"));
  EXPECT_GE(epoch, 4u);
  auto v = view(next);
  ASSERT_TRUE(v);
  EXPECT_EQ((*v)["epoch"].get<uint64_t>(), epoch) << v->dump();
  EXPECT_EQ((*v)["standbys"].size(), 2u) << v->dump();
}

// A pause asked on any node holds on all of them: the holder stops the pipeline,
// and when it dies the node that takes the lease over keeps it stopped (it does
// not even claim it). A resume asked on a third node starts it on the holder.
TEST_F(sync_failover_test, a_pause_holds_on_every_node_and_through_a_takeover) {
  const int lease_ms = 2000;
  auto owner = start_cluster(lease_ms);
  ASSERT_NE(owner, "") << tails();
  std::string asked;
  for (auto& n : names_)
    if (n != owner && asked.empty())
      asked = n;
  auto paused = operate(asked, "pause");
  ASSERT_EQ(paused.first, 200) << paused.second << tails();
  EXPECT_NE(paused.second.find("paused on every node"), std::string::npos)
      << paused.second;
  ASSERT_EQ(wait_paused_holder(seconds{10}), owner) << tails();
  for (auto& n : names_)
    ASSERT_TRUE(eventually(
        [&] {
          auto v = view(n);
          return v && (*v)["paused_by"] == asked;
        },
        seconds{10}))
        << n << ": " << view(n).value_or(json{}).dump();
  httplib::Client owner_http{"127.0.0.1", http_[owner]};
  auto ready = owner_http.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503) << ready->body;
  EXPECT_NE(ready->body.find("sync pipeline sb is paused"), std::string::npos)
      << ready->body;

  auto epoch = stored_epoch();
  auto load = sysbench("run", 2);
  auto done = load.wait_for_exit(seconds{60});
  ASSERT_TRUE(done && done->success()) << load.output_tail();
  ASSERT_TRUE(nodes_.at(owner).kill());
  nodes_.at(owner).wait_for_exit(seconds{5});
  auto next = wait_paused_holder(seconds{20}, owner);
  ASSERT_NE(next, "") << "no node took the paused pipeline's lease\n" << tails();
  // Held, not run: for four of its lease renewals the epoch stays where the
  // paused owner left it and nothing is applied.
  auto until = steady_clock::now() + milliseconds{lease_ms};
  while (steady_clock::now() < until) {
    ASSERT_EQ(stored_epoch(), epoch) << "the new holder ran the paused pipeline\n"
                                     << tails();
    auto v = view(next);
    ASSERT_TRUE(v && v->value("state", "") == "paused") << v.value_or(json{}).dump();
    std::this_thread::sleep_for(milliseconds{100});
  }
  EXPECT_FALSE(caught_up(milliseconds{0})) << "the sysbench run was applied while paused";

  std::string third;
  for (auto& n : names_)
    if (n != next && n != owner)
      third = n;
  auto resumed = operate(third, "resume");
  ASSERT_EQ(resumed.first, 200) << resumed.second << tails();
  EXPECT_EQ(wait_owner(seconds{20}), next) << tails();
  ASSERT_TRUE(caught_up(seconds{60})) << tails();
  expect_equal();
  EXPECT_EQ(stored_epoch(), epoch + 1);
  auto again = operate(third, "resume");
  EXPECT_EQ(again.first, 409) << "a running pipeline resumed on a standby: "
                              << again.second;
}

TEST_F(sync_failover_test, a_clean_stop_hands_over_without_waiting_for_the_lease) {
  // A 60 s lease: a takeover well before that shows the stopping node released it.
  auto owner = start_cluster(60000);
  ASSERT_NE(owner, "") << tails();
  auto stopped = nodes_.at(owner).shutdown(seconds{20});
  EXPECT_TRUE(stopped.exited) << stopped.to_string();
  auto next = wait_owner(seconds{20}, owner);
  ASSERT_NE(next, "") << tails();
  auto load = sysbench("run", 2);
  auto done = load.wait_for_exit(seconds{60});
  ASSERT_TRUE(done && done->success()) << load.output_tail();
  ASSERT_TRUE(caught_up(seconds{60})) << tails();
  expect_equal();
}

TEST_F(sync_failover_test, only_the_dead_nodes_pipelines_move) {
  write_configs(2000, {{"a", {{"include", {"sbtest.sbtest1"}}}},
                       {"b", {{"include", {"sbtest.sbtest2"}}}}});
  prepare();
  for (auto& n : names_)
    start(n);
  auto a = wait_owner(seconds{30}, "", "a");
  auto b = wait_owner(seconds{30}, "", "b");
  ASSERT_NE(a, "") << tails();
  ASSERT_NE(b, "") << tails();
  std::cout << "pipeline a on " << a << ", b on " << b << std::endl;
  auto load = sysbench("run", 6);
  std::this_thread::sleep_for(milliseconds{1000});
  ASSERT_TRUE(nodes_.at(a).kill());
  nodes_.at(a).wait_for_exit(seconds{5});
  auto a_next = wait_owner(seconds{20}, a, "a");
  ASSERT_NE(a_next, "") << tails();
  if (b == a) {
    // b lived on the dead node too: it moves as well.
    EXPECT_NE(wait_owner(seconds{20}, a, "b"), "") << tails();
  } else {
    // b's node lives: b stays where it was, through a's move and after it.
    EXPECT_EQ(wait_owner(seconds{5}, "", "b"), b) << tails();
    auto v = view(b, "b");
    ASSERT_TRUE(v);
    EXPECT_EQ((*v)["epoch"].get<uint64_t>(), 1u) << "b was restarted: " << v->dump();
  }
  auto done = load.wait_for_exit(seconds{60});
  ASSERT_TRUE(done && done->success()) << load.output_tail();
  ASSERT_TRUE(caught_up(seconds{60}, "a")) << tails();
  ASSERT_TRUE(caught_up(seconds{60}, "b")) << tails();
  expect_equal();
}

} // namespace
} // namespace shoal::test
