// invalidation_bench: how long a hot key's cached value outlives the source
// COMMIT that changed it, on 3 node processes, with binlog-driven invalidation
// (hotkeys.invalidate_from) beside a TTL cache (what users do without it).
//
// The bench starts a source and a target MariaDB (test support) and three
// copies of itself as nodes (each embeds shoal::engine; n1 runs sync pipeline
// "shop" source -> target, and every node has hotkeys.invalidate_from
// {"shop.sku" -> "sku:{id}"}). For each of K rows, in turn:
//   1. sku:i is made hot on every node (a manual hot key);
//   2. every node starts a watcher: it reads sku:i once through engine.cache()
//      and once through a TTL cache (entries expire ttl_ms after their load),
//      both loading with SELECT price FROM shop.sku on the source, then reads
//      both every 500 µs and notes the wall-clock µs each first returns a new
//      price;
//   3. the bench waits a random time in [0, ttl_ms) (so the TTL entry's age at
//      the change is uniform, as for a user's), runs UPDATE on the source
//      (autocommit) and takes the instant the COMMIT returned;
//   4. latency = the last node's first new value - that instant, for each cache.
// Both caches read the same database with the same loader and are polled the
// same way, so the difference is what invalidation buys: the TTL cache serves
// the old price until its entry expires, shoal's until the pipeline read the
// row and the keys reached every node.
//
//   invalidation_bench [--keys K] [--ttl-ms T] [--json]
//   invalidation_bench --node CONFIG CONTROL_PORT SOURCE_PORT      (internal)
// The nodes read the source's root password from SHOAL_BENCH_MYSQL_PW.
#include <algorithm>
#include <atomic>
#include <chrono>
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
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/adapters/mysql_connection.hpp"
#include "runtime/engine.hpp"
#include "runtime/hotkey_service.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/mariadb_server.hpp"
#include "tests/support/pipeline_config.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using nlohmann::json;
using namespace std::chrono;

int64_t wall_us() {
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

// -- node ---------------------------------------------------------------------

/// One key's watch on a node: when each cache first served a new value.
struct watch {
  std::atomic<int64_t> shoal_us{0};
  std::atomic<int64_t> ttl_us{0};
  std::atomic<bool> done{false};
  std::string error;
  std::thread thread;
};

int run_node(const std::string& config, int control_port, int source_port) {
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
  shoal::mysql_config src;
  src.host = "127.0.0.1";
  src.port = static_cast<uint16_t>(source_port);
  src.user = "root";
  auto pw = std::getenv("SHOAL_BENCH_MYSQL_PW");
  src.password = pw ? pw : "";
  std::mutex mtx;
  std::map<std::string, std::unique_ptr<watch>> watches;
  httplib::Server control;
  control.Post("/hot", [&](const httplib::Request& req, httplib::Response& res) {
    eng->hotkeys().add(req.get_param_value("key"), 0);
    res.set_content("ok", "text/plain");
  });
  control.Get("/is_hot", [&](const httplib::Request& req, httplib::Response& res) {
    res.set_content(eng->hotkeys().is_hot(req.get_param_value("key")) ? "1" : "0",
                    "text/plain");
  });
  // Starts watching `key` (whose value is `old` now); answers once both caches
  // hold the old value.
  control.Post("/watch", [&](const httplib::Request& req, httplib::Response& res) {
    auto key = req.get_param_value("key");
    auto old = req.get_param_value("old");
    auto ttl = milliseconds{std::stoll(req.get_param_value("ttl_ms"))};
    auto w = std::make_unique<watch>();
    auto* wp = w.get();
    std::promise<std::string> warm;
    auto warmed = warm.get_future();
    wp->thread =
        std::thread([&eng, src, key, old, ttl, wp, warm = std::move(warm)]() mutable {
          auto conn = shoal::mysql_connection::connect(src);
          if (!conn) {
            warm.set_value(conn.error().to_string());
            return;
          }
          auto load = [&](const std::string& k) -> std::string {
            auto r = conn->query("SELECT price FROM shop.sku WHERE id = " + k.substr(4));
            if (!r || r->rows.empty() || !r->rows[0][0])
              throw std::runtime_error(r ? "no row " + k : r.error().to_string());
            return *r->rows[0][0];
          };
          auto first = eng->cache().get(key, load);
          std::optional<std::string> ttl_value = load(key);
          auto loaded = steady_clock::now();
          if (first.value != old || ttl_value != old) {
            warm.set_value("the caches do not hold " + old +
                           " (shoal: " + first.value.value_or("none") +
                           ", ttl: " + ttl_value.value_or("none") + ")");
            return;
          }
          warm.set_value("");
          auto deadline = steady_clock::now() + ttl * 3 + seconds{10};
          while ((!wp->shoal_us || !wp->ttl_us) && steady_clock::now() < deadline) {
            if (!wp->shoal_us) {
              auto v = eng->cache().get(key, load);
              if (v.value && *v.value != old)
                wp->shoal_us = wall_us();
            }
            if (!wp->ttl_us) {
              if (steady_clock::now() - loaded >= ttl) {
                ttl_value = load(key);
                loaded = steady_clock::now();
              }
              if (ttl_value && *ttl_value != old)
                wp->ttl_us = wall_us();
            }
            std::this_thread::sleep_for(microseconds{500});
          }
          wp->done = true;
        });
    auto outcome = warmed.get();
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (auto i = watches.find(key); i != watches.end() && i->second->thread.joinable())
        i->second->thread.join();
      watches[key] = std::move(w);
    }
    if (!outcome.empty()) {
      res.status = 500;
      res.set_content(outcome, "text/plain");
      return;
    }
    res.set_content("ok", "text/plain");
  });
  control.Get("/result", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> guard{mtx};
    auto i = watches.find(req.get_param_value("key"));
    if (i == watches.end() || !i->second->done) {
      res.status = 404;
      return;
    }
    res.set_content(json{{"shoal_us", i->second->shoal_us.load()},
                         {"ttl_us", i->second->ttl_us.load()}}
                        .dump(),
                    "application/json");
  });
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
  for (auto& [k, w] : watches)
    if (w->thread.joinable())
      w->thread.join();
  eng->stop();
  return 0;
}

// -- generator ----------------------------------------------------------------

/// Runs `sql`; throws with the server's error.
void must(shoal::mysql_connection& conn, const std::string& sql) {
  if (auto r = conn.exec(sql); !r)
    throw std::runtime_error(sql + ": " + r.error().to_string());
}

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 5 && !std::strcmp(argv[1], "--node"))
    return run_node(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
  int keys = 40;
  int64_t ttl_ms = 1000;
  bool json_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--json") {
      json_only = true;
    } else if (flag == "--keys" && i + 1 < argc) {
      keys = std::atoi(argv[++i]);
    } else if (flag == "--ttl-ms" && i + 1 < argc) {
      ttl_ms = std::atoll(argv[++i]);
    } else {
      keys = 0;
      break;
    }
  }
  if (keys < 1 || ttl_ms < 1) {
    std::fprintf(stderr, "usage: invalidation_bench [--keys K] [--ttl-ms T] [--json]\n");
    return 2;
  }
  auto say = [&](const std::string& line) {
    if (!json_only)
      std::fprintf(stderr, "invalidation_bench: %s\n", line.c_str());
  };
  say("starting a source and a target MariaDB");
  shoal::test::mariadb_options so;
  so.name = "inv-source";
  so.server_id = 1;
  shoal::test::mariadb_server source{so};
  shoal::test::mariadb_options to;
  to.name = "inv-target";
  to.server_id = 2;
  shoal::test::mariadb_server target{to};
  for (auto* s : {&source, &target}) {
    auto c = s->connect();
    must(c, "CREATE DATABASE shop");
    must(c, "CREATE TABLE shop.sku (id INT UNSIGNED PRIMARY KEY, price DECIMAL(10,2))");
    must(c, "INSERT INTO shop.sku SELECT seq, 1.00 FROM shop.seq_1_to_" +
                std::to_string(keys));
  }
  shoal::test::temp_dir dir{"invalidation-bench"};
  const std::vector<std::string> names{"n1", "n2", "n3"};
  std::map<std::string, uint16_t> port, http, control;
  for (auto& n : names) {
    port[n] = shoal::test::free_port();
    http[n] = shoal::test::free_port();
    control[n] = shoal::test::free_port();
  }
  auto pipeline = shoal::test::pipeline_json(
      "shop", 961, source, target,
      {{"node", "n1"}, {"partitions", 2}, {"start", "current"}});
  pipeline["source"]["password_env"] = "SHOAL_BENCH_MYSQL_PW";
  pipeline["target"]["password_env"] = "SHOAL_BENCH_MYSQL_PW";
  std::vector<shoal::test::child_process> nodes;
  for (auto& n : names) {
    json peers = json::array();
    for (auto& p : names)
      if (p != n)
        peers.push_back({{"name", p}, {"port", port[p]}});
    json cfg{{"node", {{"name", n}, {"port", port[n]}}},
             {"cluster", {{"peers", peers}, {"app_id", "shoal-invalidation-bench"}}},
             {"http", {{"port", http[n]}}},
             {"log", {{"level", "warn"}}},
             {"sync", {{"pipelines", json::array({pipeline})}}},
             {"hotkeys",
              {{"flush_ms", 5},
               {"rules", json::array({{{"key", "*"},
                                       {"threshold", 1000000},
                                       {"window_ms", 1000},
                                       {"duration_ms", 60000}}})},
               {"invalidate_from", json::array({{{"pipeline", "shop"},
                                                 {"table", "shop.sku"},
                                                 {"key", "sku:{id}"}}})}}}};
    auto path = (dir / (n + ".json")).string();
    std::ofstream{path} << cfg.dump(2);
    shoal::test::process_options opts;
    opts.program = "/proc/self/exe";
    opts.args = {"--node", path, std::to_string(control[n]),
                 std::to_string(source.port())};
    opts.env = {{"SHOAL_BENCH_MYSQL_PW", source.password()}};
    opts.name = n;
    opts.output_dir = dir.path();
    nodes.emplace_back(opts);
    if (!nodes.back().wait_for_output("ready", seconds{20})) {
      std::fprintf(stderr, "%s did not start: %s\n", n.c_str(),
                   nodes.back().output_tail().c_str());
      return 1;
    }
  }
  auto request = [&](const std::string& n, const std::string& method,
                     const std::string& path) -> std::optional<std::string> {
    httplib::Client c{"127.0.0.1", control[n]};
    c.set_read_timeout(30, 0);
    auto res = method == "GET" ? c.Get(path.c_str()) : c.Post(path.c_str());
    if (!res || res->status != 200) {
      if (!res)
        std::fprintf(stderr, "%s %s on %s: %s\n", method.c_str(), path.c_str(), n.c_str(),
                     httplib::to_string(res.error()).c_str());
      else if (res->status != 404)
        std::fprintf(stderr, "%s %s on %s: %d %s\n", method.c_str(), path.c_str(),
                     n.c_str(), res->status, res->body.c_str());
      return std::nullopt;
    }
    return res->body;
  };
  auto node_status = [&](const std::string& n) {
    httplib::Client c{"127.0.0.1", http[n]};
    c.set_read_timeout(3, 0);
    auto res = c.Get("/status");
    return res && res->status == 200 ? json::parse(res->body) : json{};
  };
  auto until = [&](auto done, seconds limit) {
    auto deadline = steady_clock::now() + limit;
    while (!done()) {
      if (steady_clock::now() > deadline)
        return false;
      std::this_thread::sleep_for(milliseconds{5});
    }
    return true;
  };
  if (!until(
          [&] {
            for (auto& n : names) {
              auto hk = node_status(n).value("hotkeys", json::object());
              if (hk.value("nodes", json::array()).size() != 3)
                return false;
            }
            auto s = node_status("n1");
            return s.contains("sync") && s["sync"]["shop"]["state"] == "running";
          },
          seconds{60})) {
    std::fprintf(stderr, "the nodes did not join, or the pipeline did not start: %s\n",
                 node_status("n1").dump().c_str());
    return 1;
  }
  say("nodes up; " + std::to_string(keys) + " changes, TTL " + std::to_string(ttl_ms) +
      " ms");
  std::mt19937_64 rng{7};
  std::uniform_int_distribution<int64_t> wait_us{0, ttl_ms * 1000 - 1};
  auto conn = source.connect();
  std::vector<double> shoal_ms, ttl_ms_seen;
  int missing = 0;
  for (int i = 1; i <= keys; ++i) {
    auto key = "sku:" + std::to_string(i);
    request("n1", "POST", "/hot?key=" + key);
    if (!until(
            [&] {
              for (auto& n : names)
                if (request(n, "GET", "/is_hot?key=" + key) != "1")
                  return false;
              return true;
            },
            seconds{10})) {
      std::fprintf(stderr, "%s did not become hot on every node\n", key.c_str());
      return 1;
    }
    for (auto& n : names)
      if (!request(n, "POST",
                   "/watch?key=" + key + "&old=1.00&ttl_ms=" + std::to_string(ttl_ms)))
        return 1;
    std::this_thread::sleep_for(microseconds{wait_us(rng)});
    must(conn, "UPDATE shop.sku SET price = 2.00 WHERE id = " + std::to_string(i));
    auto committed = wall_us();
    int64_t last_shoal = 0, last_ttl = 0;
    bool all = until(
        [&] {
          last_shoal = last_ttl = 0;
          for (auto& n : names) {
            auto r = request(n, "GET", "/result?key=" + key);
            if (!r)
              return false;
            auto j = json::parse(*r);
            auto s = j["shoal_us"].get<int64_t>();
            auto t = j["ttl_us"].get<int64_t>();
            if (s == 0 || t == 0)
              last_shoal = last_ttl = -1;
            if (last_shoal >= 0) {
              last_shoal = std::max(last_shoal, s);
              last_ttl = std::max(last_ttl, t);
            }
          }
          return true;
        },
        seconds{ttl_ms * 3 / 1000 + 20});
    if (!all || last_shoal < 0) {
      ++missing;
      continue;
    }
    shoal_ms.push_back(static_cast<double>(last_shoal - committed) / 1000.0);
    ttl_ms_seen.push_back(static_cast<double>(last_ttl - committed) / 1000.0);
  }
  auto invalidated =
      node_status("n1")["sync"]["shop"].value("keys_invalidated", uint64_t{0});
  json out{{"bench", "hot_cache_invalidation"},
           {"changes", keys},
           {"measured", shoal_ms.size()},
           {"missing", missing},
           {"ttl_ms", ttl_ms},
           {"shoal_p50_ms", percentile(shoal_ms, 0.5)},
           {"shoal_p99_ms", percentile(shoal_ms, 0.99)},
           {"shoal_max_ms", percentile(shoal_ms, 1.0)},
           {"ttl_p50_ms", percentile(ttl_ms_seen, 0.5)},
           {"ttl_p99_ms", percentile(ttl_ms_seen, 0.99)},
           {"ttl_max_ms", percentile(ttl_ms_seen, 1.0)},
           {"keys_invalidated", invalidated}};
  if (!json_only) {
    std::printf("changes: %d (%d without an answer from every node)\n", keys, missing);
    std::printf(
        "shoal (binlog invalidation): stale for p50 %.1f ms, p99 %.1f ms, max %.1f "
        "ms after the COMMIT returned, on the last of 3 nodes\n",
        percentile(shoal_ms, 0.5), percentile(shoal_ms, 0.99), percentile(shoal_ms, 1.0));
    std::printf(
        "peer (TTL %lld ms):          stale for p50 %.1f ms, p99 %.1f ms, max %.1f "
        "ms\n",
        static_cast<long long>(ttl_ms), percentile(ttl_ms_seen, 0.5),
        percentile(ttl_ms_seen, 0.99), percentile(ttl_ms_seen, 1.0));
  }
  std::printf("%s\n", out.dump().c_str());
  for (auto& n : nodes)
    n.stop();
  return missing == 0 ? 0 : 1;
}
