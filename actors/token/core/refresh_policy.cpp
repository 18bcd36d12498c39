#include "actors/token/core/refresh_policy.hpp"

#include "runtime/base/backoff.hpp"

#include <algorithm>

namespace shoal::token {

refresh_policy::refresh_policy(refresh_policy_config config, uint64_t seed)
    : config_(config), rng_(seed) {}

refresh_windows refresh_policy::windows_for(time_point obtained_at,
                                            time_point expires_at) const {
  auto lifetime = std::chrono::duration_cast<duration>(expires_at - obtained_at);
  if (lifetime < duration::zero())
    lifetime = duration::zero();
  auto from = static_cast<double>(config_.advisory_from.count());
  auto until = static_cast<double>(config_.advisory_until.count());
  auto margin = static_cast<double>(config_.handout_margin.count());
  auto cap = config_.max_advisory_fraction * static_cast<double>(lifetime.count());
  if (from > cap && from > 0) {
    until = until * cap / from;
    from = cap;
  }
  margin = std::min(margin, until / 2);
  refresh_windows w;
  w.obtained_at = obtained_at;
  w.expires_at = expires_at;
  w.handout_end = expires_at - duration(static_cast<duration::rep>(margin));
  w.advisory_start = expires_at - duration(static_cast<duration::rep>(from));
  w.mandatory_start = expires_at - duration(static_cast<duration::rep>(until));
  return w;
}

time_point refresh_policy::pick_refresh_at(const refresh_windows& w,
                                           time_point not_before, duration lead) {
  if (config_.refresh_at_expiry)
    return std::max(w.expires_at + std::max(lead, duration::zero()), not_before);
  // An upstream slower than half the time before the mandatory window would have
  // the keeper refresh as soon as it got a token: cap the lead there.
  // It is also capped at the advisory window's length: an upstream slower than
  // that window is not worth refreshing a whole window early for.
  auto room = std::chrono::duration_cast<duration>(w.mandatory_start - w.obtained_at);
  auto span = std::chrono::duration_cast<duration>(w.mandatory_start - w.advisory_start);
  lead = std::clamp(lead, duration::zero(),
                    std::max(std::min(room / 2, span), duration::zero()));
  auto hi = w.mandatory_start - lead;
  auto lo = std::max({w.advisory_start - lead, w.obtained_at, not_before});
  if (lo >= hi)
    return not_before;
  auto width = std::chrono::duration_cast<duration>(hi - lo).count();
  if (width <= 0)
    return lo;
  std::uniform_int_distribution<duration::rep> pick(0, width - 1);
  return lo + duration(pick(rng_));
}

duration refresh_policy::backoff(int failures, bool urgent) {
  auto cap = urgent ? std::min(config_.urgent_backoff_max, config_.backoff_max)
                    : config_.backoff_max;
  return backoff_delay(config_.backoff_initial, cap, failures, rng_);
}

} // namespace shoal::token
