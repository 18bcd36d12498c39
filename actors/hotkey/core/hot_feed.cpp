#include "actors/hotkey/core/hot_feed.hpp"

#include <algorithm>

namespace shoal::hotkey {

const char* to_string(event_kind k) noexcept {
  switch (k) {
  case event_kind::hot:
    return "hot";
  case event_kind::cold:
    return "cold";
  default:
    return "invalidate";
  }
}

hot_feed::hot_feed(size_t capacity) : capacity_(std::max<size_t>(1, capacity)) {}

uint64_t hot_feed::publish(hot_event e) {
  uint64_t seq;
  {
    std::lock_guard<std::mutex> guard{lock_};
    seq = ++last_;
    e.seq = seq;
    events_.push_back(std::move(e));
    if (events_.size() > capacity_)
      events_.pop_front();
  }
  changed_.notify_all();
  return seq;
}

uint64_t hot_feed::last_seq() const {
  std::lock_guard<std::mutex> guard{lock_};
  return last_;
}

feed_read hot_feed::wait_after(uint64_t seq, std::chrono::milliseconds timeout,
                               size_t max) const {
  std::unique_lock<std::mutex> guard{lock_};
  changed_.wait_for(guard, timeout, [&] { return closed_ || last_ > seq; });
  feed_read out;
  out.closed = closed_;
  if (last_ <= seq)
    return out;
  auto first = events_.empty() ? last_ + 1 : events_.front().seq;
  if (first > seq + 1) {
    out.lost = true;
    return out;
  }
  for (auto i = events_.begin() + static_cast<std::ptrdiff_t>(seq + 1 - first);
       i != events_.end() && out.events.size() < max; ++i)
    out.events.push_back(*i);
  return out;
}

void hot_feed::close() {
  {
    std::lock_guard<std::mutex> guard{lock_};
    closed_ = true;
  }
  changed_.notify_all();
}

} // namespace shoal::hotkey
