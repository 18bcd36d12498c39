#include "actors/token/core/daily_quota.hpp"

#include <limits>

namespace shoal::token {

namespace {

constexpr int64_t ms_per_day = 24LL * 60 * 60 * 1000;

int64_t floor_div(int64_t a, int64_t b) {
  auto q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

} // namespace

int64_t utc_day(std::chrono::system_clock::time_point t) {
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  return floor_div(ms, ms_per_day);
}

std::chrono::system_clock::time_point
next_utc_midnight(std::chrono::system_clock::time_point t) {
  auto day = utc_day(t) + 1;
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::milliseconds(day * ms_per_day)));
}

bool daily_quota::try_consume(std::chrono::system_clock::time_point now) {
  if (remaining(now) <= 0)
    return false;
  auto today = utc_day(now);
  if (today != day_) {
    day_ = today;
    used_ = 0;
  }
  ++used_;
  return true;
}

void daily_quota::exhaust(std::chrono::system_clock::time_point now) {
  day_ = utc_day(now);
  used_ = limit_ > 0 ? limit_ : std::numeric_limits<int64_t>::max();
}

int64_t daily_quota::used(std::chrono::system_clock::time_point now) const {
  return utc_day(now) == day_ ? used_ : 0;
}

int64_t daily_quota::remaining(std::chrono::system_clock::time_point now) const {
  if (limit_ <= 0)
    return utc_day(now) == day_ && used_ == std::numeric_limits<int64_t>::max()
               ? 0
               : std::numeric_limits<int64_t>::max();
  auto left = limit_ - used(now);
  return left > 0 ? left : 0;
}

} // namespace shoal::token
