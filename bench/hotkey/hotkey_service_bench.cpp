// hotkey_service_bench: the hot-key service as an application sees it, through an
// embedded shoal::engine, against the naive peer of each figure in the same run.
//
// 1. record(): engine.hotkeys().record(key) calls/s per thread with 1, 2 and 4 threads,
//    against an unordered_map<string, uint64_t> increment under one mutex.
// 2. Flash sale: T threads read a Zipf trace with one very hot key (a share of all
//    reads) through engine.cache().get(key, Redis GET) with a real redis-server behind
//    it; the same trace then reads Redis directly. Figures: reads reaching Redis with
//    and without the hot cache, reads/s of both, and the hot cache's hit ratio against
//    caches replaying the same reads with the same timing: the caches that may hold
//    only hot keys, as the hot cache does (its right peers, see sale_peers), and a
//    plain lru_cache of the same size, which caches every key.
//
//   hotkey_service_bench [--full] [--json]
// Quick mode (default) finishes in well under a minute; --full uses larger sizes.
// --json prints only one JSON line with every figure.
#include <algorithm>
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

#include "actors/hotkey/core/hot_cache.hpp"
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

/// The flash sale's rule: reads per window that make a key hot.
constexpr uint64_t sale_threshold = 50;
constexpr int64_t sale_window_ms = 1000;

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

/// The cached run of the flash sale as it happened: when each read was made, whether
/// the hot cache answered it, and how many keys were hot on the node at the end.
struct sale_timing {
  std::vector<int64_t> read_us;
  std::vector<uint8_t> hit;
  size_t detected_hot = 0;
};

// Why the hot cache's hit ratio is below a plain LRU's on this trace, and the right
// peers. By design the hot cache holds only keys whose count over the rule's window
// reached its threshold (50 reads per 1000 ms here), for as long as they stay hot
// (60 s, longer than the run, so the value TTL never expires a value here). On a Zipf
// background only the keys read faster than threshold/s ever qualify, and each of them
// is read `threshold` times before it does; an LRU also caches the warm keys below the
// threshold and every key from its second read. So a hot-only cache cannot reach an
// LRU's ratio here however fast it detects; the figures show where its misses go:
//   - reads of keys never truly hot (exact timestamps, same window and threshold);
//   - reads of hot keys up to their true crossing (the counting floor);
//   - reads after the true crossing (detection delay, first load, eviction).
// The right peers are caches under the same admission rule, replayed with the cached
// run's timing: the same W-TinyLFU cache fed by an exact counter with no delay (the
// ceiling of any hot-only cache), and fed at JD hotkey's 500 ms push ticks; and an LRU
// holding as many entries as there are truly hot keys (the memory the hot cache needs).
// The plain LRU of cache_entries stays as the reference it was. Measured (quick /
// --full): hot cache 0.5603 / 0.5478, exact-counter ceiling 0.5620 / 0.5489, JD 500 ms
// 0.5136 / 0.5435, LRU of one entry per truly hot key (84 / 107) 0.4915 / 0.4634,
// LRU of 1,000 entries 0.6543 / 0.5828; 93% / 98% of the hot cache's misses are reads
// of keys never truly hot. So the gap to the LRU is the warm keys it may not hold, not
// admission, detection delay or TTL: no change to the hot cache can close it without
// caching keys that are not hot.
json sale_peers(const options& opt, const std::vector<std::string>& keys,
                const std::vector<uint32_t>& trace, const sale_timing& run) {
  const uint64_t threshold = sale_threshold;
  const int64_t window_us = sale_window_ms * 1000;
  auto total = run.read_us.size();
  std::vector<size_t> order(total);
  for (size_t i = 0; i < total; ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return run.read_us[a] < run.read_us[b]; });
  auto start_us = total ? run.read_us[order.front()] : 0;
  // Each key's true crossing: the first read at which its reads in the last window
  // (timestamps, no slices) reached the threshold.
  std::unordered_map<uint32_t, std::vector<int64_t>> times;
  for (auto i : order)
    times[trace[i]].push_back(run.read_us[i]);
  std::unordered_map<uint32_t, int64_t> crossing;
  for (auto& [k, t] : times) {
    if (t.size() < threshold)
      continue;
    for (size_t i = 0, j = 0; i < t.size(); ++i) {
      while (t[i] - t[j] >= window_us)
        ++j;
      if (i - j + 1 >= threshold) {
        crossing[k] = t[i];
        break;
      }
    }
  }
  auto crossed_at = [&](size_t i) -> std::optional<int64_t> {
    auto c = crossing.find(trace[i]);
    return c == crossing.end() ? std::nullopt : std::optional<int64_t>{c->second};
  };
  // Where the hot cache's misses went, and its hits on the reads it may serve.
  uint64_t never_hot = 0, before = 0, after = 0, hot_reads = 0, hot_read_hits = 0;
  for (size_t i = 0; i < total; ++i) {
    auto c = crossed_at(i);
    bool servable = c && run.read_us[i] > *c;
    hot_reads += servable;
    hot_read_hits += servable && run.hit[i];
    if (run.hit[i])
      continue;
    if (!c)
      ++never_hot;
    else if (run.read_us[i] <= *c)
      ++before;
    else
      ++after;
  }
  // A cache that reads `key` through `cache` once `admitted(i)`, and misses before.
  auto replay = [&](auto& cache, auto admitted, std::vector<uint8_t>* hits) {
    uint64_t n = 0;
    for (auto i : order) {
      if (!admitted(i))
        continue;
      auto& key = keys[trace[i]];
      if (cache.get(key, 0)) {
        ++n;
        if (hits)
          (*hits)[i] = 1;
      } else {
        cache.put(key, "value-of-" + key, 0, 0);
      }
    }
    return static_cast<double>(n) / static_cast<double>(std::max<size_t>(total, 1));
  };
  auto limits = [&](size_t entries) {
    return shoal::hotkey::cache_limits{std::max<size_t>(entries, 1), 64u << 20, 1};
  };
  shoal::hotkey::hot_cache oracle{{limits(opt.cache_entries)}};
  auto oracle_ratio = replay(
      oracle,
      [&](size_t i) {
        auto c = crossed_at(i);
        return c && run.read_us[i] >= *c;
      },
      nullptr);
  // JD hotkey's clients push their counts every 500 ms: the detector sees a crossing
  // at the next push tick at the earliest.
  const int64_t tick_us = 500'000;
  shoal::hotkey::hot_cache jd{{limits(opt.cache_entries)}};
  auto jd_ratio = replay(
      jd,
      [&](size_t i) {
        auto c = crossed_at(i);
        if (!c)
          return false;
        auto seen = start_us + (*c - start_us + tick_us - 1) / tick_us * tick_us;
        return run.read_us[i] >= seen;
      },
      nullptr);
  std::vector<uint8_t> lru_hit(total);
  shoal::hotkey::lru_cache lru{limits(opt.cache_entries)};
  auto lru_ratio = replay(
      lru, [](size_t) { return true; }, &lru_hit);
  uint64_t lru_hot_hits = 0;
  for (size_t i = 0; i < total; ++i) {
    auto c = crossed_at(i);
    lru_hot_hits += c && run.read_us[i] > *c && lru_hit[i];
  }
  shoal::hotkey::lru_cache lru_small{limits(crossing.size())};
  auto lru_small_ratio = replay(
      lru_small, [](size_t) { return true; }, nullptr);
  auto share = [&](uint64_t n, uint64_t of) {
    return static_cast<double>(n) / static_cast<double>(std::max<uint64_t>(of, 1));
  };
  return json{{"sale_lru_hit_ratio", lru_ratio},
              {"sale_threshold", threshold},
              {"sale_hot_keys_true", crossing.size()},
              {"sale_hot_keys_detected", run.detected_hot},
              {"sale_hot_cache_misses_never_hot", never_hot},
              {"sale_hot_cache_misses_before_crossing", before},
              {"sale_hot_cache_misses_after_crossing", after},
              {"sale_hot_read_share", share(hot_reads, total)},
              {"sale_hot_cache_hit_ratio_on_hot_reads", share(hot_read_hits, hot_reads)},
              {"sale_lru_hit_ratio_on_hot_reads", share(lru_hot_hits, hot_reads)},
              {"sale_exact_hot_only_hit_ratio", oracle_ratio},
              {"sale_jd_500ms_hot_only_hit_ratio", jd_ratio},
              {"sale_lru_hot_entries", std::max<size_t>(crossing.size(), 1)},
              {"sale_lru_hot_entries_hit_ratio", lru_small_ratio}};
}

void print_sale_peers(const options& opt, double hot_ratio, const json& p) {
  auto total =
      static_cast<double>(p["sale_hot_cache_misses_never_hot"].get<uint64_t>() +
                          p["sale_hot_cache_misses_before_crossing"].get<uint64_t>() +
                          p["sale_hot_cache_misses_after_crossing"].get<uint64_t>());
  auto pct = [&](const char* k) {
    return 100.0 * static_cast<double>(p[k].get<uint64_t>()) / std::max(total, 1.0);
  };
  std::printf("hot cache misses: %.1f%% keys never truly hot (not cacheable by design), "
              "%.1f%% reads up to the true crossing (counting floor: threshold %llu), "
              "%.1f%% after it (detection delay, first load, eviction)\n",
              pct("sale_hot_cache_misses_never_hot"),
              pct("sale_hot_cache_misses_before_crossing"),
              static_cast<unsigned long long>(p["sale_threshold"].get<uint64_t>()),
              pct("sale_hot_cache_misses_after_crossing"));
  std::printf("truly hot keys %zu (detected %zu); reads after a key's true crossing: "
              "%.4f of all, hit ratio on them: hot cache %.4f, LRU %.4f\n",
              p["sale_hot_keys_true"].get<size_t>(),
              p["sale_hot_keys_detected"].get<size_t>(),
              p["sale_hot_read_share"].get<double>(),
              p["sale_hot_cache_hit_ratio_on_hot_reads"].get<double>(),
              p["sale_lru_hit_ratio_on_hot_reads"].get<double>());
  std::printf("hot-only peers, same timing: exact counter + same cache %.4f (ceiling), "
              "JD 500 ms push ticks %.4f; hot cache %.4f; LRU of %zu entries (one per "
              "truly hot key) %.4f; LRU of %zu entries %.4f\n",
              p["sale_exact_hot_only_hit_ratio"].get<double>(),
              p["sale_jd_500ms_hot_only_hit_ratio"].get<double>(), hot_ratio,
              p["sale_lru_hot_entries"].get<size_t>(),
              p["sale_lru_hot_entries_hit_ratio"].get<double>(), opt.cache_entries,
              p["sale_lru_hit_ratio"].get<double>());
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
                                                   {"threshold", sale_threshold},
                                                   {"window_ms", sale_window_ms},
                                                   {"duration_ms", 60000}}})}},
                          redis.port());
  auto rc = redis.connection_config();
  std::atomic<uint64_t> redis_reads{0};
  auto slice = trace.size() / opt.sale_threads;
  // Steady µs of each read of the cached run, and whether the hot cache answered it:
  // the peers below replay the trace with the same timing.
  std::vector<int64_t> read_us(trace.size());
  std::vector<uint8_t> read_hit(trace.size());

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
            read_us[i] = std::chrono::duration_cast<std::chrono::microseconds>(
                             bench_clock::now().time_since_epoch())
                             .count();
            eng->hotkeys().record(key);
            read_hit[i] = eng->cache().get(key, load).source ==
                          shoal::hotkey::read_source::hot_cache;
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
  // Before the direct run: a --full one outlasts the keys' 60 s of hotness.
  auto detected_hot = eng->hotkeys().hot_keys().size();
  auto with_cache = redis_reads.exchange(0);
  auto direct_secs = run(false);
  auto without_cache = redis_reads.exchange(0);
  auto total = slice * opt.sale_threads;
  auto hot_ratio = 1.0 - static_cast<double>(with_cache) / static_cast<double>(total);

  sale_timing timing{std::vector<int64_t>(read_us.begin(), read_us.begin() + total),
                     std::vector<uint8_t>(read_hit.begin(), read_hit.begin() + total),
                     detected_hot};
  eng->stop();
  auto peers = sale_peers(opt, keys, trace, timing);
  auto lru_ratio = peers["sale_lru_hit_ratio"].get<double>();

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
  out.update(peers);
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
    print_sale_peers(opt, hot_ratio, peers);
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
