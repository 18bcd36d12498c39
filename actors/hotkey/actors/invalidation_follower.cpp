#include "actors/hotkey/actors/invalidation_follower.hpp"

#include <optional>

#include <caf/all.hpp>

#include "runtime/base/backoff.hpp"

namespace shoal::hotkey {

namespace {

using namespace std::chrono;

/// How long one read of the channel blocks: the bound on how late an exit
/// message or a state query is handled.
constexpr milliseconds read_slice{200};

enum class follower_state { connecting, subscribed };

const char* to_string(follower_state s) {
  return s == follower_state::subscribed ? "subscribed" : "connecting";
}

struct follower_state_data {
  std::shared_ptr<node_context> ctx;
  redis_config redis;
  std::string channel;
  follower_log log;
  std::optional<redis_connection> conn;
  follower_state state = follower_state::connecting;
  backoff retry{milliseconds{100}, milliseconds{2000}};
  /// The outage was reported already; the next success is reported then.
  bool warned = false;
  static inline const char* name = "shoal.hotkey.invalidation_follower";
};

using follower_self = invalidation_follower_actor::stateful_pointer<follower_state_data>;

void subscribe(follower_self self) {
  auto& st = self->state;
  auto conn = redis_connection::connect(st.redis);
  auto subscribed = conn ? conn->command({"SUBSCRIBE", st.channel})
                         : redis_expected<redis_reply>{conn.error()};
  if (!subscribed || subscribed->is_error()) {
    st.state = follower_state::connecting;
    if (!st.warned)
      st.log(true, "cannot subscribe to invalidation channel " + st.channel + ": " +
                       (subscribed ? subscribed->str : subscribed.error().to_string()) +
                       "; retrying");
    st.warned = true;
    self->delayed_send(self, st.retry.next(), atoms::hk_subscribe::value);
    return;
  }
  st.conn = std::move(*conn);
  st.state = follower_state::subscribed;
  st.log(false,
         "invalidations from Redis channel " + st.channel + " on " + st.redis.endpoint());
  st.warned = false;
  st.retry.reset();
  self->send(self, atoms::hk_read::value);
}

void read(follower_self self) {
  auto& st = self->state;
  if (!st.conn)
    return;
  auto m = st.conn->next_message(read_slice);
  if (!m) {
    st.conn.reset();
    st.state = follower_state::connecting;
    st.log(true, "invalidation channel " + st.channel +
                     " lost: " + m.error().to_string() + "; resubscribing");
    st.warned = true;
    self->send(self, atoms::hk_subscribe::value);
    return;
  }
  // ["message", channel, key]; subscribe confirmations are skipped.
  if (*m) {
    auto& e = (*m)->elements;
    if ((*m)->type == redis_reply::kind::array && e.size() == 3 &&
        e[0].str == "message") {
      st.ctx->view->erase_value(e[2].str);
      st.ctx->feed->publish(
          hot_event{0, event_kind::invalidate, e[2].str, 0, 0, 0, false, {}});
      st.ctx->stats->invalidations_received.fetch_add(1, std::memory_order_relaxed);
    }
  }
  self->send(self, atoms::hk_read::value);
}

invalidation_follower_actor::behavior_type
follower(follower_self self, std::shared_ptr<node_context> ctx, redis_config redis,
         std::string channel, follower_log log) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.redis = std::move(redis);
  st.channel = std::move(channel);
  st.log = std::move(log);
  self->send(self, atoms::hk_subscribe::value);
  return {
      [self](atoms::hk_state) -> std::string { return to_string(self->state.state); },
      [self](atoms::hk_subscribe) { subscribe(self); },
      [self](atoms::hk_read) { read(self); },
  };
}

} // namespace

invalidation_follower_actor
spawn_invalidation_follower(caf::actor_system& sys, std::shared_ptr<node_context> ctx,
                            redis_config redis, std::string channel, follower_log log) {
  return sys.spawn<caf::detached>(follower, std::move(ctx), std::move(redis),
                                  std::move(channel), std::move(log));
}

} // namespace shoal::hotkey
