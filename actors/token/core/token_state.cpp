#include "actors/token/core/token_state.hpp"

#include <algorithm>
#include <iterator>

#include "actors/token/core/daily_quota.hpp"

namespace shoal::token {

std::string_view to_string(token_phase phase) {
  switch (phase) {
  case token_phase::missing:
    return "missing";
  case token_phase::fresh:
    return "fresh";
  case token_phase::advisory:
    return "advisory";
  case token_phase::mandatory:
    return "mandatory";
  case token_phase::expired:
    return "expired";
  }
  return "missing";
}

token_state::token_state(refresh_policy policy) : policy_(std::move(policy)) {}

token_phase token_state::phase(time_point now) const {
  if (!current_)
    return token_phase::missing;
  auto w = policy_.windows_for(current_->obtained_at, current_->expires_at);
  if (now >= w.expires_at)
    return token_phase::expired;
  if (now >= w.mandatory_start)
    return token_phase::mandatory;
  if (now >= w.advisory_start)
    return token_phase::advisory;
  return token_phase::fresh;
}

bool token_state::has_valid(time_point now) const {
  return current_ && now < current_->expires_at;
}

bool token_state::usable(time_point now) const {
  return current_ &&
         now <
             policy_.windows_for(current_->obtained_at, current_->expires_at).handout_end;
}

void token_state::note_latency(duration took) {
  latencies_[latency_next_] = std::max(took, duration::zero());
  latency_next_ = (latency_next_ + 1) % kLatencies;
  latency_count_ = std::min(latency_count_ + 1, kLatencies);
}

duration token_state::expected_latency() const {
  // The second slowest: one outlier (a call that hit its timeout, a keeper busy
  // when the answer came) does not move eight refreshes early. With a single
  // measurement, that one.
  duration slowest = duration::zero(), second = duration::zero();
  for (auto d : latencies_) {
    if (d > slowest) {
      second = slowest;
      slowest = d;
    } else if (d > second) {
      second = d;
    }
  }
  return latency_count_ < 2 ? slowest : second;
}

bool token_state::took_over(time_point now) {
  // With refresh_at_expiry the schedule is already the expiry: nothing to redo.
  if (policy_.config().refresh_at_expiry || in_flight_ || stopped_ || force_wanted_ ||
      failures_ > 0 || phase(now) != token_phase::advisory || next_attempt_ <= now)
    return false;
  next_attempt_ = now;
  return true;
}

bool token_state::adopt(token_record record, time_point now) {
  if (current_ && record.version <= current_->version)
    return false;
  auto w = policy_.windows_for(record.obtained_at, record.expires_at);
  current_ = std::move(record);
  next_attempt_ = policy_.pick_refresh_at(w, now, expected_latency());
  failures_ = 0;
  force_wanted_ = false;
  stopped_.reset();
  last_error_.reset();
  return true;
}

bool token_state::refresh_due(time_point now) const {
  return !in_flight_ && !stopped_ && now >= next_attempt_;
}

std::optional<time_point> token_state::next_refresh_at() const {
  if (in_flight_ || stopped_)
    return std::nullopt;
  return next_attempt_;
}

void token_state::begin_refresh() {
  in_flight_ = true;
}

token_record token_state::complete_refresh(std::string token, duration expires_in,
                                           time_point now) {
  in_flight_ = false;
  token_record record;
  record.token = std::move(token);
  record.obtained_at = now;
  record.expires_at = now + expires_in;
  record.version = current_ ? current_->version + 1 : 1;
  adopt(record, now);
  return record;
}

bool token_state::urgent(time_point now) const {
  auto p = phase(now);
  return p != token_phase::fresh && p != token_phase::advisory;
}

retry_decision token_state::fail_refresh(const upstream_error& error, time_point now) {
  in_flight_ = false;
  last_error_ = error;
  ++failures_;
  switch (error.kind) {
  case error_class::quota_exhausted:
    next_attempt_ = next_utc_midnight(now);
    return {true, next_attempt_};
  case error_class::refresh_limited:
    force_wanted_ = false;
    next_attempt_ = now + policy_.backoff(1, true);
    return {true, next_attempt_};
  case error_class::rate_limited:
    next_attempt_ = now + std::max(policy_.backoff(failures_, urgent(now)),
                                   policy_.config().rate_limited_delay);
    return {true, next_attempt_};
  default:
    break;
  }
  if (!is_retryable(error.kind)) {
    stopped_ = error;
    return {false, now};
  }
  next_attempt_ = now + policy_.backoff(failures_, urgent(now));
  return {true, next_attempt_};
}

time_point token_state::unchanged(time_point now) {
  in_flight_ = false;
  force_wanted_ = false;
  if (current_ && now < current_->expires_at) {
    next_attempt_ = std::max(current_->expires_at + expected_latency(), now);
    return next_attempt_;
  }
  // Past the expiry the platform still had it valid (its clock, or its issue
  // time, is a little later than ours): retry soon, with a growing wait.
  last_error_ = upstream_error{error_class::unknown, 0,
                               "the platform returned the expired token unchanged"};
  ++failures_;
  next_attempt_ = now + policy_.backoff(failures_, true);
  return next_attempt_;
}

void token_state::defer_refresh(time_point at) {
  in_flight_ = false;
  next_attempt_ = at;
}

std::string_view to_string(reject_outcome outcome) {
  switch (outcome) {
  case reject_outcome::ignored:
    return "ignored";
  case reject_outcome::refresh:
    return "refresh";
  case reject_outcome::deferred:
    return "deferred";
  case reject_outcome::refused:
    return "refused";
  }
  return "ignored";
}

reject_outcome token_state::reject(std::string_view token, time_point now) {
  if (!current_ || current_->token != token || in_flight_ || stopped_ || force_wanted_)
    return reject_outcome::ignored;
  auto& cfg = policy_.config();
  if (cfg.forced_max_per_day > 0 && forced_today(now) >= cfg.forced_max_per_day)
    return reject_outcome::refused;
  if (utc_day(now) != forced_day_) {
    forced_day_ = utc_day(now);
    forced_count_ = 0;
  }
  ++forced_count_;
  force_wanted_ = true;
  auto allowed = last_forced_ ? *last_forced_ + cfg.forced_min_interval : now;
  if (allowed <= now) {
    last_forced_ = now;
    next_attempt_ = now;
    return reject_outcome::refresh;
  }
  last_forced_ = allowed;
  next_attempt_ = std::min(next_attempt_, allowed);
  return reject_outcome::deferred;
}

int64_t token_state::forced_today(time_point now) const {
  return utc_day(now) == forced_day_ ? forced_count_ : 0;
}

void token_state::resume(time_point now) {
  stopped_.reset();
  next_attempt_ = now;
}

} // namespace shoal::token
