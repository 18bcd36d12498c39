// The one retry backoff: doubling steps up to the cap, equal jitter inside each
// step, reset after a success, and a reproducible sequence under a fixed seed.

#include "runtime/base/backoff.hpp"

#include <random>

#include <gtest/gtest.h>

namespace shoal {
namespace {

using std::chrono::milliseconds;

TEST(backoff, each_delay_lies_in_the_upper_half_of_a_doubling_step_capped_at_max) {
  backoff b{milliseconds{100}, milliseconds{1000}, 7};
  const int64_t steps[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (auto step : steps) {
    auto d = b.next().count();
    EXPECT_GE(d, step - step / 2) << "step " << step;
    EXPECT_LE(d, step) << "step " << step;
  }
  EXPECT_EQ(b.failures(), 7);
}

TEST(backoff, reset_starts_again_from_the_initial_step) {
  backoff b{milliseconds{100}, milliseconds{1000}, 7};
  for (int i = 0; i < 5; ++i)
    b.next();
  b.reset();
  EXPECT_EQ(b.failures(), 0);
  EXPECT_LE(b.next().count(), 100);
}

TEST(backoff, the_jitter_spreads_peers_that_failed_together) {
  backoff a{milliseconds{1000}, milliseconds{1000}, 1};
  backoff b{milliseconds{1000}, milliseconds{1000}, 2};
  int different = 0;
  for (int i = 0; i < 20; ++i)
    different += a.next() != b.next();
  EXPECT_GT(different, 10);
}

TEST(backoff_delay, is_reproducible_under_a_fixed_seed_and_zero_without_a_budget) {
  std::mt19937_64 r1{42}, r2{42};
  for (int n = 1; n < 10; ++n)
    EXPECT_EQ(backoff_delay(milliseconds{50}, milliseconds{400}, n, r1),
              backoff_delay(milliseconds{50}, milliseconds{400}, n, r2));
  EXPECT_EQ(backoff_delay(milliseconds{50}, milliseconds{0}, 3, r1), milliseconds{0});
  // A huge failure count stops doubling at the cap instead of overflowing.
  auto d = backoff_delay(milliseconds{50}, milliseconds{400}, 1'000'000, r1);
  EXPECT_GE(d.count(), 200);
  EXPECT_LE(d.count(), 400);
}

} // namespace
} // namespace shoal
