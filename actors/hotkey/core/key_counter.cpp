#include "actors/hotkey/core/key_counter.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <xxhash.h>

namespace shoal::hotkey {

namespace {

// Heap bytes of one allocation of `n` bytes, allocator rounding included.
constexpr size_t allocation(size_t n) noexcept {
  return (n + 15) / 16 * 16 + 16;
}

// Heap bytes of one unordered_map node holding a string_view -> uint32_t entry:
// next pointer, value, cached hash.
constexpr size_t index_node_bytes = allocation(
    sizeof(void*) + sizeof(std::pair<const std::string_view, uint32_t>) + sizeof(size_t));

key_counter_config clamp(key_counter_config c) {
  c.max_candidates = std::max<uint32_t>(c.max_candidates, 1);
  c.eviction_samples = std::max<uint32_t>(c.eviction_samples, 1);
  if (!(c.admit_fraction >= 0.0))
    c.admit_fraction = 0.0;
  c.window = sliding_window{c.window}.shape();
  return c;
}

} // namespace

key_counter::key_counter(key_counter_config config)
    : config_(clamp(config)), sketch_(config_.sketch),
      next_aging_ms_(std::numeric_limits<int64_t>::min()),
      latest_ms_(std::numeric_limits<int64_t>::min()),
      rng_(config_.sketch.seed * 0x9e3779b97f4a7c15ull | 1) {
  candidates_.reserve(config_.max_candidates);
  index_.reserve(config_.max_candidates);
}

key_observation key_counter::record(std::string_view key, uint64_t n, int64_t now_ms,
                                    uint64_t threshold) {
  threshold = std::max<uint64_t>(threshold, 1);
  if (now_ms > latest_ms_) {
    latest_ms_ = now_ms;
    if (next_aging_ms_ == std::numeric_limits<int64_t>::min()) {
      next_aging_ms_ = now_ms + config_.window.window_ms;
    } else if (now_ms >= next_aging_ms_) {
      sketch_.halve();
      next_aging_ms_ = now_ms + config_.window.window_ms;
    }
  }
  key_observation result;
  auto i = index_.find(key);
  if (i == index_.end()) {
    auto hash = XXH3_64bits(key.data(), key.size());
    auto weight = static_cast<uint32_t>(
        std::min<uint64_t>(n, std::numeric_limits<uint32_t>::max()));
    auto estimate = sketch_.add(hash, weight);
    auto admit_at = static_cast<double>(threshold) * config_.admit_fraction;
    if (static_cast<double>(estimate) < admit_at || !admit(key, hash, estimate, now_ms))
      return result;
    i = index_.find(key);
  } else {
    auto& c = candidates_[i->second];
    sketch_.add(c.hash, static_cast<uint32_t>(
                            std::min<uint64_t>(n, std::numeric_limits<uint32_t>::max())));
  }
  auto& c = candidates_[i->second];
  c.window.add(now_ms, n);
  result.candidate = true;
  result.count = c.window.total(now_ms);
  result.hot = result.count >= threshold;
  auto before = result.count - std::min(n, result.count);
  result.crossed = result.hot && before < threshold;
  return result;
}

uint64_t key_counter::strength(const candidate& c, int64_t now_ms) const {
  return std::max<uint64_t>(c.window.total(now_ms), sketch_.estimate(c.hash));
}

bool key_counter::admit(std::string_view key, uint64_t hash, uint32_t estimate,
                        int64_t now_ms) {
  if (key.size() > config_.max_key_bytes)
    return false;
  if (candidates_.size() >= config_.max_candidates) {
    uint32_t victim = 0;
    auto weakest = std::numeric_limits<uint64_t>::max();
    for (uint32_t s = 0; s < config_.eviction_samples; ++s) {
      rng_ ^= rng_ << 13;
      rng_ ^= rng_ >> 7;
      rng_ ^= rng_ << 17;
      auto pos = static_cast<uint32_t>(rng_ % candidates_.size());
      auto st = strength(candidates_[pos], now_ms);
      if (st < weakest) {
        weakest = st;
        victim = pos;
      }
    }
    if (weakest >= estimate)
      return false;
    remove_at(victim);
  }
  candidate c{std::unique_ptr<char[]>(new char[key.size() == 0 ? 1 : key.size()]),
              static_cast<uint32_t>(key.size()), hash, sliding_window{config_.window}};
  if (!key.empty())
    std::memcpy(c.key.get(), key.data(), key.size());
  auto pos = static_cast<uint32_t>(candidates_.size());
  candidates_.push_back(std::move(c));
  index_.emplace(std::string_view{candidates_.back().key.get(), key.size()}, pos);
  return true;
}

void key_counter::remove_at(uint32_t pos) {
  auto& gone = candidates_[pos];
  index_.erase(std::string_view{gone.key.get(), gone.key_size});
  auto last = static_cast<uint32_t>(candidates_.size() - 1);
  if (pos != last) {
    gone = std::move(candidates_[last]);
    index_[std::string_view{gone.key.get(), gone.key_size}] = pos;
  }
  candidates_.pop_back();
}

uint64_t key_counter::count(std::string_view key, int64_t now_ms) const {
  auto i = index_.find(key);
  return i == index_.end() ? 0 : candidates_[i->second].window.total(now_ms);
}

size_t key_counter::memory_bytes() const noexcept {
  auto bytes = sizeof(*this) + sketch_.memory_bytes() - sizeof(sketch_) +
               allocation(candidates_.capacity() * sizeof(candidate)) +
               allocation(index_.bucket_count() * sizeof(void*));
  for (auto& c : candidates_) {
    bytes += allocation(c.key_size == 0 ? 1 : c.key_size);
    bytes += allocation(config_.window.slices * sizeof(uint32_t));
    bytes += index_node_bytes;
  }
  return bytes;
}

size_t key_counter::memory_bound() const noexcept {
  size_t per_candidate = allocation(config_.max_key_bytes) +
                         allocation(config_.window.slices * sizeof(uint32_t)) +
                         index_node_bytes;
  // The index reserves buckets up front; allow for it rehashing to twice that.
  size_t buckets = std::max<size_t>(index_.bucket_count(), 1) * 2;
  return sizeof(*this) + sketch_.memory_bytes() - sizeof(sketch_) + 3 * 16 +
         allocation(config_.max_candidates * sizeof(candidate)) +
         allocation(buckets * sizeof(void*)) +
         size_t{config_.max_candidates} * per_candidate;
}

} // namespace shoal::hotkey
