#include "actors/hotkey/core/heavy_keeper.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace shoal::hotkey {

namespace {

uint64_t mix(uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint32_t fingerprint_of(uint64_t key_hash) noexcept {
  return static_cast<uint32_t>(key_hash >> 32);
}

} // namespace

heavy_keeper::heavy_keeper(heavy_keeper_config config)
    : width_(std::max<uint32_t>(config.width, 1)),
      depth_(std::max<uint32_t>(config.depth, 1)),
      buckets_(static_cast<size_t>(width_) * depth_, bucket{0, 0}),
      rng_(mix(config.seed) | 1) {
  auto base = config.decay_base > 1.0 ? config.decay_base : 1.08;
  constexpr double scale = 4294967296.0;
  for (uint32_t c = 0;; ++c) {
    auto p = std::pow(base, -static_cast<double>(c)) * scale;
    if (p < 1.0)
      break;
    decay_threshold_.push_back(static_cast<uint32_t>(std::min(p, scale - 1.0)));
  }
}

size_t heavy_keeper::index_of(uint64_t key_hash, uint32_t row) const noexcept {
  auto h = mix(key_hash + row * 0xd6e8feb86659fd93ull);
  return static_cast<size_t>(row) * width_ + static_cast<size_t>(h % width_);
}

bool heavy_keeper::decays(uint32_t count) noexcept {
  if (count >= decay_threshold_.size())
    return false;
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return static_cast<uint32_t>(rng_ >> 32) < decay_threshold_[count];
}

uint32_t heavy_keeper::add(uint64_t key_hash, uint32_t n) {
  auto fp = fingerprint_of(key_hash);
  uint32_t best = 0;
  constexpr uint64_t max = std::numeric_limits<uint32_t>::max();
  for (uint32_t row = 0; row < depth_; ++row) {
    auto& b = buckets_[index_of(key_hash, row)];
    if (b.count > 0 && b.fingerprint != fp) {
      for (uint32_t left = n; left > 0 && b.count < decay_threshold_.size(); --left) {
        if (decays(b.count) && --b.count == 0) {
          b.fingerprint = fp;
          b.count = left;
          break;
        }
      }
    } else if (b.count == 0) {
      b.fingerprint = fp;
      b.count = n;
    } else {
      b.count = static_cast<uint32_t>(std::min<uint64_t>(max, uint64_t{b.count} + n));
    }
    if (b.fingerprint == fp)
      best = std::max(best, b.count);
  }
  return best;
}

uint32_t heavy_keeper::estimate(uint64_t key_hash) const {
  auto fp = fingerprint_of(key_hash);
  uint32_t best = 0;
  for (uint32_t row = 0; row < depth_; ++row) {
    auto& b = buckets_[index_of(key_hash, row)];
    if (b.count > 0 && b.fingerprint == fp)
      best = std::max(best, b.count);
  }
  return best;
}

void heavy_keeper::halve() noexcept {
  for (auto& b : buckets_)
    b.count >>= 1;
}

void heavy_keeper::clear() noexcept {
  for (auto& b : buckets_)
    b = bucket{0, 0};
}

size_t heavy_keeper::memory_bytes() const noexcept {
  return sizeof(*this) + buckets_.capacity() * sizeof(bucket) +
         decay_threshold_.capacity() * sizeof(uint32_t);
}

} // namespace shoal::hotkey
