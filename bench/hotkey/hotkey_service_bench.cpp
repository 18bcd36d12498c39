// hotkey_service_bench: the hot-key service as an application sees it, through an
// embedded shoal::engine, against the naive peer of each figure in the same run.
//
// 1. record(): engine.hotkeys().record(key) calls/s per thread with 1, 2 and 4 threads,
//    against an unordered_map<string, uint64_t> increment under one mutex.
// 2. Flash sale: T threads read a Zipf trace with one very hot key (a share of all
//    reads) through engine.cache().get(key, Redis GET) with a real redis-server behind
//    it; the same trace then reads Redis directly. Figures: reads reaching Redis with
//    and without the hot cache, reads/s of both, and the hot cache's hit ratio against
//    a plain lru_cache of the same size replaying the same trace.
//
//   hotkey_service_bench [--full] [--json]
// Quick mode (default) finishes in well under a minute; --full uses larger sizes.
// --json prints only one JSON line with every figure.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/hotkey/core/key_recorder.hpp"
#include "bench/hotkey/lru_cache.hpp"
#include "runtime/engine.hpp"
#include "runtime/hotkey_service.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/hotkey/zipf_trace.hpp"

namespace {

using nlohmann::json;
using bench_clock = std::chrono::steady_clock;

struct options {
  bool full = false;
  bool json_only = false;
  uint64_t record_calls = 2'000'000;
  uint64_t record_keys = 10'000;
  uint64_t sale_reads = 200'000;
  uint64_t sale_keys = 100'000;
  size_t sale_threads = 4;
  double hot_share = 0.3;
  size_t cache_entries = 1000;
};

double seconds_since(bench_clock::time_point start) {
  return std::chrono::duration<double>(bench_clock::now() - start).count();
}

std::unique_ptr<shoal::engine> start_engine(const shoal::test::temp_dir& dir,
                                            json hotkeys,
                                            std::optional<uint16_t> redis_port) {
  json cfg{{"node", {{"name", "bench"}, {"port", shoal::test::free_port()}}},
           {"http", {{"port", shoal::test::free_port()}}},
           {"log", {{"level", "warn"}}},
           {"hotkeys", hotkeys}};
  if (redis_port)
    cfg["redis"] = {{"port", *redis_port}, {"timeout_ms", 2000}};
  auto path = (dir / "bench.json").string();
  std::ofstream{path} << cfg.dump(2);
  std::string error;
  auto eng = shoal::engine::start_file(path, &error);
  if (!eng)
    throw std::runtime_error("engine: " + error);
  return eng;
}

std::vector<std::string> key_names(uint64_t n, const char* prefix) {
  std::vector<std::string> out;
  out.reserve(n);
  for (uint64_t i = 0; i < n; ++i)
    out.push_back(prefix + std::to_string(i));
  return out;
}

// Runs `body(thread_index, calls)` on `threads` threads; returns calls/s per thread.
template <class Body> double per_thread_rate(size_t threads, uint64_t calls, Body body) {
  std::atomic<size_t> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  std::vector<double> secs(threads);
  for (size_t t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load())
        std::this_thread::yield();
      auto start = bench_clock::now();
      body(t, calls);
      secs[t] = seconds_since(start);
    });
  while (ready.load() != threads)
    std::this_thread::yield();
  go = true;
  for (auto& th : pool)
    th.join();
  double sum = 0;
  for (auto s : secs)
    sum += static_cast<double>(calls) / s;
  return sum / static_cast<double>(threads);
}

json bench_record(const options& opt) {
  shoal::test::temp_dir dir{"hkbench-record"};
  auto eng = start_engine(
      dir,
      {{"flush_ms", 5}, {"rules", json::array({{{"key", "*"}, {"threshold", 1000000}}})}},
      std::nullopt);
  auto keys = key_names(opt.record_keys, "sku:");
  json out = json::object();
  if (!opt.json_only)
    std::printf("== record(): %llu calls per thread over %llu keys\n",
                static_cast<unsigned long long>(opt.record_calls),
                static_cast<unsigned long long>(opt.record_keys));
  for (size_t threads : {1, 2, 4}) {
    auto shoal_rate =
        per_thread_rate(threads, opt.record_calls, [&](size_t t, uint64_t n) {
          auto& hk = eng->hotkeys();
          for (uint64_t i = 0; i < n; ++i)
            hk.record(keys[(i * 7919 + t * 104729) % keys.size()]);
        });
    // The recorder alone, drained every 5 ms by a thread of its own: the cost of
    // the call without the shards' work competing for the same cores.
    shoal::hotkey::key_recorder alone;
    std::atomic<bool> stop_drain{false};
    std::thread drainer{[&] {
      while (!stop_drain.load()) {
        alone.drain();
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
      }
    }};
    auto alone_rate =
        per_thread_rate(threads, opt.record_calls, [&](size_t t, uint64_t n) {
          for (uint64_t i = 0; i < n; ++i)
            alone.record(keys[(i * 7919 + t * 104729) % keys.size()]);
        });
    stop_drain = true;
    drainer.join();
    std::mutex lock;
    std::unordered_map<std::string, uint64_t> counts;
    auto naive_rate =
        per_thread_rate(threads, opt.record_calls, [&](size_t t, uint64_t n) {
          for (uint64_t i = 0; i < n; ++i) {
            std::lock_guard<std::mutex> guard{lock};
            ++counts[keys[(i * 7919 + t * 104729) % keys.size()]];
          }
        });
    if (!opt.json_only)
      std::printf(
          "%zu thread(s): record() %12.0f calls/s/thread (recorder alone %12.0f), "
          "mutex map %12.0f calls/s/thread, ratio %.2fx (alone %.2fx)\n",
          threads, shoal_rate, alone_rate, naive_rate, shoal_rate / naive_rate,
          alone_rate / naive_rate);
    auto t = std::to_string(threads);
    out["record_per_thread_" + t + "t"] = shoal_rate;
    out["mutex_map_per_thread_" + t + "t"] = naive_rate;
    out["record_vs_mutex_ratio_" + t + "t"] = shoal_rate / naive_rate;
    out["recorder_alone_per_thread_" + t + "t"] = alone_rate;
    out["recorder_alone_vs_mutex_ratio_" + t + "t"] = alone_rate / naive_rate;
  }
  eng->stop();
  return out;
}

// One very hot key (index 0) takes hot_share of the reads; the rest follow Zipf 1.0
// over sale_keys keys.
std::vector<uint32_t> sale_trace(const options& opt) {
  shoal::hotkey::testing::zipf_trace zipf{opt.sale_keys, 1.0, 42};
  std::vector<uint32_t> trace(opt.sale_reads);
  std::mt19937_64 rng{7};
  std::uniform_real_distribution<double> coin{0, 1};
  for (auto& k : trace)
    k = coin(rng) < opt.hot_share ? 0 : static_cast<uint32_t>(zipf.next() - 1);
  return trace;
}

json bench_flash_sale(const options& opt) {
  shoal::test::redis_server redis;
  auto keys = key_names(opt.sale_keys, "item:");
  {
    auto conn = redis.connect();
    for (size_t i = 0; i < keys.size(); i += 1000) {
      std::vector<std::string> args{"MSET"};
      for (size_t j = i; j < std::min(keys.size(), i + 1000); ++j) {
        args.push_back(keys[j]);
        args.push_back("value-of-" + keys[j]);
      }
      std::vector<std::string_view> views(args.begin(), args.end());
      conn.command(views);
    }
  }
  auto trace = sale_trace(opt);
  shoal::test::temp_dir dir{"hkbench-sale"};
  auto eng = start_engine(dir,
                          {{"flush_ms", 5},
                           {"cache_max_entries", opt.cache_entries},
                           {"rules", json::array({{{"key", "*"},
                                                   {"threshold", 50},
                                                   {"window_ms", 1000},
                                                   {"duration_ms", 60000}}})}},
                          redis.port());
  auto rc = redis.connection_config();
  std::atomic<uint64_t> redis_reads{0};
  auto slice = trace.size() / opt.sale_threads;

  auto run = [&](bool through_cache) {
    auto start = bench_clock::now();
    std::vector<std::thread> pool;
    for (size_t t = 0; t < opt.sale_threads; ++t)
      pool.emplace_back([&, t] {
        auto conn = shoal::redis_connection::connect(rc);
        auto load = [&](const std::string& key) {
          redis_reads.fetch_add(1, std::memory_order_relaxed);
          auto r = conn->command({"GET", key});
          if (!r)
            throw std::runtime_error(r.error().to_string());
          return r->str;
        };
        for (size_t i = t * slice; i < (t + 1) * slice; ++i) {
          auto& key = keys[trace[i]];
          if (through_cache) {
            eng->hotkeys().record(key);
            eng->cache().get(key, load);
          } else {
            load(key);
          }
        }
      });
    for (auto& th : pool)
      th.join();
    return seconds_since(start);
  };

  auto cached_secs = run(true);
  auto with_cache = redis_reads.exchange(0);
  auto direct_secs = run(false);
  auto without_cache = redis_reads.exchange(0);
  auto total = slice * opt.sale_threads;
  auto hot_ratio = 1.0 - static_cast<double>(with_cache) / static_cast<double>(total);

  shoal::hotkey::lru_cache lru{
      shoal::hotkey::cache_limits{opt.cache_entries, 64u << 20, 1}};
  uint64_t lru_hits = 0;
  for (size_t i = 0; i < total; ++i) {
    auto& key = keys[trace[i]];
    if (lru.get(key, 0))
      ++lru_hits;
    else
      lru.put(key, "value-of-" + key, 0, 0);
  }
  auto lru_ratio = static_cast<double>(lru_hits) / static_cast<double>(total);
  eng->stop();

  json out{{"sale_reads", total},
           {"sale_redis_reads_with_hot_cache", with_cache},
           {"sale_redis_reads_without_hot_cache", without_cache},
           {"sale_redis_read_reduction",
            static_cast<double>(without_cache) /
                static_cast<double>(std::max<uint64_t>(1, with_cache))},
           {"sale_reads_per_s_with_hot_cache", static_cast<double>(total) / cached_secs},
           {"sale_reads_per_s_direct_redis", static_cast<double>(total) / direct_secs},
           {"sale_hot_cache_hit_ratio", hot_ratio},
           {"sale_lru_hit_ratio", lru_ratio},
           {"sale_cache_entries", opt.cache_entries}};
  if (!opt.json_only) {
    std::printf("\n== flash sale: %zu reads on %zu threads, %llu keys, hot key %.0f%% of "
                "reads, cache %zu entries\n",
                total, opt.sale_threads, static_cast<unsigned long long>(opt.sale_keys),
                opt.hot_share * 100, opt.cache_entries);
    std::printf("reads reaching Redis: with hot cache %llu, without %llu (%.1fx fewer)\n",
                static_cast<unsigned long long>(with_cache),
                static_cast<unsigned long long>(without_cache),
                out["sale_redis_read_reduction"].get<double>());
    std::printf("reads/s: through engine.cache() %.0f, straight to Redis %.0f\n",
                static_cast<double>(total) / cached_secs,
                static_cast<double>(total) / direct_secs);
    std::printf("hit ratio: hot cache %.4f, plain LRU of %zu entries %.4f (%+.4f)\n",
                hot_ratio, opt.cache_entries, lru_ratio, hot_ratio - lru_ratio);
  }
  return out;
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--full")) {
      opt.full = true;
      opt.record_calls = 20'000'000;
      opt.sale_reads = 2'000'000;
      opt.sale_keys = 1'000'000;
      opt.sale_threads = 8;
    } else if (!std::strcmp(argv[i], "--json")) {
      opt.json_only = true;
    } else {
      std::fprintf(stderr, "usage: hotkey_service_bench [--full] [--json]\n");
      return 2;
    }
  }
  try {
    auto out = bench_record(opt);
    out.update(bench_flash_sale(opt));
    std::printf("%s\n", out.dump().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hotkey_service_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
