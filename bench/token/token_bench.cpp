// token_bench: the token keeper's figures, each against its peer in the same run.
//
//   token_bench [STORM_NODE]     (STORM_NODE: tests/cluster/token_storm_node)
//
// 1. Local get: ns per call and calls/s with 2 and 16 threads, against reading the
//    token from Redis on every call (HGET, as WxJava's Redis config does), same run.
// 2. Upstream calls per refresh cycle under an expiry storm: 3 node processes x 32
//    threads, 2 s tokens, 8 cycles (the physical limit is 1).
// 3. Failover: kill -9 of the keeper's node mid-cycle -> lease taken by another
//    node, and -> the next successful refresh by the new keeper.
// Prints figures, then one JSON line with every figure (the last line of the output,
// starting with `{"bench":"token"`; a section that could not run is listed under
// "errors"). Asserts nothing.

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/adapters/redis_connection.hpp"
#include "runtime/engine.hpp"
#include "runtime/logging.hpp"
#include "runtime/token_service.hpp"
#include "tests/standins/token_standin.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace std::chrono;
using nlohmann::json;
namespace fs = std::filesystem;

json provider_json(const std::string& base_url) {
  return {{"name", "wx"},
          {"kind", "wechat"},
          {"base_url", base_url},
          {"appid", "wx-test-app"},
          {"secret_env", "SHOAL_BENCH_WX_SECRET"},
          {"daily_quota", 0}};
}

/// Every figure of the run, printed as the last line.
json figures{{"bench", "token"}, {"errors", json::array()}};

void fail(const std::string& what) {
  std::cerr << what << '\n';
  figures["errors"].push_back(what);
}

struct rate {
  double calls_per_s = 0;
  double ns_per_call = 0;
};

template <class Call> rate measure(int threads, milliseconds span, Call make_caller) {
  std::atomic<bool> go{false}, stop{false};
  std::atomic<int64_t> total{0};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&] {
      auto call = make_caller();
      while (!go)
        std::this_thread::yield();
      int64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        for (int k = 0; k < 64; ++k)
          call();
        n += 64;
      }
      total += n;
    });
  auto start = steady_clock::now();
  go = true;
  std::this_thread::sleep_for(span);
  stop = true;
  for (auto& t : pool)
    t.join();
  double secs = duration<double>(steady_clock::now() - start).count();
  rate r;
  r.calls_per_s = static_cast<double>(total) / secs;
  r.ns_per_call = secs * 1e9 * threads / static_cast<double>(total);
  return r;
}

void local_get_vs_redis(shoal::test::redis_server& redis,
                        shoal::standins::token_standin& upstream) {
  json cfg{
      {"node", {{"name", "bench"}, {"port", 0}}},
      {"http", {{"enabled", false}}},
      {"log", {{"level", "warn"}}},
      {"redis", {{"port", redis.port()}}},
      {"tokens", {{"providers", json::array({provider_json(upstream.base_url())})}}}};
  auto parsed = shoal::parse_config_text(cfg.dump());
  if (!parsed) {
    fail("local get: " + parsed.error().front());
    return;
  }
  std::string error;
  auto eng = shoal::engine::start(*parsed, &error);
  if (!eng || !eng->tokens().get("wx", seconds{10})) {
    fail("local get: engine: " + error);
    return;
  }
  std::cout << "== local get vs Redis HGET per call (same run)\n";
  for (int threads : {2, 16}) {
    auto local_plain = measure(threads, seconds{1}, [&] {
      return [&] {
        auto t = eng->tokens().get("wx");
        if (t.snapshot == nullptr)
          std::abort();
      };
    });
    auto remote = measure(threads, seconds{1}, [&] {
      auto conn = std::make_shared<shoal::redis_connection>(redis.connect());
      return [conn] {
        auto r = conn->command({"HGET", "shoal:token:{wx}:record", "token"});
        if (!r || r->is_nil())
          std::abort();
      };
    });
    std::printf(
        "threads=%2d  local get: %8.1f ns/call %12.0f calls/s | redis HGET: %9.0f "
        "ns/call %9.0f calls/s | ratio %.0fx\n",
        threads, local_plain.ns_per_call, local_plain.calls_per_s, remote.ns_per_call,
        remote.calls_per_s, local_plain.calls_per_s / remote.calls_per_s);
    figures["local_get"].push_back({{"threads", threads},
                                    {"local_ns_per_call", local_plain.ns_per_call},
                                    {"local_calls_per_s", local_plain.calls_per_s},
                                    {"redis_ns_per_call", remote.ns_per_call},
                                    {"redis_calls_per_s", remote.calls_per_s}});
  }
  eng->stop();
}

/// Three token_storm_node processes against the stand-in.
struct storm_cluster {
  shoal::test::temp_dir dir{"token-bench"};
  std::map<std::string, uint16_t> http;
  std::map<std::string, shoal::test::child_process> procs;

  storm_cluster(const std::string& program, shoal::test::redis_server& redis,
                shoal::standins::token_standin& upstream, int threads) {
    std::vector<std::string> names{"n1", "n2", "n3"};
    std::map<std::string, uint16_t> ports;
    for (auto& n : names) {
      ports[n] = shoal::test::free_port();
      http[n] = shoal::test::free_port();
    }
    for (auto& n : names) {
      json peers = json::array();
      for (auto& p : names)
        if (p != n)
          peers.push_back({{"name", p}, {"port", ports[p]}});
      json cfg{{"node", {{"name", n}, {"port", ports[n]}}},
               {"cluster", {{"peers", peers}, {"app_id", "shoal-token-bench"}}},
               {"http", {{"port", http[n]}}},
               {"log", {{"level", "warn"}}},
               {"redis", {{"port", redis.port()}, {"timeout_ms", 1000}}},
               {"tokens",
                {{"lease_ms", 1500},
                 {"providers", json::array({provider_json(upstream.base_url())})}}}};
      auto path = (dir.path() / (n + ".json")).string();
      std::ofstream{path} << cfg.dump();
      shoal::test::process_options o;
      o.program = program;
      o.args = {path, "wx", std::to_string(threads), upstream.base_url()};
      o.env = {{"SHOAL_BENCH_WX_SECRET", "wx-test-secret"}};
      o.name = n;
      o.output_dir = dir.path();
      auto [it, _] = procs.emplace(n, shoal::test::child_process{o});
      if (!it->second.wait_for_output("storm ready", seconds{30}))
        throw std::runtime_error(n + " did not start: " + it->second.output_tail());
    }
  }

  std::string keeper(const std::string& except = {}) {
    for (auto& [n, port] : http) {
      if (n == except)
        continue;
      httplib::Client c{"127.0.0.1", port};
      c.set_connection_timeout(0, 300000);
      c.set_read_timeout(1, 0);
      auto res = c.Get("/status");
      if (res && res->status == 200 &&
          json::parse(res->body)["tokens"]["wx"].value("keeper_here", false))
        return n;
    }
    return {};
  }
};

bool wait_issued(shoal::standins::token_standin& up, int64_t n, milliseconds timeout) {
  auto deadline = steady_clock::now() + timeout;
  while (up.tokens_issued() < n) {
    if (steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(milliseconds{1});
  }
  return true;
}

void storm_and_failover(const std::string& program, shoal::test::redis_server& redis) {
  redis.flushall();
  shoal::standins::token_standin_options o;
  o.expiry = seconds{2};
  o.grace = seconds{1};
  o.daily_quota = 0;
  shoal::standins::token_standin up{o};
  up.start();
  {
    storm_cluster c{program, redis, up, 32};
    auto first = up.tokens_issued();
    if (!wait_issued(up, first + 8, seconds{60})) {
      fail("storm did not complete 8 cycles");
      return;
    }
    auto calls = up.count("token", "ok");
    auto cycles = up.tokens_issued();
    std::cout << "== expiry storm: 3 nodes x 32 threads, 2 s tokens\n";
    std::printf(
        "upstream calls %lld over %lld cycles (incl. the first token): %.2f per cycle\n",
        static_cast<long long>(calls), static_cast<long long>(cycles),
        static_cast<double>(calls) / static_cast<double>(cycles));
    figures["storm_nodes"] = 3;
    figures["storm_threads_per_node"] = 32;
    figures["storm_upstream_calls"] = calls;
    figures["storm_cycles"] = cycles;
    figures["storm_calls_per_cycle"] =
        static_cast<double>(calls) / static_cast<double>(cycles);
  }
  redis.flushall();
  o.expiry = seconds{6};
  shoal::standins::token_standin up2{o};
  up2.start();
  storm_cluster c{program, redis, up2, 4};
  std::cout << "== failover: kill -9 of the keeper's node, 6 s tokens, lease 1.5 s\n";
  for (int round = 0; round < 3; ++round) {
    auto issued = up2.tokens_issued();
    wait_issued(up2, issued + 1, seconds{20});
    std::this_thread::sleep_for(milliseconds{1000});
    auto victim = c.keeper();
    if (victim.empty()) {
      fail("failover: no keeper found before round " + std::to_string(round + 1));
      break;
    }
    auto before = up2.tokens_issued();
    auto killed = steady_clock::now();
    c.procs.at(victim).kill();
    c.procs.at(victim).wait_for_exit(seconds{5});
    std::string next;
    while ((next = c.keeper(victim)).empty() &&
           steady_clock::now() - killed < seconds{10})
      std::this_thread::sleep_for(milliseconds{5});
    auto taken = steady_clock::now();
    bool did_refresh = wait_issued(up2, before + 1, seconds{20});
    auto refreshed = steady_clock::now();
    std::printf(
        "killed %s: lease taken by %s after %lld ms; next refresh by the new keeper "
        "after %lld ms (it waits for the advisory window, by design)\n",
        victim.c_str(), next.c_str(),
        static_cast<long long>(duration_cast<milliseconds>(taken - killed).count()),
        static_cast<long long>(duration_cast<milliseconds>(refreshed - killed).count()));
    figures["failover"].push_back(
        {{"lease_taken", !next.empty()},
         {"lease_taken_ms", duration_cast<milliseconds>(taken - killed).count()},
         {"refreshed", did_refresh},
         {"next_refresh_ms", duration_cast<milliseconds>(refreshed - killed).count()}});
    // Restart the victim so the next round has three nodes again.
    shoal::test::process_options po;
    po.program = program;
    po.args = {(c.dir.path() / (victim + ".json")).string(), "wx", "4", up2.base_url()};
    po.env = {{"SHOAL_BENCH_WX_SECRET", "wx-test-secret"}};
    po.name = victim;
    po.output_dir = c.dir.path();
    c.procs.erase(victim);
    auto [it, _] = c.procs.emplace(victim, shoal::test::child_process{po});
    it->second.wait_for_output("storm ready", seconds{30});
  }
}

} // namespace

int main(int argc, char** argv) {
  shoal::configure_logging(shoal::log_config{"warn", "", "text"}, "bench");
  setenv("SHOAL_BENCH_WX_SECRET", "wx-test-secret", 1);
  auto storm_node =
      argc > 1
          ? std::string{argv[1]}
          : (fs::path{argv[0]}.parent_path() / "../../tests/cluster/token_storm_node")
                .lexically_normal()
                .string();
  shoal::test::redis_server redis;
  {
    shoal::standins::token_standin_options o;
    o.daily_quota = 0;
    shoal::standins::token_standin up{o};
    up.start();
    local_get_vs_redis(redis, up);
  }
  if (!fs::exists(storm_node))
    fail("no " + storm_node +
         ": build token_storm_node for the storm and failover figures");
  else
    try {
      storm_and_failover(storm_node, redis);
    } catch (const std::exception& e) {
      fail(std::string{"storm/failover: "} + e.what());
    }
  std::cout << figures.dump() << std::endl;
  return 0;
}
