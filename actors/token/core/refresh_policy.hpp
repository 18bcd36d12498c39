// refresh_policy: when to refresh a token and how long to wait after a failure.
//
// A token's life is split into windows, measured back from its expiry:
//
//   obtained_at          advisory_start        mandatory_start  handout_end  expires_at
//   |------- fresh -------|------ advisory ------|------ mandatory --|-- margin --|-- expired
//                         ^ refresh at a random point in here
//
// The keeper refreshes at a random point of the advisory window (so that many
// providers, or a restarted keeper, do not all call upstream at the same instant),
// started earlier by the upstream's measured latency so that the new token arrives
// inside the window; in the mandatory window it retries more urgently. A token is
// not handed out in its last `handout_margin` (a caller would hold a token that
// dies before its call reaches the platform): a get waits for the new token
// instead. For short-lived tokens the windows shrink proportionally, so the
// advisory window never opens earlier than `max_advisory_fraction` of the lifetime
// before expiry, and the margin never exceeds half the mandatory window.
//
// After a failure the wait grows exponentially with jitter: the n-th consecutive
// failure waits a uniformly random time in [d/2, d], d = min(max, initial * 2^(n-1)).
// All randomness comes from a seeded generator, so a test with a fixed seed sees a
// fixed sequence. Not thread-safe: owned by one keeper.

#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace shoal::token {

using clock = std::chrono::system_clock;
using time_point = clock::time_point;
using duration = std::chrono::milliseconds;

/// The tunable numbers of a refresh policy. Leads are measured back from expiry.
struct refresh_policy_config {
  /// The advisory window opens this long before expiry.
  duration advisory_from = std::chrono::minutes(10);
  /// The advisory window closes (and the mandatory window opens) this long before
  /// expiry. Invariant: advisory_until < advisory_from.
  duration advisory_until = std::chrono::minutes(5);
  /// A token is not handed out this close to its expiry; callers wait for the
  /// new one instead. Capped at half the (scaled) mandatory window, so that the
  /// keeper has the first half of it to refresh before callers wait.
  duration handout_margin = std::chrono::seconds(30);
  /// Upper bound on advisory_from as a fraction of the token's lifetime, in (0, 1].
  double max_advisory_fraction = 0.5;
  /// Wait after the first failure.
  duration backoff_initial = std::chrono::seconds(1);
  /// Longest wait between retries while the current token is outside the
  /// mandatory window.
  duration backoff_max = std::chrono::seconds(60);
  /// Longest wait between retries in the mandatory window or without a valid token.
  duration urgent_backoff_max = std::chrono::seconds(5);
  /// Shortest wait after the platform said calls are too frequent.
  duration rate_limited_delay = std::chrono::seconds(60);
  /// Forced refreshes (an application reported the current token refused):
  /// at most one per this interval; a report inside it schedules the refresh
  /// for when the interval ends. An application that reports a persistent
  /// platform error (an IP not whitelisted) as a dead token would otherwise
  /// spend a call per report.
  duration forced_min_interval = std::chrono::seconds(60);
  /// ... and at most this many per UTC day (0: no cap but the daily quota);
  /// past it reports are refused and the current token is kept. The provider
  /// config defaults it to a tenth of the daily quota.
  int64_t forced_max_per_day = 200;
  /// The platform returns the same token until it expires (WeCom gettoken): a
  /// refresh before the expiry would only get it back. The refresh is scheduled
  /// at the expiry instead of in the advisory window (moved later by the
  /// upstream's latency, so that the call reaches the platform after the token
  /// it issued died there); callers wait through the hand-out margin. Set by the
  /// provider config for kind wecom.
  bool refresh_at_expiry = false;
};

/// The windows of one token, as absolute times.
struct refresh_windows {
  time_point obtained_at;
  time_point advisory_start;
  time_point mandatory_start;
  /// A token is handed out only before this point.
  time_point handout_end;
  time_point expires_at;
};

/// Computes windows, refresh points and backoff delays. Time is always passed in.
class refresh_policy {
public:
  refresh_policy(refresh_policy_config config, uint64_t seed);

  /// The configuration this policy was built with.
  const refresh_policy_config& config() const { return config_; }

  /// The windows of a token obtained at `obtained_at` and expiring at `expires_at`.
  /// Scaled down for tokens whose lifetime is shorter than the configured leads allow.
  refresh_windows windows_for(time_point obtained_at, time_point expires_at) const;

  /// A random point in [max(advisory_start - lead, obtained_at, not_before),
  /// mandatory_start - lead): the advisory window moved earlier by `lead` (the
  /// time an upstream call is expected to take, capped at half the time from
  /// obtained_at to mandatory_start and at the advisory window's length), so
  /// that the new token arrives inside it.
  /// Returns `not_before` when that interval is empty. With refresh_at_expiry:
  /// max(expires_at + lead, not_before) instead.
  time_point pick_refresh_at(const refresh_windows& w, time_point not_before,
                             duration lead = duration::zero());

  /// The wait after the `failures`-th consecutive failure (failures >= 1); `urgent`
  /// caps it at urgent_backoff_max instead of backoff_max.
  duration backoff(int failures, bool urgent);

private:
  refresh_policy_config config_;
  std::mt19937_64 rng_;
};

} // namespace shoal::token
