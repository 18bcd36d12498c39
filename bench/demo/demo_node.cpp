// shoal-demo-node: one node of the main job (scripts/demo). It is an application
// embedding shoal::engine, as users run it, plus the load the demo drives on it:
//
//   token threads    ask engine.tokens().get("wx") in a loop, as request handlers do;
//                    a checker asks the stand-in whether each new token is valid
//   reader threads   a flash sale: a share of the reads go to a few flash keys, the rest
//                    spread over the catalogue; each read is recorded for hot-key
//                    detection and served by engine.cache().get(), with Redis GET as
//                    the loader (counted: the reads that reached Redis)
//
//   shoal-demo-node --config FILE --stats FILE [--token-threads N] [--readers N]
//                   [--read-rate R] [--catalogue N] [--flash-keys N] [--flash-share F]
//                   [--preload]
//                   [--check-url URL]
//
// Every 500 ms it writes its counters as JSON to --stats (atomically), for the live
// view; on SIGTERM/SIGINT it stops, writes them once more, prints "result {...}" and
// exits 0. With --preload it first writes the catalogue and flash keys into Redis.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/adapters/redis_connection.hpp"
#include "runtime/connections.hpp"
#include "runtime/engine.hpp"
#include "runtime/hotkey_service.hpp"
#include "runtime/token_service.hpp"

namespace {

using namespace std::chrono;
using nlohmann::json;

struct counters {
  std::atomic<uint64_t> token_gets{0};
  std::atomic<uint64_t> token_errors{0};
  std::atomic<uint64_t> token_checks{0};
  std::atomic<uint64_t> token_invalid{0};
  std::atomic<uint64_t> token_version{0};
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> redis_reads{0};
  std::atomic<uint64_t> hot_hits{0};
  std::atomic<uint64_t> fallbacks{0};
  std::atomic<uint64_t> read_errors{0};
};

std::string flash_key(int i) {
  return "sku:flash-" + std::to_string(i);
}

std::string catalogue_key(uint64_t i) {
  return "sku:" + std::to_string(i);
}

json snapshot(const counters& c, const std::string& node) {
  return {{"node", node},
          {"token_gets", c.token_gets.load()},
          {"token_errors", c.token_errors.load()},
          {"token_checks", c.token_checks.load()},
          {"token_invalid", c.token_invalid.load()},
          {"token_version", c.token_version.load()},
          {"reads", c.reads.load()},
          {"redis_reads", c.redis_reads.load()},
          {"hot_hits", c.hot_hits.load()},
          {"fallbacks", c.fallbacks.load()},
          {"read_errors", c.read_errors.load()}};
}

void write_atomically(const std::string& path, const std::string& text) {
  auto tmp = path + ".tmp";
  {
    std::ofstream out{tmp};
    out << text << '\n';
  }
  std::rename(tmp.c_str(), path.c_str());
}

bool preload(const shoal::redis_config& rc, uint64_t catalogue, int flash) {
  auto conn = shoal::redis_connection::connect(rc);
  if (!conn) {
    std::cerr << "demo node: cannot preload Redis: " << conn.error().to_string() << '\n';
    return false;
  }
  std::vector<std::string> args{"MSET"};
  auto flush = [&] {
    if (args.size() == 1)
      return true;
    std::vector<std::string_view> view(args.begin(), args.end());
    auto r = conn->command(view);
    args.resize(1);
    return r && !r->is_error();
  };
  for (uint64_t i = 1; i <= catalogue; ++i) {
    args.push_back(catalogue_key(i));
    args.push_back(R"({"sku":)" + std::to_string(i) + R"(,"stock":100})");
    if (args.size() >= 2001 && !flush())
      return false;
  }
  for (int i = 1; i <= flash; ++i) {
    args.push_back(flash_key(i));
    args.push_back(R"({"sku":"flash-)" + std::to_string(i) + R"(","stock":10})");
  }
  return flush();
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"shoal-demo-node: a shoal node with the main job's load"};
  std::string config_path, stats_path, check_url;
  int token_threads = 8, readers = 2, flash = 3;
  double read_rate = 4000;
  double flash_share = 0.5;
  uint64_t catalogue = 20000;
  bool do_preload = false;
  app.add_option("--config", config_path, "node config (JSON)")->required();
  app.add_option("--stats", stats_path, "where to write the counters")->required();
  app.add_option("--token-threads", token_threads, "threads calling tokens().get()");
  app.add_option("--readers", readers, "flash-sale reader threads");
  app.add_option("--read-rate", read_rate, "reads per second of this node, all readers");
  app.add_option("--catalogue", catalogue, "keys sku:1..N besides the flash keys");
  app.add_option("--flash-keys", flash, "keys sku:flash-1..N");
  app.add_option("--flash-share", flash_share,
                 "share of the reads that go to flash keys");
  app.add_option("--check-url", check_url, "token stand-in base URL, to check tokens");
  app.add_flag("--preload", do_preload, "write the catalogue into Redis first");
  CLI11_PARSE(app, argc, argv);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::string error;
  auto eng = shoal::engine::start_file(config_path, &error);
  if (!eng) {
    std::cerr << error << '\n';
    return 1;
  }
  auto& cfg = eng->cfg();
  if (!cfg.redis) {
    std::cerr << "demo node: the config needs $.redis (the flash sale's backend)\n";
    return 1;
  }
  auto rc = shoal::to_redis_config(*cfg.redis);
  if (do_preload && !preload(rc, catalogue, flash))
    return 1;

  counters c;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  std::mutex seen_lock;
  std::set<std::string> seen;
  std::vector<std::string> to_check;

  for (int t = 0; t < token_threads && cfg.tokens.present; ++t)
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        auto r = eng->tokens().get("wx", milliseconds{2000});
        c.token_gets.fetch_add(1, std::memory_order_relaxed);
        if (!r) {
          c.token_errors.fetch_add(1, std::memory_order_relaxed);
        } else {
          auto v = r.snapshot->version;
          if (v > c.token_version.load(std::memory_order_relaxed)) {
            c.token_version.store(v, std::memory_order_relaxed);
            std::lock_guard<std::mutex> guard{seen_lock};
            if (seen.insert(r.token()).second)
              to_check.push_back(r.token());
          }
        }
        std::this_thread::sleep_for(microseconds{200});
      }
    });

  if (!check_url.empty())
    threads.emplace_back([&] {
      httplib::Client http{check_url};
      http.set_connection_timeout(1, 0);
      http.set_read_timeout(2, 0);
      while (!stop.load()) {
        std::vector<std::string> batch;
        {
          std::lock_guard<std::mutex> guard{seen_lock};
          batch.swap(to_check);
        }
        for (auto& token : batch) {
          auto res = http.Get(("/check?access_token=" + token).c_str());
          c.token_checks.fetch_add(1);
          if (!res || json::parse(res->body, nullptr, false).value("errcode", -1) != 0)
            c.token_invalid.fetch_add(1);
        }
        std::this_thread::sleep_for(milliseconds{50});
      }
    });

  for (int t = 0; t < readers && cfg.hotkeys.present; ++t)
    threads.emplace_back([&, t] {
      std::optional<shoal::redis_connection> redis;
      auto loader = [&](const std::string& key) -> std::string {
        if (!redis) {
          auto conn = shoal::redis_connection::connect(rc);
          if (!conn)
            throw std::runtime_error(conn.error().to_string());
          redis.emplace(std::move(*conn));
        }
        c.redis_reads.fetch_add(1, std::memory_order_relaxed);
        auto r = redis->command({"GET", key});
        if (!r)
          throw std::runtime_error(r.error().to_string());
        return r->str;
      };
      std::mt19937_64 rng{static_cast<uint64_t>(t) * 7919 + 17};
      std::uniform_int_distribution<uint64_t> any{1, std::max<uint64_t>(1, catalogue)};
      std::uniform_int_distribution<int> which{1, std::max(1, flash)};
      std::bernoulli_distribution to_flash{std::clamp(flash_share, 0.0, 1.0)};
      auto per_thread = std::max(1.0, read_rate / std::max(1, readers));
      auto gap = duration_cast<nanoseconds>(duration<double>{1.0 / per_thread});
      auto next = steady_clock::now();
      while (!stop.load(std::memory_order_relaxed)) {
        auto key =
            flash > 0 && to_flash(rng) ? flash_key(which(rng)) : catalogue_key(any(rng));
        eng->hotkeys().record(key);
        auto r = eng->cache().get(key, loader);
        c.reads.fetch_add(1, std::memory_order_relaxed);
        if (r.source == shoal::hotkey::read_source::hot_cache)
          c.hot_hits.fetch_add(1, std::memory_order_relaxed);
        else if (r.source == shoal::hotkey::read_source::fallback) {
          c.fallbacks.fetch_add(1, std::memory_order_relaxed);
          if (r.reason == shoal::hotkey::fallback_reason::load_failed)
            c.read_errors.fetch_add(1, std::memory_order_relaxed);
        }
        next += gap;
        auto now = steady_clock::now();
        if (next > now)
          std::this_thread::sleep_until(next);
        else if (now - next > seconds{1})
          next = now; // fell behind (a loaded machine): do not burst to catch up
      }
    });

  auto node = cfg.node.name;
  threads.emplace_back([&] {
    while (!stop.load()) {
      write_atomically(stats_path, snapshot(c, node).dump());
      std::this_thread::sleep_for(milliseconds{500});
    }
  });

  std::cout << "ready node=" << node << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  stop = true;
  for (auto& th : threads)
    th.join();
  auto result = snapshot(c, node);
  write_atomically(stats_path, result.dump());
  eng->stop();
  std::cout << "result " << result.dump() << std::endl;
  return 0;
}
