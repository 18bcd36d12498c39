// hot_feed: the hot/cold/invalidate events of one node, in order, for processes in
// other languages that keep their own copy of the hot set (the sidecar's
// GET /hotkeys/stream and Redis events channel).
//
//   feed.publish(hot_event{0, event_kind::hot, "sku:42", 812, 1500, ...});  // cache actor
//   auto seq = feed.last_seq();                 // a subscriber: take the hot set now,
//   auto got = feed.wait_after(seq, 500ms);     // then every event after seq
//   if (got.lost) ... resync from the hot set; else for (auto& e : got.events) ...
//
// Every event gets the next sequence number of the node (1, 2, ...). The feed keeps
// the last `capacity` events: a subscriber that falls further behind is told it
// lost events and starts over from the hot set. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace shoal::hotkey {

/// What happened to a key.
enum class event_kind {
  /// Became hot, or stays hot longer (a shard's push).
  hot,
  /// Is no longer hot (cooled, removed, or its time passed).
  cold,
  /// Its cached value is stale: drop it (the key stays hot).
  invalidate,
};

/// "hot", "cold" or "invalidate".
const char* to_string(event_kind k) noexcept;

/// One event of the feed.
struct hot_event {
  /// Position in the node's feed; set by publish().
  uint64_t seq = 0;
  event_kind kind = event_kind::hot;
  std::string key;
  /// Window count the shard saw (hot events of detected keys; 0 otherwise).
  uint64_t count = 0;
  /// How much longer the key stays hot; 0: until removed (hot events only).
  int64_t ttl_ms = 0;
  /// Wall clock (ms since the epoch) when the key stops being hot; 0: until removed.
  int64_t until_ms = 0;
  bool manual = false;
  /// The node whose shard sent it (hot and cold); empty when this node decided it
  /// (a local expiry) or when it does not know (invalidations).
  std::string origin;
};

/// The events a subscriber reads.
struct feed_read {
  std::vector<hot_event> events;
  /// True when events after the asked sequence were already dropped: the reader
  /// must resync from the hot set (events is then empty).
  bool lost = false;
  /// The feed was closed: no more events will come.
  bool closed = false;
};

/// A node's ordered, bounded event log. Thread-safe.
class hot_feed {
public:
  /// Keeps the last `capacity` (>= 1) events.
  explicit hot_feed(size_t capacity = 65536);

  /// Appends `e` with the next sequence number, wakes the readers, returns it.
  uint64_t publish(hot_event e);

  /// The sequence number of the latest event (0 before the first).
  uint64_t last_seq() const;

  /// Events after `seq`, waiting at most `timeout` for the first; at most `max` of
  /// them.
  feed_read wait_after(uint64_t seq, std::chrono::milliseconds timeout,
                       size_t max = 1024) const;

  /// Wakes every reader and makes wait_after() return at once from now on.
  void close();

private:
  const size_t capacity_;
  mutable std::mutex lock_;
  mutable std::condition_variable changed_;
  /// The last events, oldest first, with consecutive sequence numbers.
  std::deque<hot_event> events_;
  uint64_t last_ = 0;
  bool closed_ = false;
};

} // namespace shoal::hotkey
