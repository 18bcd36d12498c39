// hotkey_latency_bench: hot-key detection latency across 3 node processes on loopback.
//
// The bench starts three copies of itself as nodes (each embeds shoal::engine with a
// hot-key service and a control HTTP port) and waits until they see each other. Then,
// in two phases on the same nodes (all processes share one machine's clock):
//
// 1. End to end from the true crossing (ramps). The generator (this process) writes a
//    schedule: a Zipf background over many keys at a steady rate, and K ramp keys
//    ("ramp:k"), started one after the other (at a random phase of each interval), whose access rate grows linearly from 0
//    (as a flash sale's does), every access on a node drawn at random. Each node replays
//    its part of the schedule against the same start instant, notes the wall-clock µs of
//    every ramp-key access it records, and watches its hot view (is_hot of every ramp key
//    every 200 µs, hot_keys() every 5 ms for any other key). The generator merges the
//    three nodes' access times of each ramp key and finds the instant its exact count
//    over the last window_ms (timestamps, no slices) reached the rule's threshold: the
//    true crossing. Latency = the last node's first "hot" - that instant; it includes
//    the window's slicing, the sketch's admission, the recorder flush and the push. A
//    negative latency would be a report before the truth (counted as "early"); a key
//    reported hot whose exact count never reached the threshold is a false hot key
//    (background keys' exact counts are taken from the schedule).
//    Peers: the exact counter (ground truth, 0 ms by definition) and JD hotkey's
//    published 500 ms default push interval (a floor of its client's view).
// 2. Push latency (bursts). For each of K keys ("flash:k", threshold 200): every node
//    watches it, `threshold` accesses are recorded on one node (rotating) in one burst,
//    and latency = the last node's "seen hot" time - the instant just after the last
//    record(). No counting delay: the floor of the pipeline (flush + push).
//
//   hotkey_latency_bench [--keys K] [--flush-ms F] [--mode both|ramp|burst] [--json]
//                        [--detail]                (one line per ramp key, on stderr)
//                        [--threshold T] [--bg-rate R] [--bg-keys N] [--skew S]
//                        [--peak-rate R] [--ramp-ms MS] [--stagger-ms MS] [--seed N]
//   hotkey_latency_bench --node CONFIG CONTROL_PORT        (internal)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/hotkey/core/hotkey_clock.hpp"
#include "runtime/engine.hpp"
#include "runtime/hotkey_service.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/hotkey/zipf_trace.hpp"

namespace {

using nlohmann::json;
using namespace std::chrono;
using shoal::hotkey::hotkey_clock;

/// Threshold of the burst phase's keys ("flash:" prefix rule).
constexpr uint64_t burst_threshold = 200;
/// Window of every rule.
constexpr int64_t window_ms = 1000;
constexpr const char* ramp_prefix = "ramp:";

/// One node's part of the ramp phase: its schedule, replayed against a start instant
/// shared by every node, and what its hot view showed meanwhile.
class replayer {
public:
  explicit replayer(shoal::engine& eng) : eng_(eng) {}

  ~replayer() {
    if (replay_.joinable())
      replay_.join();
    if (watch_.joinable())
      watch_.join();
  }

  /// Reads a schedule file of "t_us key" lines, sorted by t_us.
  bool load(const std::string& path) {
    std::ifstream in{path};
    std::unordered_map<std::string, uint32_t> ids;
    int64_t t = 0;
    std::string key;
    while (in >> t >> key) {
      auto [it, added] = ids.emplace(key, static_cast<uint32_t>(names_.size()));
      if (added) {
        names_.push_back(key);
        ramp_.push_back(key.rfind(ramp_prefix, 0) == 0);
      }
      events_.push_back({t, it->second});
    }
    for (uint32_t id = 0; id < names_.size(); ++id)
      if (ramp_[id])
        ramp_ids_.push_back(id);
    seen_hot_.assign(names_.size(), 0);
    return in.eof();
  }

  /// Replays from wall-clock start_us; watches until every ramp key was seen hot or
  /// settle_ms after the last access.
  void start(int64_t start_us, int64_t settle_ms) {
    replay_ = std::thread{[this, start_us] { replay(start_us); }};
    watch_ = std::thread{[this, settle_ms] { watch(settle_ms); }};
  }

  /// Waits for the end of the replay and of the watch, then tells what happened.
  json result() {
    replay_.join();
    watch_.join();
    json ramp = json::object();
    for (auto id : ramp_ids_)
      ramp[names_[id]] = {{"times", json::array()},
                          {"hot_us", seen_hot_[id] ? json(seen_hot_[id]) : json()}};
    for (auto& [id, us] : ramp_times_)
      ramp[names_[id]]["times"].push_back(us);
    json hot = json::object();
    for (auto& [k, us] : other_hot_)
      hot[k] = us;
    return {{"events", events_.size()},
            {"lag_max_us", lag_max_us_},
            {"ramp", ramp},
            {"hot", hot}};
  }

private:
  struct event {
    int64_t t_us;
    uint32_t key;
  };

  void replay(int64_t start_us) {
    auto& hk = eng_.hotkeys();
    ramp_times_.reserve(events_.size());
    for (size_t i = 0; i < events_.size();) {
      auto now = hotkey_clock::wall_us();
      auto due = start_us + events_[i].t_us;
      if (now < due) {
        std::this_thread::sleep_for(microseconds{std::min<int64_t>(due - now, 500)});
        continue;
      }
      lag_max_us_ = std::max(lag_max_us_, now - due);
      for (; i < events_.size() && start_us + events_[i].t_us <= now; ++i) {
        auto id = events_[i].key;
        hk.record(names_[id]);
        if (ramp_[id])
          ramp_times_.emplace_back(id, hotkey_clock::wall_us());
      }
    }
    done_us_.store(hotkey_clock::wall_us());
  }

  void watch(int64_t settle_ms) {
    auto& hk = eng_.hotkeys();
    size_t unseen = ramp_ids_.size();
    int64_t listed = 0;
    for (;;) {
      auto now = hotkey_clock::wall_us();
      for (auto id : ramp_ids_)
        if (!seen_hot_[id] && hk.is_hot(names_[id])) {
          seen_hot_[id] = hotkey_clock::wall_us();
          --unseen;
        }
      if (now - listed >= 5000) {
        listed = now;
        for (auto& h : hk.hot_keys())
          other_hot_.emplace(h.key, now);
      }
      auto done = done_us_.load();
      if (done && (unseen == 0 || now > done + settle_ms * 1000))
        break;
      std::this_thread::sleep_for(microseconds{200});
    }
    for (auto& h : hk.hot_keys())
      other_hot_.emplace(h.key, hotkey_clock::wall_us());
  }

  shoal::engine& eng_;
  std::vector<std::string> names_;
  std::vector<bool> ramp_;
  std::vector<uint32_t> ramp_ids_;
  std::vector<event> events_;
  /// Ramp key id -> wall µs just after each of its record() calls.
  std::vector<std::pair<uint32_t, int64_t>> ramp_times_;
  /// Ramp key id -> wall µs it was first seen hot (0: not yet).
  std::vector<int64_t> seen_hot_;
  /// Every key hot_keys() listed -> wall µs of the first listing.
  std::map<std::string, int64_t> other_hot_;
  int64_t lag_max_us_ = 0;
  std::atomic<int64_t> done_us_{0};
  std::thread replay_, watch_;
};

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
  std::mutex replay_lock;
  std::unique_ptr<replayer> replay;
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
  control.Post("/replay_load", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> guard{replay_lock};
    replay = std::make_unique<replayer>(*eng);
    if (!replay->load(req.get_param_value("path")))
      res.status = 400;
  });
  control.Post("/replay_start", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> guard{replay_lock};
    if (!replay) {
      res.status = 409;
      return;
    }
    replay->start(std::stoll(req.get_param_value("start_us")),
                  std::stoll(req.get_param_value("settle_ms")));
  });
  control.Get("/replay_result", [&](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> guard{replay_lock};
    if (!replay) {
      res.status = 409;
      return;
    }
    res.set_content(replay->result().dump(), "application/json");
    replay.reset();
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
  replay.reset();
  eng->stop();
  return 0;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  auto i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

struct options {
  int keys = 50;
  int flush_ms = 5;
  bool json_only = false;
  /// Prints one line per ramp key.
  bool detail = false;
  bool ramps = true;
  bool bursts = true;
  /// Rule of the ramp phase (ramp and background keys): accesses per window_ms.
  uint64_t threshold = 1000;
  /// Background: accesses/s over all nodes, distinct keys, Zipf exponent.
  double bg_rate = 9000;
  uint64_t bg_keys = 1'000'000;
  double skew = 1.0;
  /// Each ramp key's rate grows linearly from 0 to peak_rate over ramp_ms, then stops.
  double peak_rate = 4000;
  int64_t ramp_ms = 2000;
  /// A new ramp key starts every stagger_ms, after lead_ms of background alone.
  int64_t stagger_ms = 100;
  int64_t lead_ms = 1000;
  uint64_t seed = 42;
};

/// The accesses of the ramp phase, by node.
struct schedule {
  struct access {
    int64_t t_us;
    /// 0..keys-1: ramp key; keys + rank - 1: background key of Zipf rank `rank`.
    uint32_t key;
  };
  std::vector<std::vector<access>> by_node;
  int64_t length_us = 0;
};

std::string key_name(const options& opt, uint32_t key) {
  auto k = static_cast<uint32_t>(opt.keys);
  return key < k ? ramp_prefix + std::to_string(key)
                 : "sku:" + std::to_string(key - k + 1);
}

schedule make_schedule(const options& opt, size_t nodes) {
  schedule s;
  s.by_node.resize(nodes);
  std::mt19937_64 rng{opt.seed};
  std::uniform_int_distribution<size_t> node{0, nodes - 1};
  s.length_us = (opt.lead_ms + opt.keys * opt.stagger_ms + opt.ramp_ms + 500) * 1000;
  shoal::hotkey::testing::zipf_trace zipf{opt.bg_keys, opt.skew, opt.seed};
  auto gap_us = 1e6 / opt.bg_rate;
  for (double t = 0; t < static_cast<double>(s.length_us); t += gap_us)
    s.by_node[node(rng)].push_back(
        {static_cast<int64_t>(t), static_cast<uint32_t>(opt.keys + zipf.next() - 1)});
  // Linear ramp: n accesses by time τ (s) = peak * τ² / (2 * ramp), so the n-th is at
  // τ = sqrt(2 * n * ramp / peak).
  // Each ramp starts at a random point of its stagger interval, so that the crossings
  // fall at every phase of the rule's slices and of the sketches' generations.
  auto ramp_s = static_cast<double>(opt.ramp_ms) / 1000.0;
  std::uniform_int_distribution<int64_t> phase{
      0, std::max<int64_t>(opt.stagger_ms, 1) * 1000 - 1};
  for (int k = 0; k < opt.keys; ++k) {
    auto begin_us = (opt.lead_ms + k * opt.stagger_ms) * 1000 + phase(rng);
    for (uint64_t n = 1;; ++n) {
      auto tau = std::sqrt(2.0 * static_cast<double>(n) * ramp_s / opt.peak_rate);
      if (tau > ramp_s)
        break;
      s.by_node[node(rng)].push_back(
          {begin_us + static_cast<int64_t>(tau * 1e6), static_cast<uint32_t>(k)});
    }
  }
  for (auto& v : s.by_node)
    std::sort(v.begin(), v.end(),
              [](const auto& a, const auto& b) { return a.t_us < b.t_us; });
  return s;
}

/// The instant (µs, an element of `times`) the count of times in the last window
/// first reached `threshold`; nullopt if it never did. Also the largest count.
std::pair<std::optional<int64_t>, uint64_t> exact_crossing(std::vector<int64_t> times,
                                                           uint64_t threshold) {
  std::sort(times.begin(), times.end());
  std::optional<int64_t> crossed;
  uint64_t most = 0;
  for (size_t i = 0, j = 0; i < times.size(); ++i) {
    while (times[i] - times[j] >= window_ms * 1000)
      ++j;
    auto count = static_cast<uint64_t>(i - j + 1);
    most = std::max(most, count);
    if (!crossed && count >= threshold)
      crossed = times[i];
  }
  return {crossed, most};
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 4 && !std::strcmp(argv[1], "--node"))
    return run_node(argv[2], std::atoi(argv[3]));
  options opt;
  bool bad = false;
  for (int i = 1; i < argc && !bad; ++i) {
    std::string flag = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (flag == "--json") {
      opt.json_only = true;
    } else if (flag == "--detail") {
      opt.detail = true;
    } else if ((v = value()) == nullptr) {
      bad = true;
    } else if (flag == "--keys") {
      opt.keys = std::atoi(v);
    } else if (flag == "--flush-ms") {
      opt.flush_ms = std::atoi(v);
    } else if (flag == "--mode") {
      opt.ramps = !std::strcmp(v, "both") || !std::strcmp(v, "ramp");
      opt.bursts = !std::strcmp(v, "both") || !std::strcmp(v, "burst");
      bad = !opt.ramps && !opt.bursts;
    } else if (flag == "--threshold") {
      opt.threshold = std::strtoull(v, nullptr, 10);
    } else if (flag == "--bg-rate") {
      opt.bg_rate = std::atof(v);
    } else if (flag == "--bg-keys") {
      opt.bg_keys = std::strtoull(v, nullptr, 10);
    } else if (flag == "--skew") {
      opt.skew = std::atof(v);
    } else if (flag == "--peak-rate") {
      opt.peak_rate = std::atof(v);
    } else if (flag == "--ramp-ms") {
      opt.ramp_ms = std::atoll(v);
    } else if (flag == "--stagger-ms") {
      opt.stagger_ms = std::atoll(v);
    } else if (flag == "--seed") {
      opt.seed = std::strtoull(v, nullptr, 10);
    } else {
      bad = true;
    }
  }
  if (bad || opt.keys < 1 || opt.flush_ms < 1 || opt.threshold < 1 || opt.bg_rate <= 0 ||
      opt.bg_keys < 1 || opt.skew <= 0 || opt.peak_rate <= 0 || opt.ramp_ms < 1 ||
      opt.stagger_ms < 0) {
    std::fprintf(
        stderr, "usage: hotkey_latency_bench [--keys K] [--flush-ms F] "
                "[--mode both|ramp|burst] [--json] [--detail]\n"
                "         [--threshold T] [--bg-rate R] [--bg-keys N] [--skew S]\n"
                "         [--peak-rate R] [--ramp-ms MS] [--stagger-ms MS] [--seed N]\n");
    return 2;
  }
  const int keys = opt.keys;
  const int flush_ms = opt.flush_ms;
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
               {"rules", json::array({{{"prefix", "flash:"},
                                       {"threshold", burst_threshold},
                                       {"window_ms", window_ms},
                                       {"duration_ms", 60000}},
                                      {{"key", "*"},
                                       {"threshold", opt.threshold},
                                       {"window_ms", window_ms},
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
  json out = json::object();
  bool failed = false;
  if (opt.ramps) {
    auto sched = make_schedule(opt, names.size());
    for (size_t n = 0; n < names.size(); ++n) {
      auto path = (dir / ("schedule-" + names[n] + ".txt")).string();
      {
        std::ofstream f{path};
        for (auto& a : sched.by_node[n])
          f << a.t_us << ' ' << key_name(opt, a.key) << '\n';
      }
      httplib::Client c{"127.0.0.1", control[names[n]]};
      c.set_read_timeout(60, 0);
      auto res = c.Post(("/replay_load?path=" + path).c_str());
      if (!res || res->status != 200) {
        std::fprintf(stderr, "%s could not load its schedule\n", names[n].c_str());
        return 1;
      }
    }
    const int64_t settle_ms = 3000;
    auto start_us = hotkey_clock::wall_us() + 500'000;
    for (auto& n : names) {
      httplib::Client c{"127.0.0.1", control[n]};
      auto res = c.Post(("/replay_start?start_us=" + std::to_string(start_us) +
                         "&settle_ms=" + std::to_string(settle_ms))
                            .c_str());
      if (!res || res->status != 200) {
        std::fprintf(stderr, "%s could not start its replay\n", n.c_str());
        return 1;
      }
    }
    std::vector<json> results;
    for (auto& n : names) {
      httplib::Client c{"127.0.0.1", control[n]};
      c.set_read_timeout(static_cast<time_t>(sched.length_us / 1'000'000 + 60), 0);
      auto res = c.Get("/replay_result");
      if (!res || res->status != 200) {
        std::fprintf(stderr, "%s gave no replay result\n", n.c_str());
        return 1;
      }
      results.push_back(json::parse(res->body));
    }
    // Ramp keys: the true crossing from every node's access times, against the
    // instant the last node saw the key hot.
    std::vector<double> e2e_ms, first_ms, late_accesses, rate_at_crossing;
    int missed = 0, early = 0, never_crossed = 0;
    int64_t lag_max_us = 0;
    for (auto& r : results)
      lag_max_us = std::max(lag_max_us, r["lag_max_us"].get<int64_t>());
    for (int k = 0; k < keys; ++k) {
      auto key = key_name(opt, static_cast<uint32_t>(k));
      std::vector<int64_t> times;
      int64_t last = 0, first = 0;
      bool all = true;
      for (auto& r : results) {
        auto& e = r["ramp"][key];
        for (auto& t : e["times"])
          times.push_back(t.get<int64_t>());
        if (e["hot_us"].is_null()) {
          all = false;
        } else {
          auto h = e["hot_us"].get<int64_t>();
          last = std::max(last, h);
          first = first ? std::min(first, h) : h;
        }
      }
      auto [crossed, most] = exact_crossing(times, opt.threshold);
      if (!crossed) {
        ++never_crossed;
        continue;
      }
      if (!all) {
        ++missed;
        continue;
      }
      auto ms = static_cast<double>(last - *crossed) / 1000.0;
      if (opt.detail)
        std::fprintf(stderr,
                     "%s: %zu accesses, crossed at +%.1f ms of the run, hot on the "
                     "first node after %.2f ms, on the last after %.2f ms\n",
                     key.c_str(), times.size(),
                     static_cast<double>(*crossed - start_us) / 1000.0,
                     static_cast<double>(first - *crossed) / 1000.0, ms);
      e2e_ms.push_back(ms);
      first_ms.push_back(static_cast<double>(first - *crossed) / 1000.0);
      early += ms < 0;
      late_accesses.push_back(static_cast<double>(
          std::count_if(times.begin(), times.end(),
                        [&, c = *crossed](int64_t t) { return t > c && t <= last; })));
      // The key's access rate at its crossing: the accesses of the last 100 ms.
      rate_at_crossing.push_back(
          10.0 * static_cast<double>(
                     std::count_if(times.begin(), times.end(), [c = *crossed](int64_t t) {
                       return t > c - 100'000 && t <= c;
                     })));
    }
    // Keys any node reported hot: background keys whose exact count (from the
    // schedule) never reached the threshold are false hot keys.
    std::map<uint32_t, std::vector<int64_t>> bg_times;
    for (auto& v : sched.by_node)
      for (auto& a : v)
        if (a.key >= static_cast<uint32_t>(keys))
          bg_times[a.key].push_back(a.t_us);
    uint64_t bg_most = 0;
    std::map<std::string, bool> bg_truly_hot;
    for (auto& [key, times] : bg_times) {
      auto [crossed, most] = exact_crossing(times, opt.threshold);
      bg_most = std::max(bg_most, most);
      if (crossed)
        bg_truly_hot[key_name(opt, key)] = true;
    }
    std::map<std::string, bool> reported;
    for (auto& r : results)
      for (auto& [k, _] : r["hot"].items())
        reported[k] = true;
    int false_hot = 0, bg_found = 0;
    for (auto& [k, _] : reported) {
      if (k.rfind(ramp_prefix, 0) == 0)
        continue;
      if (bg_truly_hot.count(k))
        ++bg_found;
      else
        ++false_hot;
    }
    if (e2e_ms.empty()) {
      std::fprintf(stderr, "no ramp key became hot on every node\n");
      return 1;
    }
    auto p50 = percentile(e2e_ms, 0.5);
    auto p99 = percentile(e2e_ms, 0.99);
    auto max = *std::max_element(e2e_ms.begin(), e2e_ms.end());
    out.update(json{{"e2e_keys", e2e_ms.size()},
                    {"e2e_missed", missed},
                    {"e2e_never_crossed", never_crossed},
                    {"e2e_p50_ms", p50},
                    {"e2e_p99_ms", p99},
                    {"e2e_max_ms", max},
                    {"e2e_min_ms", *std::min_element(e2e_ms.begin(), e2e_ms.end())},
                    {"e2e_first_node_p50_ms", percentile(first_ms, 0.5)},
                    {"e2e_early", early},
                    {"e2e_false_hot", false_hot},
                    {"e2e_background_truly_hot", bg_truly_hot.size()},
                    {"e2e_background_found", bg_found},
                    {"e2e_background_max_window_count", bg_most},
                    {"e2e_late_accesses_p50", percentile(late_accesses, 0.5)},
                    {"e2e_late_accesses_p99", percentile(late_accesses, 0.99)},
                    {"e2e_rate_at_crossing_p50", percentile(rate_at_crossing, 0.5)},
                    {"e2e_exact_counter_ms", 0},
                    {"e2e_jd_push_interval_ms", 500},
                    {"e2e_p50_vs_jd_500ms_push", 500.0 / std::max(p50, 0.001)},
                    {"e2e_threshold", opt.threshold},
                    {"e2e_window_ms", window_ms},
                    {"e2e_bg_rate", opt.bg_rate},
                    {"e2e_bg_keys", opt.bg_keys},
                    {"e2e_skew", opt.skew},
                    {"e2e_peak_rate", opt.peak_rate},
                    {"e2e_ramp_ms", opt.ramp_ms},
                    {"e2e_replay_lag_max_ms", static_cast<double>(lag_max_us) / 1000.0}});
    if (!opt.json_only) {
      std::printf(
          "== end to end from the true crossing, 3 nodes on loopback: %d ramp keys "
          "(0 -> %.0f/s over %lld ms, each access on a random node) in a Zipf %.2f "
          "background of %llu keys at %.0f/s; threshold %llu per %lld ms, flush %d ms\n",
          keys, opt.peak_rate, static_cast<long long>(opt.ramp_ms), opt.skew,
          static_cast<unsigned long long>(opt.bg_keys), opt.bg_rate,
          static_cast<unsigned long long>(opt.threshold),
          static_cast<long long>(window_ms), flush_ms);
      std::printf("last node hot after the true crossing: p50 %.2f ms, p99 %.2f ms, max "
                  "%.2f ms, min %.2f ms (first node p50 %.2f ms); measured %zu, missed "
                  "%d, early %d\n",
                  p50, p99, max, out["e2e_min_ms"].get<double>(),
                  out["e2e_first_node_p50_ms"].get<double>(), e2e_ms.size(), missed,
                  early);
      std::printf("peers: exact counter 0 ms (ground truth, by definition); JD hotkey's "
                  "default push interval alone 500 ms (%.1fx p50)\n",
                  out["e2e_p50_vs_jd_500ms_push"].get<double>());
      std::printf("accesses after the true crossing until the last node knew: p50 %.0f, "
                  "p99 %.0f (key rate at its crossing p50 %.0f/s)\n",
                  out["e2e_late_accesses_p50"].get<double>(),
                  out["e2e_late_accesses_p99"].get<double>(),
                  out["e2e_rate_at_crossing_p50"].get<double>());
      std::printf("false hot keys %d; background keys truly hot %zu, found %d (largest "
                  "background window count %llu); replay lag max %.2f ms\n",
                  false_hot, bg_truly_hot.size(), bg_found,
                  static_cast<unsigned long long>(bg_most),
                  out["e2e_replay_lag_max_ms"].get<double>());
    }
    failed = failed || missed != 0 || never_crossed != 0;
  }
  if (opt.bursts) {
    std::vector<double> latencies_ms;
    int missed = 0;
    for (int k = 0; k < keys; ++k) {
      auto key = "flash:" + std::to_string(k);
      std::vector<std::future<std::optional<std::string>>> seen;
      for (auto& n : names)
        seen.push_back(std::async(std::launch::async, get, n, "/wait_hot?key=" + key));
      auto& at = names[static_cast<size_t>(k) % names.size()];
      httplib::Client c{"127.0.0.1", control[at]};
      auto res = c.Post(
          ("/record?key=" + key + "&n=" + std::to_string(burst_threshold)).c_str());
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
    if (latencies_ms.empty()) {
      std::fprintf(stderr, "no key became hot\n");
      return 1;
    }
    auto p50 = percentile(latencies_ms, 0.5), p99 = percentile(latencies_ms, 0.99);
    out.update(json{
        {"detect_keys", latencies_ms.size()},
        {"detect_missed", missed},
        {"detect_p50_ms", p50},
        {"detect_p99_ms", p99},
        {"detect_max_ms", *std::max_element(latencies_ms.begin(), latencies_ms.end())},
        {"detect_flush_ms", flush_ms},
        {"detect_p50_vs_jd_500ms_push", 500.0 / std::max(p50, 0.001)}});
    if (!opt.json_only)
      std::printf("== detection latency, 3 nodes on loopback, %zu keys, threshold %llu, "
                  "flush %d ms\np50 %.2f ms, p99 %.2f ms, max %.2f ms, missed %d "
                  "(JD hotkey's default push interval alone: 500 ms, %.0fx p50)\n",
                  latencies_ms.size(), static_cast<unsigned long long>(burst_threshold),
                  flush_ms, p50, p99, out["detect_max_ms"].get<double>(), missed,
                  out["detect_p50_vs_jd_500ms_push"].get<double>());
    failed = failed || missed != 0;
  }
  for (auto& n : nodes)
    n.terminate();
  for (auto& n : nodes)
    n.wait_for_exit(seconds{10});
  std::printf("%s\n", out.dump().c_str());
  return failed ? 1 : 0;
}
