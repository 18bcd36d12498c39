#include "actors/hotkey/core/frequency_sketch.hpp"

#include <gtest/gtest.h>

namespace shoal::hotkey {
namespace {

uint64_t hash_of(uint64_t i) {
  i = (i ^ (i >> 33)) * 0xff51afd7ed558ccdull;
  i = (i ^ (i >> 33)) * 0xc4ceb9fe1a85ec53ull;
  return i ^ (i >> 33);
}

TEST(frequency_sketch, first_sighting_goes_to_the_doorkeeper) {
  frequency_sketch f{1000};
  EXPECT_EQ(f.frequency(hash_of(1)), 0u);
  f.record(hash_of(1));
  EXPECT_EQ(f.frequency(hash_of(1)), 1u);
  f.record(hash_of(1));
  f.record(hash_of(1));
  EXPECT_EQ(f.frequency(hash_of(1)), 3u);
}

TEST(frequency_sketch, counts_saturate_at_sixteen) {
  frequency_sketch f{1000};
  for (int i = 0; i < 100; ++i)
    f.record(hash_of(1));
  EXPECT_EQ(f.frequency(hash_of(1)), 16u);
}

TEST(frequency_sketch, aging_halves_counts_and_clears_the_doorkeeper) {
  frequency_sketch f{64}; // width 64: ages after 640 sightings
  for (int i = 0; i < 11; ++i)
    f.record(hash_of(1)); // doorkeeper + 10
  EXPECT_EQ(f.frequency(hash_of(1)), 11u);
  for (uint64_t k = 100; k < 100 + 629; ++k)
    f.record(hash_of(k)); // the 640th sighting triggers aging
  EXPECT_EQ(f.frequency(hash_of(1)), 5u) << "10 / 2, doorkeeper cleared";
}

TEST(frequency_sketch, frequent_keys_rank_above_rare_ones) {
  frequency_sketch f{4096};
  for (int round = 0; round < 8; ++round)
    for (uint64_t k = 0; k < 100; ++k)
      f.record(hash_of(k));
  for (uint64_t k = 1000; k < 5000; ++k)
    f.record(hash_of(k));
  int wrong = 0;
  for (uint64_t k = 0; k < 100; ++k)
    wrong += f.frequency(hash_of(k)) <= f.frequency(hash_of(1000 + k));
  EXPECT_EQ(wrong, 0);
}

} // namespace
} // namespace shoal::hotkey
