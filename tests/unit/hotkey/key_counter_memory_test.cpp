// 10M distinct keys through one key_counter: the heap it holds stays within its
// configured bound, and every key at 2x its threshold is still reported. This binary
// replaces the global operator new/delete to measure the real heap in use.
#include "actors/hotkey/core/key_counter.hpp"

#include <malloc.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <set>
#include <string>

#include <gtest/gtest.h>

// GCC sees free() of memory from a (replaced) operator new and warns; here that is
// exactly what the replacement does.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {

std::atomic<long long> live_bytes{0};
std::atomic<long long> peak_bytes{0};

} // namespace

void* operator new(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr)
    throw std::bad_alloc{};
  auto now = live_bytes += static_cast<long long>(malloc_usable_size(p));
  auto peak = peak_bytes.load();
  while (now > peak && !peak_bytes.compare_exchange_weak(peak, now)) {
  }
  return p;
}

void operator delete(void* p) noexcept {
  if (p == nullptr)
    return;
  live_bytes -= static_cast<long long>(malloc_usable_size(p));
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

namespace shoal::hotkey {
namespace {

TEST(key_counter_memory, ten_million_distinct_keys_stay_bounded_and_hot_keys_are_found) {
  constexpr int64_t window_ms = 1000;
  constexpr uint64_t threshold = 100;
  constexpr int hot_keys = 100;
  constexpr long long distinct = 10'000'000;
  constexpr long long per_ms = 1000; // cold records per millisecond of trace time
  // Each hot key gets 2 * threshold records per window, spread evenly.
  constexpr long long hot_every = per_ms * window_ms / (hot_keys * 2 * threshold);
  // Warm keys (0.6 * threshold per window each) outnumber the candidate slots six
  // to one, so candidates are full and churn while the hot keys must still win.
  constexpr int warm_keys = 3000;
  constexpr long long warm_every = per_ms * window_ms * 10 / (warm_keys * 6 * threshold);

  key_counter_config cfg;
  cfg.window = {window_ms, 10};
  cfg.max_candidates = 500;
  cfg.max_key_bytes = 64;
  cfg.sketch = {8192, 2, 1.08, 1};

  std::set<std::string> found;
  auto before = live_bytes.load();
  peak_bytes = before;
  {
    key_counter kc{cfg};
    auto bound = static_cast<long long>(kc.memory_bound());
    char key[32];
    int next_hot = 0;
    int next_warm = 0;
    for (long long i = 0; i < distinct; ++i) {
      auto now = i / per_ms;
      int len = std::snprintf(key, sizeof key, "cold:%lld", i);
      kc.record({key, static_cast<size_t>(len)}, 1, now, threshold);
      if (i % warm_every == 0) {
        len = std::snprintf(key, sizeof key, "warm:%d", next_warm);
        next_warm = (next_warm + 1) % warm_keys;
        EXPECT_FALSE(kc.record({key, static_cast<size_t>(len)}, 1, now, threshold).hot);
      }
      if (i % hot_every == 0) {
        len = std::snprintf(key, sizeof key, "hot:%d", next_hot);
        next_hot = (next_hot + 1) % hot_keys;
        if (kc.record({key, static_cast<size_t>(len)}, 1, now, threshold).crossed)
          found.emplace(key, static_cast<size_t>(len));
      }
    }
    auto peak = peak_bytes.load() - before;
    std::printf("key_counter heap: peak %lld bytes, bound %lld bytes, candidates %zu\n",
                peak, bound, kc.candidates());
    EXPECT_LE(peak, bound);
    EXPECT_LE(static_cast<long long>(kc.memory_bytes()), bound);
  }
  EXPECT_EQ(found.size(), static_cast<size_t>(hot_keys));
  found.clear();
  EXPECT_EQ(live_bytes.load(), before) << "everything is freed";
}

} // namespace
} // namespace shoal::hotkey
