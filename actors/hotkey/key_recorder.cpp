#include "actors/hotkey/key_recorder.hpp"

#include <algorithm>
#include <functional>
#include <thread>

namespace shoal::hotkey {

namespace {

constexpr size_t stripe_count = 64;

size_t thread_slot() {
  thread_local const size_t slot = std::hash<std::thread::id>{}(std::this_thread::get_id()) *
                                   0x9E3779B97F4A7C15ull >> 32;
  return slot;
}

} // namespace

key_recorder::key_recorder(size_t max_keys)
  : per_stripe_(std::max<size_t>(1, max_keys / stripe_count)) {
  stripes_.reserve(stripe_count);
  for (size_t i = 0; i < stripe_count; ++i)
    stripes_.push_back(std::make_unique<stripe>());
}

key_recorder::stripe& key_recorder::mine() {
  return *stripes_[thread_slot() & (stripe_count - 1)];
}

void key_recorder::record(std::string_view key, uint64_t n) {
  auto& s = mine();
  std::lock_guard<std::mutex> guard{s.lock};
  auto i = s.counts.find(std::string{key});
  if (i != s.counts.end()) {
    i->second += n;
  } else if (s.counts.size() < per_stripe_) {
    s.counts.emplace(std::string{key}, n);
  } else {
    s.dropped += n;
    return;
  }
  s.recorded += n;
}

uint64_t key_recorder::recorded() const {
  uint64_t total = 0;
  for (auto& s : stripes_) {
    std::lock_guard<std::mutex> guard{s->lock};
    total += s->recorded;
  }
  return total;
}

uint64_t key_recorder::dropped() const {
  uint64_t total = 0;
  for (auto& s : stripes_) {
    std::lock_guard<std::mutex> guard{s->lock};
    total += s->dropped;
  }
  return total;
}

std::vector<std::pair<std::string, uint64_t>> key_recorder::drain() {
  std::unordered_map<std::string, uint64_t> merged;
  for (auto& s : stripes_) {
    std::unordered_map<std::string, uint64_t> taken;
    {
      std::lock_guard<std::mutex> guard{s->lock};
      if (s->counts.empty())
        continue;
      taken.swap(s->counts);
    }
    if (merged.empty()) {
      merged.swap(taken);
      continue;
    }
    for (auto& [key, n] : taken)
      merged[key] += n;
  }
  return {std::make_move_iterator(merged.begin()), std::make_move_iterator(merged.end())};
}

} // namespace shoal::hotkey
