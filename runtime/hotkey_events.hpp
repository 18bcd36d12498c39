// hotkey_events: PUBLISHes a node's hot-key events on a Redis channel, for processes
// in other languages that keep a local copy of the hot set without holding an HTTP
// stream open (hotkey_sidecar.hpp has the message format).
//
//   hotkey_events_publisher pub{"n1", feed, redis_cfg, "shoal:hotkeys:events"};
//   pub.invalidated("sku:42");     // asked on this node: goes out from here
//
// It publishes the feed's hot and cold events whose shard is this node, and the
// invalidations handed to invalidated(), so that across the cluster each event goes
// out once. seq counts this node's messages. While Redis is unreachable events are
// dropped (logged at most once per 10 s): a subscriber that must not miss one also
// reads GET /hotkeys/stream. One thread; stop() returns within about a second.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "actors/hotkey/core/hot_feed.hpp"
#include "runtime/adapters/redis_connection.hpp"

namespace shoal {

class hotkey_events_publisher {
public:
  hotkey_events_publisher(std::string node, std::shared_ptr<hotkey::hot_feed> feed,
                          redis_config redis, std::string channel);
  ~hotkey_events_publisher();

  /// Queues an invalidation of `key` for the channel.
  void invalidated(const std::string& key);

  /// Stops the thread. Idempotent.
  void stop();

  uint64_t published() const { return published_.load(); }
  uint64_t failed() const { return failed_.load(); }
  const std::string& channel() const { return channel_; }

private:
  void run();
  void publish(const hotkey::hot_event& e);

  const std::string node_;
  std::shared_ptr<hotkey::hot_feed> feed_;
  redis_config redis_;
  const std::string channel_;
  std::mutex lock_;
  /// Invalidations not yet published.
  std::vector<std::string> invalidations_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> published_{0}, failed_{0};
  /// This node's messages so far; thread only.
  uint64_t seq_ = 0;
  int64_t reported_ms_ = -1;
  std::thread thread_;
};

} // namespace shoal
