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
  c.generations = std::clamp<uint32_t>(c.generations, 2, 16);
  if (!(c.admit_fraction >= 0.0))
    c.admit_fraction = 0.0;
  c.window = sliding_window{c.window}.shape();
  return c;
}

} // namespace

key_counter::key_counter(key_counter_config config)
    : config_(clamp(config)),
      starts_(config_.generations, std::numeric_limits<int64_t>::min()),
      next_rotation_ms_(std::numeric_limits<int64_t>::min()),
      latest_ms_(std::numeric_limits<int64_t>::min()),
      rng_(config_.sketch.seed * 0x9e3779b97f4a7c15ull | 1) {
  // Built in place: a copied sketch would hold a second table at the peak.
  sketches_.reserve(config_.generations);
  for (uint32_t g = 0; g < config_.generations; ++g)
    sketches_.emplace_back(config_.sketch);
  candidates_.reserve(config_.max_candidates);
  index_.reserve(config_.max_candidates);
}

void key_counter::rotate(int64_t now_ms) {
  current_ = (current_ + 1) % sketches_.size();
  sketches_[current_].clear();
  starts_[current_] = now_ms;
  next_rotation_ms_ =
      now_ms + std::max<int64_t>(1, config_.window.window_ms /
                                        static_cast<int64_t>(sketches_.size()));
}

bool key_counter::in_window(size_t g, int64_t now_ms) const noexcept {
  // Its counts happened at its start or later: inside the window until then +
  // window_ms (a rotation late after a lull can leave a generation older).
  return starts_[g] != std::numeric_limits<int64_t>::min() &&
         now_ms - starts_[g] < config_.window.window_ms;
}

uint64_t key_counter::estimate(uint64_t hash, uint64_t current, int64_t now_ms) const {
  for (size_t g = 0; g < sketches_.size(); ++g)
    if (g != current_ && in_window(g, now_ms))
      current += sketches_[g].estimate(hash);
  return current;
}

key_observation key_counter::record(std::string_view key, uint64_t n, int64_t now_ms,
                                    uint64_t threshold) {
  threshold = std::max<uint64_t>(threshold, 1);
  if (now_ms > latest_ms_) {
    latest_ms_ = now_ms;
    if (next_rotation_ms_ == std::numeric_limits<int64_t>::min() ||
        now_ms >= next_rotation_ms_)
      rotate(now_ms);
  }
  auto weight =
      static_cast<uint32_t>(std::min<uint64_t>(n, std::numeric_limits<uint32_t>::max()));
  key_observation result;
  bool admitted = false;
  auto i = index_.find(key);
  if (i == index_.end()) {
    auto hash = XXH3_64bits(key.data(), key.size());
    uint64_t current = sketches_[current_].add(hash, weight);
    auto total = estimate(hash, current, latest_ms_);
    auto admit_at = static_cast<double>(threshold) * config_.admit_fraction;
    if (static_cast<double>(total) < admit_at || !admit(key, hash, total, now_ms))
      return result;
    i = index_.find(key);
    // Seed the window with what each generation saw before this record, at the
    // generation's start, oldest first: those counts then leave the window no
    // later than the real accesses did, and the window never exceeds the true count.
    auto& seeded = candidates_[i->second].window;
    auto gens = sketches_.size();
    for (size_t k = 1; k < gens; ++k) {
      auto g = (current_ + k) % gens;
      if (in_window(g, latest_ms_))
        if (auto e = sketches_[g].estimate(hash); e > 0)
          seeded.add(starts_[g], e);
    }
    if (auto before = current - std::min<uint64_t>(weight, current); before > 0)
      seeded.add(starts_[current_], before);
    admitted = true;
  } else {
    sketches_[current_].add(candidates_[i->second].hash, weight);
  }
  auto& c = candidates_[i->second];
  c.window.add(now_ms, n);
  result.candidate = true;
  result.count = c.window.total(now_ms);
  result.hot = result.count >= threshold;
  auto before = result.count - std::min(n, result.count);
  // A key admitted hot (its seed alone reaches the threshold) crosses now: it had
  // no window to be hot in before.
  result.crossed = result.hot && (admitted || before < threshold);
  return result;
}

uint64_t key_counter::strength(const candidate& c, int64_t now_ms) const {
  return std::max<uint64_t>(
      c.window.total(now_ms),
      estimate(c.hash, sketches_[current_].estimate(c.hash), now_ms));
}

bool key_counter::admit(std::string_view key, uint64_t hash, uint64_t estimate,
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

size_t key_counter::sketch_heap() const noexcept {
  size_t bytes = 0;
  for (auto& k : sketches_)
    bytes += k.memory_bytes() - sizeof(k);
  return bytes;
}

size_t key_counter::memory_bytes() const noexcept {
  auto bytes = sizeof(*this) + sketch_heap() +
               allocation(sketches_.capacity() * sizeof(heavy_keeper)) +
               allocation(starts_.capacity() * sizeof(int64_t)) +
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
  return sizeof(*this) + sketch_heap() +
         allocation(sketches_.capacity() * sizeof(heavy_keeper)) +
         allocation(starts_.capacity() * sizeof(int64_t)) + sketches_.size() * 3 * 16 +
         allocation(config_.max_candidates * sizeof(candidate)) +
         allocation(buckets * sizeof(void*)) +
         size_t{config_.max_candidates} * per_candidate;
}

} // namespace shoal::hotkey
