// token_state: the per-provider state machine the token keeper drives.
//
// It holds the current token {token, obtained_at, expires_at, version} and decides
// when the next upstream refresh is due:
//
//   - adopt(record): a newer token (fetched, or read from the store on takeover)
//     becomes current; the next refresh is scheduled at a random point of its
//     advisory window (see refresh_policy), moved earlier by the upstream's
//     measured latency (note_latency) and never earlier than `now`.
//   - took_over(now): a keeper that just took the lease refreshes at once when the
//     token is already in its advisory window (the previous keeper's chosen point
//     died with it); before that window it keeps the token, so a takeover does
//     not refresh early.
//   - begin_refresh / complete_refresh / fail_refresh: one refresh in flight at a time.
//     A retryable failure schedules a retry after an exponential, jittered backoff
//     (urgent cap in the mandatory window or without a valid token) while the current
//     token keeps being served; rate limits wait at least rate_limited_delay; an
//     exhausted quota waits for the next UTC day; a non-retryable error (bad appid or
//     secret) stops retries and is kept for reporting until a new token is adopted
//     or resume() is called.
//   - unchanged(now): the platform answered a refresh with the current token
//     itself (WeCom returns the same token until it expires, with a full
//     expires_in): its expiry is not extended and nothing is adopted; before the
//     current expiry the next refresh is due at that expiry, after it the call
//     counts as a failure and retries after the (urgent) backoff.
//   - defer_refresh(at): the refresh could not start (its input, a base token or
//     a pushed ticket, is not there yet): no failure, try again at `at`.
//   - reject(token): an application saw the platform refuse `token`; refresh now, but
//     only if it is still the current token (N reports of one dead token cause one
//     refresh; a report about an already replaced token causes none), at most once
//     per forced_min_interval (a report inside it is served when it ends) and
//     forced_max_per_day times a UTC day (then it is refused).
//
// Time is always passed in. Not thread-safe: owned by one keeper.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "actors/token/core/refresh_policy.hpp"
#include "actors/token/core/upstream_error.hpp"

namespace shoal::token {

/// One access token as the cluster stores it.
struct token_record {
  std::string token;
  time_point obtained_at;
  time_point expires_at;
  /// Increases by one with every new token of a provider; the store only accepts
  /// a record whose version is higher than the one it holds.
  uint64_t version = 0;
};

/// What reject() made of a report.
enum class reject_outcome {
  /// Not the current token, a refresh in flight or already scheduled, or
  /// retries stopped: nothing to do.
  ignored,
  /// A forced refresh is due now.
  refresh,
  /// A forced refresh is due when forced_min_interval has passed since the last.
  deferred,
  /// The day's forced refreshes are used up (forced_max_per_day).
  refused,
};

/// "ignored", "refresh", "deferred" or "refused".
std::string_view to_string(reject_outcome outcome);

/// Where `now` falls in the current token's life.
enum class token_phase {
  /// No token yet.
  missing,
  /// Valid, before the advisory window.
  fresh,
  /// Valid, inside the advisory window: a refresh is scheduled in here.
  advisory,
  /// Valid, inside the mandatory window: refresh urgently.
  mandatory,
  /// Past expires_at: not usable.
  expired,
};

/// A stable lowercase name of a phase, for logs and status.
std::string_view to_string(token_phase phase);

/// What fail_refresh decided.
struct retry_decision {
  /// False when retries stopped because of a non-retryable error.
  bool retry = false;
  /// When the next attempt is due (meaningful only when retry is true).
  time_point at;
};

class token_state {
public:
  explicit token_state(refresh_policy policy);

  // -- the token ------------------------------------------------------------

  /// The current token, if any (possibly expired; check phase()).
  const std::optional<token_record>& current() const { return current_; }

  /// The phase of the current token at `now`.
  token_phase phase(time_point now) const;

  /// True when a current token exists and `now` is before its expiry.
  bool has_valid(time_point now) const;

  /// True when a current token exists and `now` is before its hand-out margin:
  /// it may be given to a caller.
  bool usable(time_point now) const;

  /// Makes `record` current if there is none or its version is higher, scheduling
  /// the next refresh in its advisory window, clearing failures and any stop.
  /// Returns false (and changes nothing) for an older or equal version.
  bool adopt(token_record record, time_point now);

  // -- refreshing -------------------------------------------------------------

  /// True when no refresh is in flight, retries are not stopped, and `now` has
  /// reached the scheduled refresh time.
  bool refresh_due(time_point now) const;

  /// When refresh_due() will become true (for a timer); nullopt while a refresh is
  /// in flight or retries are stopped.
  std::optional<time_point> next_refresh_at() const;

  /// Marks a refresh as in flight.
  void begin_refresh();

  /// How long an upstream call took (sent to answered, success or failure);
  /// the second slowest of the last eight moves the next refresh point earlier.
  void note_latency(duration took);

  /// The second slowest of the last eight upstream calls (the only one after
  /// one call, zero before any).
  duration expected_latency() const;

  /// This keeper just took the lease: when the current token is inside its
  /// advisory window and nothing else is scheduled (no failures, no forced
  /// refresh, nothing in flight), the refresh is due at `now`. Returns whether it
  /// moved the refresh.
  bool took_over(time_point now);

  /// True while a refresh is in flight.
  bool in_flight() const { return in_flight_; }

  /// True when the next refresh should ask the platform for a new token even if
  /// its current one is still valid (stable_token force_refresh): set by reject().
  bool force_wanted() const { return force_wanted_; }

  /// Ends the in-flight refresh with a new token obtained at `now`; adopts it with
  /// version current+1 (1 for the first) and returns the adopted record.
  token_record complete_refresh(std::string token, duration expires_in, time_point now);

  /// Ends the in-flight refresh without a result (its token was refused by the
  /// store, or this keeper lost its lease); the schedule is left as it was.
  void cancel_refresh() { in_flight_ = false; }

  /// Ends the in-flight refresh whose call returned the current token unchanged
  /// (see the file comment). Returns when the next attempt is due.
  time_point unchanged(time_point now);

  /// Ends the in-flight refresh without a call and without counting a failure;
  /// the next attempt is due at `at`.
  void defer_refresh(time_point at);

  /// Ends the in-flight refresh with a failure and schedules (or stops) retries.
  retry_decision fail_refresh(const upstream_error& error, time_point now);

  /// An application reported that the platform refused `token`. Schedules a
  /// forced refresh only when `token` is the current token, no refresh is in
  /// flight, no forced one is scheduled and retries are not stopped; now, or when
  /// the forced refresh interval allows; refused past the day's forced refreshes.
  reject_outcome reject(std::string_view token, time_point now);

  /// Forced refreshes granted (now or deferred) on `now`'s UTC day.
  int64_t forced_today(time_point now) const;

  /// Clears a stop caused by a non-retryable error (the configuration was fixed);
  /// the next refresh is due at `now`.
  void resume(time_point now);

  // -- reporting ----------------------------------------------------------------

  /// The non-retryable error that stopped retries, if any.
  const std::optional<upstream_error>& stopped() const { return stopped_; }

  /// The last failure since the last success, if any.
  const std::optional<upstream_error>& last_error() const { return last_error_; }

  /// Failures since the last successful refresh.
  int consecutive_failures() const { return failures_; }

private:
  bool urgent(time_point now) const;

  refresh_policy policy_;
  std::optional<token_record> current_;
  /// The earliest time the next refresh may start.
  time_point next_attempt_ = time_point::min();
  bool in_flight_ = false;
  bool force_wanted_ = false;
  /// The last upstream latencies, a ring of kLatencies.
  static constexpr size_t kLatencies = 8;
  duration latencies_[kLatencies] = {};
  size_t latency_next_ = 0;
  size_t latency_count_ = 0;
  /// When the last forced refresh was scheduled to start.
  std::optional<time_point> last_forced_;
  /// Forced refreshes granted on UTC day forced_day_.
  int64_t forced_day_ = 0;
  int64_t forced_count_ = 0;
  int failures_ = 0;
  std::optional<upstream_error> stopped_;
  std::optional<upstream_error> last_error_;
};

} // namespace shoal::token
