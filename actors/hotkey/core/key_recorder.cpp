#include "actors/hotkey/core/key_recorder.hpp"

#include <algorithm>
#include <functional>
#include <thread>

namespace shoal::hotkey {

namespace {

constexpr size_t stripe_count = 64;

size_t thread_slot() {
  thread_local const size_t slot =
      std::hash<std::thread::id>{}(std::this_thread::get_id()) * 0x9E3779B97F4A7C15ull >>
      32;
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
  // Debian's abseil has its own string_view type.
  auto i = s.counts.find(absl::string_view{key.data(), key.size()});
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
  absl::flat_hash_map<std::string, uint64_t> merged;
  for (auto& s : stripes_) {
    std::lock_guard<std::mutex> guard{s->lock};
    for (auto i = s->counts.begin(); i != s->counts.end();) {
      if (i->second == 0) {
        // Idle for a whole flush: make room for other keys.
        s->counts.erase(i++);
        continue;
      }
      merged[i->first] += i->second;
      i->second = 0;
      ++i;
    }
    // Nearly full (a flood of distinct keys): start empty, so that new keys are
    // not dropped for a whole flush behind keys that may never come back.
    if (s->counts.size() * 4 >= per_stripe_ * 3)
      s->counts.clear();
  }
  std::vector<std::pair<std::string, uint64_t>> out;
  out.reserve(merged.size());
  for (auto& [key, n] : merged)
    out.emplace_back(key, n);
  return out;
}

} // namespace shoal::hotkey
