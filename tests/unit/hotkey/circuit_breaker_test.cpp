#include "actors/hotkey/core/circuit_breaker.hpp"

#include <gtest/gtest.h>

namespace shoal::hotkey {
namespace {

circuit_breaker_config config() {
  circuit_breaker_config c;
  c.error_ratio = 0.5;
  c.slow_call_ratio = 0.8;
  c.slow_call_ms = 100;
  c.minimum_calls = 4;
  c.window = {1000, 10};
  c.open_ms = 500;
  c.half_open_probes = 2;
  return c;
}

void call(circuit_breaker& b, int64_t now, bool ok, int64_t took = 1) {
  ASSERT_TRUE(b.try_acquire(now));
  b.on_result(now, took, ok);
}

TEST(circuit_breaker, stays_closed_below_minimum_calls) {
  circuit_breaker b{config()};
  for (int i = 0; i < 3; ++i)
    call(b, i, false);
  EXPECT_EQ(b.state(), breaker_state::closed) << "3 errors of 3, but minimum is 4";
  call(b, 3, false);
  EXPECT_EQ(b.state(), breaker_state::open);
  EXPECT_EQ(b.trips(), 1u);
}

TEST(circuit_breaker, opens_exactly_at_the_error_ratio) {
  circuit_breaker b{config()};
  call(b, 0, true);
  call(b, 1, true);
  call(b, 2, true);
  call(b, 3, false); // 1/4 = 0.25
  EXPECT_EQ(b.state(), breaker_state::closed);
  call(b, 4, false); // 2/5 = 0.4
  EXPECT_EQ(b.state(), breaker_state::closed);
  call(b, 5, false); // 3/6 = 0.5: at the threshold
  EXPECT_EQ(b.state(), breaker_state::open);
}

TEST(circuit_breaker, opens_on_slow_calls) {
  circuit_breaker b{config()};
  call(b, 0, true, 100); // exactly slow_call_ms counts as slow
  call(b, 1, true, 150);
  call(b, 2, true, 99);
  call(b, 3, true, 200); // 3/4 = 0.75 < 0.8
  EXPECT_EQ(b.state(), breaker_state::closed);
  call(b, 4, true, 300); // 4/5 = 0.8
  EXPECT_EQ(b.state(), breaker_state::open);
}

TEST(circuit_breaker, old_errors_leave_the_window) {
  circuit_breaker b{config()};
  call(b, 0, false);
  call(b, 0, false);
  call(b, 0, false);
  call(b, 1000, true); // the three errors fell out: 0/1
  call(b, 1000, false);
  call(b, 1000, true);
  call(b, 1000, true); // 1/4
  EXPECT_EQ(b.state(), breaker_state::closed);
}

TEST(circuit_breaker, open_rejects_until_open_ms_then_probes) {
  circuit_breaker b{config()};
  for (int i = 0; i < 4; ++i)
    call(b, 100, false);
  ASSERT_EQ(b.state(), breaker_state::open);
  EXPECT_FALSE(b.try_acquire(101));
  EXPECT_FALSE(b.try_acquire(599));
  EXPECT_EQ(b.rejected(), 2u);
  EXPECT_TRUE(b.try_acquire(600));
  EXPECT_EQ(b.state(), breaker_state::half_open);
  EXPECT_TRUE(b.try_acquire(600));
  EXPECT_FALSE(b.try_acquire(600)) << "only two probes";
}

TEST(circuit_breaker, good_probes_close_it) {
  circuit_breaker b{config()};
  for (int i = 0; i < 4; ++i)
    call(b, 0, false);
  ASSERT_TRUE(b.try_acquire(500));
  ASSERT_TRUE(b.try_acquire(500));
  b.on_result(510, 5, true);
  EXPECT_EQ(b.state(), breaker_state::half_open) << "waits for every probe";
  b.on_result(520, 5, true);
  EXPECT_EQ(b.state(), breaker_state::closed);
  // Statistics start afresh: three errors alone are below minimum_calls.
  for (int i = 0; i < 3; ++i)
    call(b, 530, false);
  EXPECT_EQ(b.state(), breaker_state::closed);
}

TEST(circuit_breaker, a_bad_probe_reopens_it) {
  circuit_breaker b{config()};
  for (int i = 0; i < 4; ++i)
    call(b, 0, false);
  ASSERT_TRUE(b.try_acquire(500));
  ASSERT_TRUE(b.try_acquire(500));
  b.on_result(510, 5, true);
  b.on_result(520, 5, false); // 1/2 errors = 0.5
  EXPECT_EQ(b.state(), breaker_state::open);
  EXPECT_EQ(b.trips(), 2u);
  EXPECT_FALSE(b.try_acquire(1019));
  EXPECT_TRUE(b.try_acquire(1020)) << "open_ms counted from the reopening";
}

TEST(circuit_breaker, late_results_do_not_count) {
  circuit_breaker b{config()};
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(b.try_acquire(0));
  for (int i = 0; i < 4; ++i)
    call(b, 0, false);
  ASSERT_EQ(b.state(), breaker_state::open);
  b.on_result(1, 1, true); // let through before it opened
  EXPECT_EQ(b.state(), breaker_state::open);
  ASSERT_TRUE(b.try_acquire(500));
  b.on_result(501, 1, true);
  b.on_result(502, 1, true); // not a probe: only one was let through
  EXPECT_EQ(b.state(), breaker_state::half_open);
}

} // namespace
} // namespace shoal::hotkey
