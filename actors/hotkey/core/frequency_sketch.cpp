#include "actors/hotkey/core/frequency_sketch.hpp"

#include <algorithm>

namespace shoal::hotkey {

namespace {

constexpr uint64_t row_seed[4] = {0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full,
                                  0x165667b19e3779f9ull, 0xd6e8feb86659fd93ull};

uint64_t rehash(uint64_t h, uint64_t seed) noexcept {
  h = (h ^ seed) * 0xff51afd7ed558ccdull;
  return h ^ (h >> 32);
}

} // namespace

frequency_sketch::frequency_sketch(size_t capacity) {
  width_ = 64;
  while (width_ < capacity)
    width_ <<= 1;
  counters_.assign(width_ * 4, 0);
  door_.assign(width_ * 8 / 64, 0);
  sample_size_ = width_ * 10;
}

bool frequency_sketch::door_contains(uint64_t key_hash) const noexcept {
  auto bits = width_ * 8;
  auto a = rehash(key_hash, row_seed[0] ^ row_seed[2]) & (bits - 1);
  auto b = rehash(key_hash, row_seed[1] ^ row_seed[3]) & (bits - 1);
  return (door_[a / 64] >> (a % 64) & 1) && (door_[b / 64] >> (b % 64) & 1);
}

void frequency_sketch::record(uint64_t key_hash) {
  if (!door_contains(key_hash)) {
    auto bits = width_ * 8;
    auto a = rehash(key_hash, row_seed[0] ^ row_seed[2]) & (bits - 1);
    auto b = rehash(key_hash, row_seed[1] ^ row_seed[3]) & (bits - 1);
    door_[a / 64] |= uint64_t{1} << (a % 64);
    door_[b / 64] |= uint64_t{1} << (b % 64);
  } else {
    // Conservative update: only the smallest counters grow.
    uint8_t* cell[4];
    uint8_t low = 15;
    for (size_t r = 0; r < 4; ++r) {
      cell[r] = &counters_[r * width_ + (rehash(key_hash, row_seed[r]) & (width_ - 1))];
      low = std::min(low, *cell[r]);
    }
    if (low < 15)
      for (auto* c : cell)
        if (*c == low)
          ++*c;
  }
  if (++additions_ >= sample_size_)
    age();
}

uint32_t frequency_sketch::frequency(uint64_t key_hash) const {
  uint32_t low = 15;
  for (size_t r = 0; r < 4; ++r)
    low = std::min<uint32_t>(
        low, counters_[r * width_ + (rehash(key_hash, row_seed[r]) & (width_ - 1))]);
  return low + (door_contains(key_hash) ? 1 : 0);
}

void frequency_sketch::age() {
  for (auto& c : counters_)
    c >>= 1;
  std::fill(door_.begin(), door_.end(), 0);
  additions_ /= 2;
}

size_t frequency_sketch::memory_bytes() const noexcept {
  return sizeof(*this) + counters_.capacity() + door_.capacity() * sizeof(uint64_t);
}

} // namespace shoal::hotkey
