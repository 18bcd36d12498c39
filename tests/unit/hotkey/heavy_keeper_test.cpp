#include "actors/hotkey/core/heavy_keeper.hpp"

#include <cstdint>
#include <map>
#include <random>

#include <gtest/gtest.h>

namespace shoal::hotkey {
namespace {

uint64_t hash_of(uint64_t i) {
  // Any well-mixed 64-bit value works as a key hash.
  i = (i ^ (i >> 33)) * 0xff51afd7ed558ccdull;
  i = (i ^ (i >> 33)) * 0xc4ceb9fe1a85ec53ull;
  return i ^ (i >> 33);
}

TEST(heavy_keeper, single_key_is_counted_exactly) {
  heavy_keeper hk{{64, 2, 1.08, 1}};
  for (int i = 0; i < 1000; ++i)
    hk.add(hash_of(7));
  EXPECT_EQ(hk.estimate(hash_of(7)), 1000u);
  EXPECT_EQ(hk.add(hash_of(7), 24), 1024u) << "weighted adds";
}

TEST(heavy_keeper, unseen_key_estimates_zero) {
  heavy_keeper hk{{64, 2, 1.08, 1}};
  hk.add(hash_of(1));
  EXPECT_EQ(hk.estimate(hash_of(2)), 0u);
}

TEST(heavy_keeper, small_count_is_replaced_after_decay) {
  // One bucket: a key with count 1 decays with probability 1/b per foreign add.
  heavy_keeper hk{{1, 1, 2.0, 3}};
  hk.add(hash_of(1));
  int adds = 0;
  while (hk.estimate(hash_of(1)) > 0 && adds < 1000) {
    hk.add(hash_of(2));
    ++adds;
  }
  EXPECT_EQ(hk.estimate(hash_of(1)), 0u);
  EXPECT_EQ(hk.estimate(hash_of(2)), 1u) << "newcomer takes the freed bucket";
  EXPECT_LT(adds, 1000);
}

TEST(heavy_keeper, large_count_practically_never_decays) {
  heavy_keeper hk{{1, 1, 1.08, 3}};
  hk.add(hash_of(1), 400); // 1.08^-400 ~ 4e-14: below the table's resolution
  for (int i = 0; i < 100000; ++i)
    hk.add(hash_of(1000 + i));
  EXPECT_EQ(hk.estimate(hash_of(1)), 400u);
}

TEST(heavy_keeper, decay_rate_follows_the_base) {
  // A resident count of c loses one with probability b^-c per foreign add: with b=2,
  // c=3, that is 1/8, so ~1000 decays in 8000 adds if the resident is topped up.
  heavy_keeper hk{{1, 1, 2.0, 11}};
  int decays = 0;
  for (int i = 0; i < 8000; ++i) {
    hk.add(hash_of(1), 3 - hk.estimate(hash_of(1)));
    hk.add(hash_of(2));
    if (hk.estimate(hash_of(1)) == 2)
      ++decays;
  }
  EXPECT_GT(decays, 850);
  EXPECT_LT(decays, 1150);
}

TEST(heavy_keeper, halve_ages_counts) {
  heavy_keeper hk{{64, 2, 1.08, 1}};
  hk.add(hash_of(5), 101);
  hk.halve();
  EXPECT_EQ(hk.estimate(hash_of(5)), 50u);
}

TEST(heavy_keeper, finds_heavy_keys_in_a_skewed_stream_without_overestimating) {
  heavy_keeper hk{{1024, 2, 1.08, 9}};
  std::mt19937_64 rng{42};
  std::map<uint64_t, uint32_t> truth;
  // 20 heavy keys of 2000 each hidden in 200k distinct one-off keys.
  std::vector<uint64_t> stream;
  for (uint64_t k = 0; k < 20; ++k)
    for (int i = 0; i < 2000; ++i)
      stream.push_back(k);
  for (uint64_t k = 1000; k < 201000; ++k)
    stream.push_back(k);
  std::shuffle(stream.begin(), stream.end(), rng);
  for (auto k : stream) {
    hk.add(hash_of(k));
    ++truth[k];
  }
  for (uint64_t k = 0; k < 20; ++k) {
    auto e = hk.estimate(hash_of(k));
    EXPECT_LE(e, 2000u) << k;
    EXPECT_GE(e, 1900u) << k;
  }
}

TEST(heavy_keeper, memory_is_fixed_by_config) {
  heavy_keeper hk{{4096, 2, 1.08, 1}};
  auto before = hk.memory_bytes();
  EXPECT_GE(before, 4096u * 2 * 8);
  for (uint64_t k = 0; k < 100000; ++k)
    hk.add(hash_of(k));
  EXPECT_EQ(hk.memory_bytes(), before);
}

} // namespace
} // namespace shoal::hotkey
