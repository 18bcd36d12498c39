// hotkey_latency_bench: detection latency across 3 node processes on loopback.
//
// The bench starts three copies of itself as nodes (each embeds shoal::engine with a
// hot-key service and a control HTTP port), waits until they see each other, then for
// each of K keys: asks every node to watch the key (it polls is_hot every 100 µs and
// answers the wall-clock µs at which it saw the key hot), then records `threshold`
// accesses of the key on one node (rotating) and takes the wall-clock µs just after the
// last record(), when the key's true count crossed the threshold. Latency = the last
// node's "seen hot" time - that instant. All processes share one machine's clock.
// Peer figure in the same run: the recorder flush interval (the floor any
// pre-aggregating design pays), and JD hotkey's published 500 ms default push interval.
//
//   hotkey_latency_bench [--keys K] [--flush-ms F] [--json]
//   hotkey_latency_bench --node CONFIG CONTROL_PORT        (internal)
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/hotkey/core/hotkey_clock.hpp"
#include "runtime/engine.hpp"
#include "runtime/hotkey_service.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using nlohmann::json;
using namespace std::chrono;
using shoal::hotkey::hotkey_clock;

constexpr uint64_t threshold = 200;

int run_node(const std::string& config, int control_port) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::string error;
  auto eng = shoal::engine::start_file(config, &error);
  if (!eng) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  httplib::Server control;
  control.Post("/record", [&](const httplib::Request& req, httplib::Response& res) {
    auto key = req.get_param_value("key");
    auto n = std::stoull(req.get_param_value("n"));
    for (uint64_t i = 0; i < n; ++i)
      eng->hotkeys().record(key);
    auto crossed = hotkey_clock::wall_us();
    res.set_content(std::to_string(crossed), "text/plain");
  });
  control.Get("/wait_hot", [&](const httplib::Request& req, httplib::Response& res) {
    auto key = req.get_param_value("key");
    auto deadline = steady_clock::now() + seconds{10};
    while (!eng->hotkeys().is_hot(key)) {
      if (steady_clock::now() > deadline) {
        res.status = 504;
        return;
      }
      std::this_thread::sleep_for(microseconds{100});
    }
    res.set_content(std::to_string(hotkey_clock::wall_us()), "text/plain");
  });
  control.new_task_queue = [] { return new httplib::ThreadPool(8); };
  if (!control.bind_to_port("127.0.0.1", control_port)) {
    std::fprintf(stderr, "cannot bind the control port\n");
    return 1;
  }
  std::thread server{[&] { control.listen_after_bind(); }};
  while (!control.is_running())
    std::this_thread::yield();
  std::printf("ready\n");
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  control.stop();
  server.join();
  eng->stop();
  return 0;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  auto i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 4 && !std::strcmp(argv[1], "--node"))
    return run_node(argv[2], std::atoi(argv[3]));
  int keys = 50;
  int flush_ms = 5;
  bool json_only = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--keys") && i + 1 < argc)
      keys = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--flush-ms") && i + 1 < argc)
      flush_ms = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--json"))
      json_only = true;
    else {
      std::fprintf(stderr,
                   "usage: hotkey_latency_bench [--keys K] [--flush-ms F] [--json]\n");
      return 2;
    }
  }
  shoal::test::temp_dir dir{"hkbench-latency"};
  const std::vector<std::string> names{"n1", "n2", "n3"};
  std::map<std::string, uint16_t> port, http, control;
  for (auto& n : names) {
    port[n] = shoal::test::free_port();
    http[n] = shoal::test::free_port();
    control[n] = shoal::test::free_port();
  }
  std::vector<shoal::test::child_process> nodes;
  for (auto& n : names) {
    json peers = json::array();
    for (auto& p : names)
      if (p != n)
        peers.push_back({{"name", p}, {"port", port[p]}});
    json cfg{{"node", {{"name", n}, {"port", port[n]}}},
             {"cluster", {{"peers", peers}, {"app_id", "shoal-hotkey-bench"}}},
             {"http", {{"port", http[n]}}},
             {"log", {{"level", "warn"}}},
             {"hotkeys",
              {{"flush_ms", flush_ms},
               {"rules", json::array({{{"key", "*"},
                                       {"threshold", threshold},
                                       {"window_ms", 1000},
                                       {"duration_ms", 60000}}})}}}};
    auto path = (dir / (n + ".json")).string();
    std::ofstream{path} << cfg.dump(2);
    shoal::test::process_options opts;
    opts.program = "/proc/self/exe";
    opts.args = {"--node", path, std::to_string(control[n])};
    opts.name = n;
    opts.output_dir = dir.path();
    nodes.emplace_back(opts);
    if (!nodes.back().wait_for_output("ready", seconds{20})) {
      std::fprintf(stderr, "%s did not start: %s\n", n.c_str(),
                   nodes.back().output_tail().c_str());
      return 1;
    }
  }
  auto get = [&](const std::string& n,
                 const std::string& path) -> std::optional<std::string> {
    httplib::Client c{"127.0.0.1", control[n]};
    c.set_read_timeout(15, 0);
    auto res = c.Get(path.c_str());
    if (!res || res->status != 200)
      return std::nullopt;
    return res->body;
  };
  auto joined_all = [&](const std::string& n) {
    httplib::Client c{"127.0.0.1", http[n]};
    c.set_read_timeout(3, 0);
    auto res = c.Get("/status");
    if (!res || res->status != 200)
      return false;
    auto hk = json::parse(res->body).value("hotkeys", json::object());
    return hk.value("nodes", json::array()).size() == 3 &&
           hk.value("shard_nodes", json::array()).size() == 3;
  };
  auto joined = steady_clock::now() + seconds{30};
  for (bool all = false; !all;) {
    all = true;
    for (auto& n : names)
      all = all && joined_all(n);
    if (!all && steady_clock::now() > joined) {
      std::fprintf(stderr, "nodes did not join\n");
      return 1;
    }
    if (!all)
      std::this_thread::sleep_for(milliseconds{50});
  }
  std::vector<double> latencies_ms;
  int missed = 0;
  for (int k = 0; k < keys; ++k) {
    auto key = "flash:" + std::to_string(k);
    std::vector<std::future<std::optional<std::string>>> seen;
    for (auto& n : names)
      seen.push_back(std::async(std::launch::async, get, n, "/wait_hot?key=" + key));
    auto& at = names[static_cast<size_t>(k) % names.size()];
    httplib::Client c{"127.0.0.1", control[at]};
    auto res = c.Post(("/record?key=" + key + "&n=" + std::to_string(threshold)).c_str());
    if (!res || res->status != 200) {
      std::fprintf(stderr, "record failed on %s\n", at.c_str());
      return 1;
    }
    auto crossed = std::stoll(res->body);
    long long last = 0;
    bool ok = true;
    for (auto& f : seen) {
      auto s = f.get();
      if (!s)
        ok = false;
      else
        last = std::max(last, std::stoll(*s));
    }
    if (!ok) {
      ++missed;
      continue;
    }
    latencies_ms.push_back(static_cast<double>(std::max(0LL, last - crossed)) / 1000.0);
  }
  for (auto& n : nodes)
    n.terminate();
  for (auto& n : nodes)
    n.wait_for_exit(seconds{10});
  if (latencies_ms.empty()) {
    std::fprintf(stderr, "no key became hot\n");
    return 1;
  }
  auto p50 = percentile(latencies_ms, 0.5), p99 = percentile(latencies_ms, 0.99);
  json out{{"detect_keys", latencies_ms.size()},
           {"detect_missed", missed},
           {"detect_p50_ms", p50},
           {"detect_p99_ms", p99},
           {"detect_max_ms", *std::max_element(latencies_ms.begin(), latencies_ms.end())},
           {"detect_flush_ms", flush_ms},
           {"detect_p50_vs_jd_500ms_push", 500.0 / std::max(p50, 0.001)}};
  if (!json_only)
    std::printf("== detection latency, 3 nodes on loopback, %zu keys, threshold %llu, "
                "flush %d ms\np50 %.2f ms, p99 %.2f ms, max %.2f ms, missed %d "
                "(JD hotkey's default push interval alone: 500 ms, %.0fx p50)\n",
                latencies_ms.size(), static_cast<unsigned long long>(threshold), flush_ms,
                p50, p99, out["detect_max_ms"].get<double>(), missed,
                out["detect_p50_vs_jd_500ms_push"].get<double>());
  std::printf("%s\n", out.dump().c_str());
  return missed == 0 ? 0 : 1;
}
