// daily_quota: how many upstream calls a provider may still make today (UTC).
//
// Token endpoints limit calls per day (WeChat: about 2000 for /cgi-bin/token). The
// keeper counts its own calls so that it stops before the platform says 45009, and
// can report "quota used" in its status. The count resets at 00:00 UTC; time is
// passed in. Not thread-safe: owned by one keeper.

#pragma once

#include <chrono>
#include <cstdint>

namespace shoal::token {

/// Days since 1970-01-01 UTC of `t`.
int64_t utc_day(std::chrono::system_clock::time_point t);

/// 00:00 UTC of the day after `t`.
std::chrono::system_clock::time_point
next_utc_midnight(std::chrono::system_clock::time_point t);

/// A per-UTC-day call counter with a limit.
class daily_quota {
public:
  /// A counter allowing `limit` calls per UTC day; limit <= 0 means unlimited.
  explicit daily_quota(int64_t limit) : limit_(limit) {}

  /// Counts one call at `now` and returns true, or returns false without counting
  /// when today's limit is reached.
  bool try_consume(std::chrono::system_clock::time_point now);

  /// Marks today's quota as used up (the platform said 45009 before we counted it).
  void exhaust(std::chrono::system_clock::time_point now);

  /// Calls counted on the UTC day of `now`.
  int64_t used(std::chrono::system_clock::time_point now) const;

  /// Calls still allowed on the UTC day of `now` (a large number when unlimited).
  int64_t remaining(std::chrono::system_clock::time_point now) const;

  /// The configured limit per day (<= 0: unlimited).
  int64_t limit() const { return limit_; }

private:
  int64_t limit_;
  /// The UTC day `used_` counts; a different day means zero used.
  int64_t day_ = INT64_MIN;
  int64_t used_ = 0;
};

} // namespace shoal::token
