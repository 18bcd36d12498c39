#include "actors/token/core/token_state.hpp"

#include <set>

#include <gtest/gtest.h>

#include "actors/token/core/daily_quota.hpp"

namespace shoal::token {
namespace {

using namespace std::chrono_literals;

// 2024-03-01 12:00:00 UTC.
const time_point t0 = time_point(std::chrono::seconds(1709294400));

refresh_policy_config two_hour_config() {
  refresh_policy_config c;
  c.advisory_from = 10min;
  c.advisory_until = 5min;
  c.backoff_initial = 1s;
  c.backoff_max = 60s;
  c.urgent_backoff_max = 5s;
  c.rate_limited_delay = 60s;
  return c;
}

token_record record(std::string token, time_point obtained, duration life,
                    uint64_t version) {
  return {std::move(token), obtained, obtained + life, version};
}

upstream_error error_of(error_class kind) {
  return {kind, 0, std::string(to_string(kind))};
}

TEST(refresh_policy, windows_measure_back_from_expiry) {
  refresh_policy p(two_hour_config(), 1);
  auto w = p.windows_for(t0, t0 + 2h);
  EXPECT_EQ(w.expires_at, t0 + 2h);
  EXPECT_EQ(w.advisory_start, t0 + 2h - 10min);
  EXPECT_EQ(w.mandatory_start, t0 + 2h - 5min);
}

TEST(refresh_policy, windows_shrink_for_short_lived_tokens) {
  refresh_policy p(two_hour_config(), 1);
  auto w = p.windows_for(t0, t0 + 2s);
  // Advisory opens at half the lifetime; the ratio 10:5 of the leads is kept.
  EXPECT_EQ(w.advisory_start, t0 + 1s);
  EXPECT_EQ(w.mandatory_start, t0 + 1500ms);
}

TEST(refresh_policy, refresh_points_spread_inside_the_advisory_window) {
  refresh_policy p(two_hour_config(), 42);
  auto w = p.windows_for(t0, t0 + 2h);
  std::set<time_point> seen;
  time_point lo = time_point::max(), hi = time_point::min();
  for (int i = 0; i < 1000; ++i) {
    auto at = p.pick_refresh_at(w, t0);
    ASSERT_GE(at, w.advisory_start);
    ASSERT_LT(at, w.mandatory_start);
    seen.insert(at);
    lo = std::min(lo, at);
    hi = std::max(hi, at);
  }
  EXPECT_GT(seen.size(), 900u);
  // Spread over most of the 5-minute window, not clustered.
  EXPECT_LT(lo, w.advisory_start + 30s);
  EXPECT_GT(hi, w.mandatory_start - 30s);
}

TEST(refresh_policy, the_handout_margin_ends_before_expiry_and_shrinks_with_the_windows) {
  refresh_policy p(two_hour_config(), 1);
  // Two-hour tokens: the configured 30 s.
  EXPECT_EQ(p.windows_for(t0, t0 + 2h).handout_end, t0 + 2h - 30s);
  // Six-second tokens: the mandatory window shrinks to the last 1.5 s, and the
  // margin to half of it, so the keeper has 750 ms to refresh before callers wait.
  auto w = p.windows_for(t0, t0 + 6s);
  EXPECT_EQ(w.mandatory_start, t0 + 4500ms);
  EXPECT_EQ(w.handout_end, t0 + 5250ms);
  // A margin larger than half the mandatory window is capped there.
  auto c = two_hour_config();
  c.handout_margin = 4min;
  EXPECT_EQ(refresh_policy(c, 1).windows_for(t0, t0 + 2h).handout_end, t0 + 2h - 150s);
}

TEST(refresh_policy, a_slow_upstream_moves_the_refresh_point_earlier) {
  refresh_policy p(two_hour_config(), 5);
  auto w = p.windows_for(t0, t0 + 2h);
  for (int i = 0; i < 200; ++i) {
    auto at = p.pick_refresh_at(w, t0, 20s);
    ASSERT_GE(at, w.advisory_start - 20s);
    // The call, answered 20 s later, still lands before the mandatory window.
    ASSERT_LT(at + 20s, w.mandatory_start);
  }
  // A lead longer than the advisory window (1.5 s for a 6 s token) is capped at
  // it: the window [3 s, 4.5 s) moves to [1.5 s, 3 s), never to right after the
  // token arrived.
  auto s = p.windows_for(t0, t0 + 6s);
  for (int i = 0; i < 200; ++i) {
    auto at = p.pick_refresh_at(s, t0, 10s);
    ASSERT_GE(at, t0 + 1500ms);
    ASSERT_LT(at, t0 + 3000ms);
  }
}

TEST(refresh_policy, same_seed_same_jitter) {
  refresh_policy a(two_hour_config(), 7);
  refresh_policy b(two_hour_config(), 7);
  refresh_policy c(two_hour_config(), 8);
  auto w = a.windows_for(t0, t0 + 2h);
  bool differs = false;
  for (int i = 0; i < 20; ++i) {
    auto x = a.pick_refresh_at(w, t0);
    EXPECT_EQ(x, b.pick_refresh_at(w, t0));
    differs |= x != c.pick_refresh_at(w, t0);
    EXPECT_EQ(a.backoff(3, false), b.backoff(3, false));
    c.backoff(3, false);
  }
  EXPECT_TRUE(differs);
}

TEST(refresh_policy, refresh_point_never_in_the_past) {
  refresh_policy p(two_hour_config(), 3);
  auto w = p.windows_for(t0, t0 + 2h);
  auto now = w.advisory_start + 4min;
  for (int i = 0; i < 100; ++i) {
    auto at = p.pick_refresh_at(w, now);
    EXPECT_GE(at, now);
    EXPECT_LT(at, w.mandatory_start);
  }
  // Past the advisory window: due right away.
  EXPECT_EQ(p.pick_refresh_at(w, w.mandatory_start + 1s), w.mandatory_start + 1s);
}

TEST(refresh_policy, backoff_doubles_with_jitter_up_to_the_cap) {
  refresh_policy p(two_hour_config(), 5);
  for (int round = 0; round < 50; ++round) {
    for (int n = 1; n <= 10; ++n) {
      auto nominal = std::min<duration>(1s * (1 << (n - 1)), 60s);
      auto d = p.backoff(n, false);
      EXPECT_GE(d, nominal / 2) << n;
      EXPECT_LE(d, nominal) << n;
    }
    EXPECT_LE(p.backoff(10, true), 5s);
    EXPECT_GE(p.backoff(10, true), 2500ms);
  }
}

TEST(token_state, phases_follow_the_clock) {
  token_state s(refresh_policy(two_hour_config(), 1));
  EXPECT_EQ(s.phase(t0), token_phase::missing);
  EXPECT_TRUE(s.refresh_due(t0));
  ASSERT_TRUE(s.adopt(record("a", t0, 2h, 1), t0));
  EXPECT_EQ(s.phase(t0), token_phase::fresh);
  EXPECT_EQ(s.phase(t0 + 2h - 10min), token_phase::advisory);
  EXPECT_EQ(s.phase(t0 + 2h - 5min), token_phase::mandatory);
  EXPECT_EQ(s.phase(t0 + 2h - 1ms), token_phase::mandatory);
  EXPECT_TRUE(s.has_valid(t0 + 2h - 1ms));
  EXPECT_EQ(s.phase(t0 + 2h), token_phase::expired);
  EXPECT_FALSE(s.has_valid(t0 + 2h));
}

TEST(token_state, refresh_is_due_at_a_jittered_point_of_the_advisory_window) {
  token_state s(refresh_policy(two_hour_config(), 9));
  s.adopt(record("a", t0, 2h, 1), t0);
  auto at = s.next_refresh_at();
  ASSERT_TRUE(at);
  EXPECT_GE(*at, t0 + 2h - 10min);
  EXPECT_LT(*at, t0 + 2h - 5min);
  EXPECT_FALSE(s.refresh_due(*at - 1ms));
  EXPECT_TRUE(s.refresh_due(*at));
  EXPECT_EQ(s.phase(*at), token_phase::advisory);
}

TEST(token_state, one_refresh_in_flight_then_a_newer_version) {
  token_state s(refresh_policy(two_hour_config(), 1));
  s.begin_refresh();
  EXPECT_FALSE(s.refresh_due(t0));
  EXPECT_FALSE(s.next_refresh_at());
  auto r = s.complete_refresh("a", 7200s, t0);
  EXPECT_EQ(r.version, 1u);
  EXPECT_EQ(r.expires_at, t0 + 2h);
  EXPECT_EQ(s.current()->token, "a");
  auto now = *s.next_refresh_at();
  s.begin_refresh();
  auto r2 = s.complete_refresh("b", 7200s, now);
  EXPECT_EQ(r2.version, 2u);
  EXPECT_EQ(s.current()->token, "b");
}

TEST(token_state, older_or_equal_versions_are_not_adopted) {
  token_state s(refresh_policy(two_hour_config(), 1));
  ASSERT_TRUE(s.adopt(record("new", t0, 2h, 5), t0));
  EXPECT_FALSE(s.adopt(record("old", t0 + 1s, 2h, 4), t0 + 1s));
  EXPECT_FALSE(s.adopt(record("same", t0 + 1s, 2h, 5), t0 + 1s));
  EXPECT_EQ(s.current()->token, "new");
  EXPECT_TRUE(s.adopt(record("newer", t0 + 1s, 2h, 6), t0 + 1s));
}

TEST(token_state, takeover_does_not_refresh_early) {
  token_state s(refresh_policy(two_hour_config(), 1));
  // A keeper taking over at t0+1h adopts the stored token: no refresh before the
  // advisory window.
  s.adopt(record("a", t0, 2h, 3), t0 + 1h);
  EXPECT_FALSE(s.refresh_due(t0 + 1h));
  EXPECT_GE(*s.next_refresh_at(), t0 + 2h - 10min);
}

TEST(token_state, a_keeper_taking_over_inside_the_advisory_window_refreshes_at_once) {
  token_state s(refresh_policy(two_hour_config(), 1));
  // Before the advisory window: the takeover keeps the token.
  s.adopt(record("a", t0, 2h, 3), t0 + 1h);
  EXPECT_FALSE(s.took_over(t0 + 1h));
  EXPECT_FALSE(s.refresh_due(t0 + 1h));
  // Inside it: the point the old keeper chose died with it; refresh now rather
  // than at a new random point that may land near the mandatory window.
  token_state late(refresh_policy(two_hour_config(), 1));
  auto now = t0 + 2h - 9min;
  late.adopt(record("a", t0, 2h, 3), now);
  EXPECT_TRUE(late.took_over(now));
  EXPECT_TRUE(late.refresh_due(now));
  // Not while a failure's backoff is pending.
  token_state failing(refresh_policy(two_hour_config(), 1));
  failing.adopt(record("a", t0, 2h, 3), t0);
  failing.begin_refresh();
  failing.fail_refresh({error_class::server_error, 500, "busy"}, now);
  EXPECT_FALSE(failing.took_over(now));
  EXPECT_FALSE(failing.refresh_due(now));
}

TEST(token_state, a_token_is_usable_until_its_handout_margin) {
  token_state s(refresh_policy(two_hour_config(), 1));
  EXPECT_FALSE(s.usable(t0));
  s.adopt(record("a", t0, 2h, 1), t0);
  EXPECT_TRUE(s.usable(t0 + 2h - 31s));
  EXPECT_FALSE(s.usable(t0 + 2h - 30s));
  EXPECT_TRUE(s.has_valid(t0 + 2h - 30s));
}

TEST(token_state, measured_latency_moves_the_next_refresh_earlier) {
  token_state s(refresh_policy(two_hour_config(), 9));
  EXPECT_EQ(s.expected_latency(), duration::zero());
  s.note_latency(2s);
  EXPECT_EQ(s.expected_latency(), 2s) << "a single measurement counts";
  s.note_latency(40s);
  s.note_latency(300s);
  s.note_latency(1s);
  // The second slowest of the last eight calls: one outlier does not count.
  EXPECT_EQ(s.expected_latency(), 40s);
  s.adopt(record("a", t0, 2h, 1), t0);
  auto at = *s.next_refresh_at();
  EXPECT_GE(at, t0 + 2h - 10min - 40s);
  EXPECT_LT(at + 40s, t0 + 2h - 5min);
  // Old measurements age out after eight calls.
  for (int i = 0; i < 8; ++i)
    s.note_latency(100ms);
  EXPECT_EQ(s.expected_latency(), 100ms);
  s.note_latency(5s);
  EXPECT_EQ(s.expected_latency(), 100ms);
}

TEST(token_state, failures_back_off_while_the_token_stays_valid) {
  token_state s(refresh_policy(two_hour_config(), 11));
  s.adopt(record("a", t0, 2h, 1), t0);
  auto now = *s.next_refresh_at();
  duration nominal = 1s;
  for (int n = 1; n <= 6; ++n) {
    s.begin_refresh();
    auto d = s.fail_refresh(error_of(error_class::server_error), now);
    ASSERT_TRUE(d.retry);
    auto wait = d.at - now;
    if (s.phase(now) == token_phase::advisory) {
      EXPECT_GE(wait, nominal / 2) << n;
      EXPECT_LE(wait, nominal) << n;
    } else {
      EXPECT_LE(wait, 5s) << n;
    }
    EXPECT_EQ(s.consecutive_failures(), n);
    EXPECT_FALSE(s.refresh_due(d.at - 1ms));
    EXPECT_TRUE(s.refresh_due(d.at));
    EXPECT_EQ(s.current()->token, "a");
    now = d.at;
    nominal *= 2;
  }
  s.begin_refresh();
  s.complete_refresh("b", 7200s, now);
  EXPECT_EQ(s.consecutive_failures(), 0);
  EXPECT_FALSE(s.last_error());
}

TEST(token_state, mandatory_window_retries_urgently) {
  token_state s(refresh_policy(two_hour_config(), 2));
  s.adopt(record("a", t0, 2h, 1), t0);
  auto now = t0 + 2h - 4min;
  for (int n = 1; n <= 8; ++n) {
    s.begin_refresh();
    auto d = s.fail_refresh(error_of(error_class::timeout), now);
    EXPECT_LE(d.at - now, 5s);
    now = d.at;
  }
}

TEST(token_state, non_retryable_errors_stop_and_are_reported) {
  for (auto kind : {error_class::config, error_class::rejected_token}) {
    token_state s(refresh_policy(two_hour_config(), 1));
    s.adopt(record("a", t0, 2h, 1), t0);
    auto now = *s.next_refresh_at();
    s.begin_refresh();
    auto d = s.fail_refresh({kind, 40125, "errcode 40125: invalid appsecret"}, now);
    EXPECT_FALSE(d.retry);
    ASSERT_TRUE(s.stopped());
    EXPECT_EQ(s.stopped()->code, 40125);
    EXPECT_FALSE(s.refresh_due(now + 1h));
    EXPECT_FALSE(s.next_refresh_at());
    EXPECT_EQ(s.reject("a", now), reject_outcome::ignored);
    // The still-valid token keeps being served.
    EXPECT_TRUE(s.has_valid(now));
    s.resume(now + 1s);
    EXPECT_FALSE(s.stopped());
    EXPECT_TRUE(s.refresh_due(now + 1s));
  }
}

TEST(token_state, rate_limits_wait_at_least_the_configured_delay) {
  token_state s(refresh_policy(two_hour_config(), 1));
  s.begin_refresh();
  auto d = s.fail_refresh(error_of(error_class::rate_limited), t0);
  ASSERT_TRUE(d.retry);
  EXPECT_GE(d.at - t0, 60s);
}

TEST(token_state, exhausted_quota_waits_for_the_next_utc_day) {
  token_state s(refresh_policy(two_hour_config(), 1));
  s.begin_refresh();
  auto d = s.fail_refresh(error_of(error_class::quota_exhausted), t0);
  ASSERT_TRUE(d.retry);
  EXPECT_FALSE(s.stopped());
  EXPECT_EQ(d.at, time_point(std::chrono::seconds(1709294400 + 12 * 3600)));
}

TEST(token_state, reject_refreshes_only_the_current_token_once) {
  token_state s(refresh_policy(two_hour_config(), 1));
  s.adopt(record("a", t0, 2h, 1), t0);
  auto now = t0 + 10min;
  EXPECT_EQ(s.reject("old-token", now), reject_outcome::ignored);
  EXPECT_EQ(s.reject("a", now), reject_outcome::refresh);
  EXPECT_TRUE(s.force_wanted());
  EXPECT_TRUE(s.refresh_due(now));
  // More reports of the same dead token do not add refreshes.
  EXPECT_EQ(s.reject("a", now), reject_outcome::ignored);
  s.begin_refresh();
  EXPECT_EQ(s.reject("a", now), reject_outcome::ignored);
  s.complete_refresh("b", 7200s, now + 100ms);
  EXPECT_FALSE(s.force_wanted());
  // A report about the replaced token causes nothing.
  EXPECT_EQ(s.reject("a", now + 200ms), reject_outcome::ignored);
  EXPECT_FALSE(s.refresh_due(now + 200ms));
}

// Reports of refused tokens cannot spend the quota: an application that calls
// every platform error a dead token gets at most one forced refresh per
// interval, and a capped number a day.
TEST(token_state, forced_refreshes_are_spaced_and_capped_per_day) {
  auto cfg = two_hour_config();
  cfg.forced_min_interval = 60s;
  cfg.forced_max_per_day = 3;
  token_state s(refresh_policy(cfg, 1));
  s.adopt(record("a", t0, 2h, 1), t0);
  auto now = t0 + 1min;
  ASSERT_EQ(s.reject("a", now), reject_outcome::refresh);
  s.begin_refresh();
  s.complete_refresh("b", 7200s, now + 1s);
  // The new token is reported refused at once: it waits out the interval.
  EXPECT_EQ(s.reject("b", now + 2s), reject_outcome::deferred);
  EXPECT_TRUE(s.force_wanted());
  EXPECT_FALSE(s.refresh_due(now + 59s));
  EXPECT_TRUE(s.refresh_due(now + 60s));
  EXPECT_EQ(s.reject("b", now + 3s), reject_outcome::ignored) << "already scheduled";
  s.begin_refresh();
  s.complete_refresh("c", 7200s, now + 61s);
  EXPECT_EQ(s.reject("c", now + 62s), reject_outcome::deferred);
  s.begin_refresh();
  s.complete_refresh("d", 7200s, now + 121s);
  EXPECT_EQ(s.forced_today(now + 121s), 3);
  // The day's three are spent: the current token is kept.
  EXPECT_EQ(s.reject("d", now + 10min), reject_outcome::refused);
  EXPECT_FALSE(s.force_wanted());
  EXPECT_FALSE(s.refresh_due(now + 10min));
  // A new UTC day starts a new count.
  auto tomorrow = next_utc_midnight(now);
  EXPECT_EQ(s.forced_today(tomorrow), 0);
  EXPECT_EQ(s.reject("d", tomorrow), reject_outcome::refresh);
}

TEST(token_state, no_daily_cap_when_it_is_zero) {
  auto cfg = two_hour_config();
  cfg.forced_min_interval = 0ms;
  cfg.forced_max_per_day = 0;
  token_state s(refresh_policy(cfg, 1));
  auto now = t0;
  for (int i = 0; i < 500; ++i) {
    auto token = "t" + std::to_string(i);
    s.adopt(record(token, now, 2h, static_cast<uint64_t>(i + 1)), now);
    ASSERT_EQ(s.reject(token, now), reject_outcome::refresh) << i;
    now += 1s;
  }
}

TEST(token_state, refresh_limited_retries_soon_without_force) {
  token_state s(refresh_policy(two_hour_config(), 1));
  s.adopt(record("a", t0, 2h, 1), t0);
  ASSERT_EQ(s.reject("a", t0 + 1min), reject_outcome::refresh);
  s.begin_refresh();
  auto d = s.fail_refresh(error_of(error_class::refresh_limited), t0 + 1min);
  ASSERT_TRUE(d.retry);
  EXPECT_FALSE(s.force_wanted());
  EXPECT_LE(d.at - (t0 + 1min), 5s);
}

TEST(daily_quota, counts_per_utc_day) {
  daily_quota q(3);
  auto day_end = time_point(std::chrono::seconds(1709337600)) - 1ms; // 23:59:59.999
  EXPECT_TRUE(q.try_consume(t0));
  EXPECT_TRUE(q.try_consume(t0 + 1h));
  EXPECT_TRUE(q.try_consume(day_end));
  EXPECT_FALSE(q.try_consume(day_end));
  EXPECT_EQ(q.used(day_end), 3);
  EXPECT_EQ(q.remaining(day_end), 0);
  // Midnight UTC resets the count.
  auto midnight = day_end + 1ms;
  EXPECT_EQ(next_utc_midnight(t0), midnight);
  EXPECT_EQ(q.used(midnight), 0);
  EXPECT_EQ(q.remaining(midnight), 3);
  EXPECT_TRUE(q.try_consume(midnight));
  EXPECT_EQ(q.used(midnight), 1);
}

TEST(daily_quota, exhaust_marks_today_used_up) {
  daily_quota q(2000);
  q.exhaust(t0);
  EXPECT_FALSE(q.try_consume(t0 + 1h));
  EXPECT_TRUE(q.try_consume(next_utc_midnight(t0)));
  daily_quota unlimited(0);
  for (int i = 0; i < 10000; ++i)
    ASSERT_TRUE(unlimited.try_consume(t0));
}

TEST(daily_quota, days_before_1970_floor_correctly) {
  auto before = time_point(std::chrono::seconds(-1));
  EXPECT_EQ(utc_day(before), -1);
  EXPECT_EQ(next_utc_midnight(before), time_point(std::chrono::seconds(0)));
}

// -- wecom: the same token until it expires --------------------------------------

TEST(refresh_policy, refresh_at_expiry_schedules_at_the_expiry_plus_the_latency) {
  auto c = two_hour_config();
  c.refresh_at_expiry = true;
  refresh_policy p(c, 1);
  auto w = p.windows_for(t0, t0 + 2h);
  EXPECT_EQ(p.pick_refresh_at(w, t0), t0 + 2h);
  EXPECT_EQ(p.pick_refresh_at(w, t0, 300ms), t0 + 2h + 300ms);
  EXPECT_EQ(p.pick_refresh_at(w, t0 + 3h), t0 + 3h);
}

TEST(token_state, an_unchanged_token_keeps_its_expiry_and_is_fetched_again_at_it) {
  auto c = two_hour_config();
  c.refresh_at_expiry = true;
  token_state s(refresh_policy(c, 7));
  ASSERT_TRUE(s.adopt(record("W1", t0, 2h, 1), t0));
  // No refresh in the advisory window: the platform would return W1 again.
  EXPECT_EQ(s.next_refresh_at(), t0 + 2h);
  EXPECT_FALSE(s.took_over(t0 + 2h - 7min));
  // A forced refresh (a caller reported W1) gets W1 back: nothing adopted, the
  // expiry stays, the next call is at the expiry (plus the measured latency).
  ASSERT_EQ(s.reject("W1", t0 + 1h), reject_outcome::refresh);
  s.begin_refresh();
  s.note_latency(200ms);
  EXPECT_EQ(s.unchanged(t0 + 1h), t0 + 2h + 200ms);
  EXPECT_EQ(s.current()->expires_at, t0 + 2h);
  EXPECT_EQ(s.current()->version, 1u);
  EXPECT_FALSE(s.force_wanted());
  EXPECT_EQ(s.consecutive_failures(), 0);
  EXPECT_FALSE(s.refresh_due(t0 + 2h));
  EXPECT_TRUE(s.refresh_due(t0 + 2h + 200ms));
  // At the expiry the platform still had it (its clock is later): bounded,
  // growing retries, urgent cap.
  s.begin_refresh();
  auto first = s.unchanged(t0 + 2h + 200ms);
  EXPECT_GT(first, t0 + 2h + 200ms);
  EXPECT_LE(first, t0 + 2h + 200ms + 1s);
  EXPECT_EQ(s.consecutive_failures(), 1);
  for (int i = 0; i < 10; ++i) {
    s.begin_refresh();
    auto at = t0 + 2h + 10s * (i + 1);
    EXPECT_LE(s.unchanged(at), at + 5s);
  }
  // The new token is adopted normally and scheduled at its own expiry.
  ASSERT_TRUE(s.adopt(record("W2", t0 + 2h + 2min, 2h, 2), t0 + 2h + 2min));
  EXPECT_EQ(s.consecutive_failures(), 0);
  EXPECT_EQ(s.next_refresh_at(), t0 + 4h + 2min + 200ms);
}

TEST(token_state, a_deferred_refresh_counts_no_failure) {
  token_state s(refresh_policy(two_hour_config(), 3));
  ASSERT_TRUE(s.adopt(record("T1", t0, 2h, 1), t0));
  s.begin_refresh();
  s.defer_refresh(t0 + 1h);
  EXPECT_FALSE(s.in_flight());
  EXPECT_EQ(s.consecutive_failures(), 0);
  EXPECT_EQ(s.next_refresh_at(), t0 + 1h);
}

} // namespace
} // namespace shoal::token
