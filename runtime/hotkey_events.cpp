#include "runtime/hotkey_events.hpp"

#include <chrono>
#include <optional>

#include <nlohmann/json.hpp>

#include "runtime/hotkey_sidecar.hpp"
#include "runtime/logging.hpp"

namespace shoal {

hotkey_events_publisher::hotkey_events_publisher(std::string node,
                                                 std::shared_ptr<hotkey::hot_feed> feed,
                                                 redis_config redis, std::string channel)
    : node_(std::move(node)), feed_(std::move(feed)), redis_(std::move(redis)),
      channel_(std::move(channel)) {
  thread_ = std::thread{[this] { run(); }};
}

hotkey_events_publisher::~hotkey_events_publisher() {
  stop();
}

void hotkey_events_publisher::stop() {
  if (stop_.exchange(true))
    return;
  if (thread_.joinable())
    thread_.join();
}

void hotkey_events_publisher::invalidated(const std::string& key) {
  std::lock_guard<std::mutex> guard{lock_};
  invalidations_.push_back(key);
}

void hotkey_events_publisher::run() {
  std::optional<redis_connection> conn;
  auto seq = feed_->last_seq();
  auto send = [&](const hotkey::hot_event& e) {
    auto body = sidecar_event_json(node_, ++seq_, e);
    redis_expected<redis_reply> reply = redis_error{};
    if (!conn) {
      auto c = redis_connection::connect(redis_);
      if (c)
        conn.emplace(std::move(*c));
      else
        reply = c.error();
    }
    if (conn)
      reply = conn->command({"PUBLISH", channel_, body});
    if (reply && !reply->is_error()) {
      published_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    failed_.fetch_add(1, std::memory_order_relaxed);
    using namespace std::chrono;
    auto now =
        duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
    if (reported_ms_ < 0 || now - reported_ms_ >= 10000) {
      reported_ms_ = now;
      log().warn("hotkeys: events channel {}: cannot publish ({}); {} event(s) dropped "
                 "so far",
                 channel_, reply ? reply->str : reply.error().to_string(),
                 failed_.load());
    }
  };
  while (!stop_.load()) {
    auto got = feed_->wait_after(seq, std::chrono::milliseconds{200});
    if (got.lost)
      seq = feed_->last_seq();
    for (auto& e : got.events) {
      seq = e.seq;
      if (e.origin == node_ && e.kind != hotkey::event_kind::invalidate)
        send(e);
    }
    std::vector<std::string> keys;
    {
      std::lock_guard<std::mutex> guard{lock_};
      keys.swap(invalidations_);
    }
    for (auto& k : keys)
      send(
          hotkey::hot_event{0, hotkey::event_kind::invalidate, k, 0, 0, 0, false, node_});
    if (got.closed)
      break;
  }
}

} // namespace shoal
