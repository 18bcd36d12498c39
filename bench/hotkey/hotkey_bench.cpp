// hotkey_bench: shoal's hot-key pieces against their peers, in one run, on the same
// traces.
//
// 1. Shard ingestion: key_counter (HeavyKeeper candidates + exact windows, bounded
//    memory) against an exact unordered_map<string, sliding_window> counter (JD
//    hotkey's worker), both fed the same Zipf trace: keys/s, heap held, and the
//    precision/recall of key_counter's detections against the exact counter's.
// 2. Cache hit ratio: hot_cache (W-TinyLFU) against lru_cache of equal size, on Zipf
//    0.9 and 1.1 read traces (a miss loads and puts).
//
// Heap is measured by replacing operator new/delete in this binary.
//
//   hotkey_bench [--keys N] [--records N] [--skew S] [--threshold T]
#include <algorithm>
#include <malloc.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "actors/hotkey/core/hot_cache.hpp"
#include "actors/hotkey/core/key_counter.hpp"
#include "actors/hotkey/core/sliding_window.hpp"
#include "bench/hotkey/lru_cache.hpp"
#include "tests/unit/hotkey/zipf_trace.hpp"

#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {

std::atomic<long long> live_bytes{0};

} // namespace

void* operator new(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr)
    throw std::bad_alloc{};
  live_bytes.fetch_add(static_cast<long long>(malloc_usable_size(p)),
                       std::memory_order_relaxed);
  return p;
}

void operator delete(void* p) noexcept {
  if (p == nullptr)
    return;
  live_bytes.fetch_sub(static_cast<long long>(malloc_usable_size(p)),
                       std::memory_order_relaxed);
  std::free(p);
}

void operator delete(void* p, std::size_t) noexcept {
  operator delete(p);
}

void* operator new[](std::size_t n) {
  return operator new(n);
}

void operator delete[](void* p) noexcept {
  operator delete(p);
}

void operator delete[](void* p, std::size_t) noexcept {
  operator delete(p);
}

namespace {

using namespace shoal::hotkey;
using bench_clock = std::chrono::steady_clock;

struct options {
  uint64_t keys = 1'000'000;
  uint64_t records = 10'000'000;
  double skew = 1.0;
  uint64_t threshold = 1000;
  int64_t records_per_ms = 1000; // trace time: 1M records per second
};

double seconds_since(bench_clock::time_point start) {
  return std::chrono::duration<double>(bench_clock::now() - start).count();
}

double mib(long long bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

void ingestion(const options& opt) {
  std::vector<std::string> names(opt.keys);
  for (uint64_t k = 0; k < opt.keys; ++k)
    names[k] = "sku:" + std::to_string(k + 1);
  std::vector<uint32_t> trace(opt.records);
  testing::zipf_trace zipf{opt.keys, opt.skew, 42};
  for (auto& r : trace)
    r = static_cast<uint32_t>(zipf.next() - 1);
  window_shape shape{1000, 10};
  std::printf("== shard ingestion: %llu records, %llu distinct keys, zipf %.2f, "
              "window 1000 ms / 10 slices, threshold %llu ==\n",
              static_cast<unsigned long long>(opt.records),
              static_cast<unsigned long long>(opt.keys), opt.skew,
              static_cast<unsigned long long>(opt.threshold));

  // Trace time (ms) of each key's first crossing, per counter.
  std::unordered_map<std::string, int64_t> sketch_hot;
  double sketch_rate = 0;
  long long sketch_heap = 0;
  {
    key_counter_config cfg;
    cfg.window = shape;
    cfg.max_candidates = 10000;
    cfg.sketch = {8192, 2, 1.08, 1};
    auto before = live_bytes.load();
    key_counter counter{cfg};
    auto start = bench_clock::now();
    for (uint64_t i = 0; i < trace.size(); ++i) {
      auto& key = names[trace[i]];
      auto now = static_cast<int64_t>(i) / opt.records_per_ms;
      if (counter.record(key, 1, now, opt.threshold).crossed)
        sketch_hot.emplace(key, now);
    }
    auto took = seconds_since(start);
    sketch_rate = static_cast<double>(trace.size()) / took;
    // Detections kept in sketch_hot are not counter memory: measured before them.
    sketch_heap = live_bytes.load() - before;
    for (auto& [k, _] : sketch_hot)
      sketch_heap -= static_cast<long long>(sizeof(k) + k.capacity() + 40);
    std::printf("key_counter:    %12.0f keys/s  heap %8.2f MiB (bound %.2f MiB)  "
                "candidates %zu\n",
                sketch_rate, mib(sketch_heap),
                mib(static_cast<long long>(counter.memory_bound())),
                counter.candidates());
  }

  std::unordered_map<std::string, int64_t> exact_hot;
  double exact_rate = 0;
  long long exact_heap = 0;
  {
    auto before = live_bytes.load();
    std::unordered_map<std::string, sliding_window> exact;
    auto start = bench_clock::now();
    for (uint64_t i = 0; i < trace.size(); ++i) {
      auto& key = names[trace[i]];
      auto now = static_cast<int64_t>(i) / opt.records_per_ms;
      auto it = exact.find(key);
      if (it == exact.end())
        it = exact.emplace(key, sliding_window{shape}).first;
      it->second.add(now, 1);
      auto total = it->second.total(now);
      if (total >= opt.threshold && total - 1 < opt.threshold)
        exact_hot.emplace(key, now);
    }
    auto took = seconds_since(start);
    exact_rate = static_cast<double>(trace.size()) / took;
    exact_heap = live_bytes.load() - before;
    for (auto& [k, _] : exact_hot)
      exact_heap -= static_cast<long long>(sizeof(k) + k.capacity() + 40);
    std::printf("exact map:      %12.0f keys/s  heap %8.2f MiB  keys %zu\n", exact_rate,
                mib(exact_heap), exact.size());
  }
  size_t both = 0;
  // How much later than the exact counter key_counter reported each key both found,
  // in trace ms (the exact counter's first crossing is the true one).
  std::vector<int64_t> late;
  for (auto& [k, at] : sketch_hot)
    if (auto e = exact_hot.find(k); e != exact_hot.end()) {
      ++both;
      late.push_back(at - e->second);
    }
  std::sort(late.begin(), late.end());
  auto pct = [&](double q) {
    return late.empty() ? 0
                        : late[std::min(
                              late.size() - 1,
                              static_cast<size_t>(q * static_cast<double>(late.size())))];
  };
  std::printf("ratio key_counter/exact: speed %.2fx, heap %.3fx\n",
              sketch_rate / exact_rate,
              static_cast<double>(sketch_heap) / static_cast<double>(exact_heap));
  std::printf("detections: exact %zu, key_counter %zu, precision %.4f, recall %.4f\n",
              exact_hot.size(), sketch_hot.size(),
              sketch_hot.empty() ? 1.0 : static_cast<double>(both) / sketch_hot.size(),
              exact_hot.empty() ? 1.0 : static_cast<double>(both) / exact_hot.size());
  std::printf(
      "reported after the exact crossing (trace ms): p50 %lld, p99 %lld, max %lld "
      "(one slice = 100 ms)\n\n",
      static_cast<long long>(pct(0.5)), static_cast<long long>(pct(0.99)),
      static_cast<long long>(late.empty() ? 0 : late.back()));
}

template <class Cache>
std::pair<double, double> replay(Cache& cache, const std::vector<std::string>& names,
                                 const std::vector<uint32_t>& trace) {
  auto start = bench_clock::now();
  for (auto r : trace) {
    auto& key = names[r];
    if (!cache.get(key, 0))
      cache.put(key, "value-of-" + key, 0, 0);
  }
  auto took = seconds_since(start);
  return {cache.stats().hit_ratio(), static_cast<double>(trace.size()) / took};
}

void hit_ratio(const options& opt) {
  const uint64_t keys = opt.keys;
  const uint64_t accesses = 4'000'000;
  std::vector<std::string> names(keys);
  for (uint64_t k = 0; k < keys; ++k)
    names[k] = "sku:" + std::to_string(k + 1);
  std::printf(
      "== cache hit ratio: %llu accesses over %llu keys, 1 shard, miss = load + put ==\n",
      static_cast<unsigned long long>(accesses), static_cast<unsigned long long>(keys));
  std::printf("%6s %10s %12s %12s %10s %14s %14s\n", "skew", "entries", "W-TinyLFU",
              "LRU", "diff", "TinyLFU ops/s", "LRU ops/s");
  for (double skew : {0.9, 1.1}) {
    std::vector<uint32_t> trace(accesses);
    testing::zipf_trace zipf{keys, skew, 7};
    for (auto& r : trace)
      r = static_cast<uint32_t>(zipf.next() - 1);
    for (size_t entries : {1000u, 10000u, 100000u}) {
      hot_cache tiny{{{entries, size_t{1} << 40, 1}}};
      lru_cache lru{{entries, size_t{1} << 40, 1}};
      auto [tiny_ratio, tiny_ops] = replay(tiny, names, trace);
      auto [lru_ratio, lru_ops] = replay(lru, names, trace);
      std::printf("%6.1f %10zu %12.4f %12.4f %+10.4f %14.0f %14.0f\n", skew, entries,
                  tiny_ratio, lru_ratio, tiny_ratio - lru_ratio, tiny_ops, lru_ops);
    }
  }
}

bool parse(int argc, char** argv, options& opt) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    char* end = nullptr;
    if (flag == "--keys")
      opt.keys = std::strtoull(argv[i + 1], &end, 10);
    else if (flag == "--records")
      opt.records = std::strtoull(argv[i + 1], &end, 10);
    else if (flag == "--skew")
      opt.skew = std::strtod(argv[i + 1], &end);
    else if (flag == "--threshold")
      opt.threshold = std::strtoull(argv[i + 1], &end, 10);
    else
      return false;
    if (end == nullptr || *end != '\0')
      return false;
  }
  return argc % 2 == 1 && opt.keys >= 1 && opt.records >= 1 && opt.skew > 0 &&
         opt.threshold >= 1;
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  if (!parse(argc, argv, opt)) {
    std::fprintf(
        stderr,
        "usage: hotkey_bench [--keys N] [--records N] [--skew S] [--threshold T]\n");
    return 2;
  }
  ingestion(opt);
  hit_ratio(opt);
  return 0;
}
