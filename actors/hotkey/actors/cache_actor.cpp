// The cache actor of a node: applies the shards' pushes, invalidations and rule
// updates to the node's hot_view and rule_book, expires cooled keys, and tells the
// node's hot_feed every change.

#include <caf/all.hpp>

#include "actors/hotkey/actors/node_context.hpp"
#include "actors/hotkey/core/rule_parser.hpp"
#include "messages/hotkey.hpp"

namespace shoal::hotkey {

namespace {

struct cache_state {
  std::shared_ptr<node_context> p;
  static inline const char* name = "shoal.hotkey.cache";
};

using cache_self = hotkey_cache_actor::stateful_pointer<cache_state>;

hotkey_cache_actor::behavior_type cache(cache_self self,
                                        std::shared_ptr<node_context> p) {
  self->state.p = std::move(p);
  auto tick = std::chrono::milliseconds{self->state.p->expire_ms};
  self->delayed_send(self, tick, atoms::hk_tick::value);
  return {
      [self](msg::hot_keys& in) {
        auto& p = *self->state.p;
        auto now = p.clock->now_ms();
        auto wall = hotkey_clock::wall_us();
        for (auto& e : in.keys) {
          p.view->mark(e.key, e.count, e.ttl_ms, e.manual, now);
          p.stats->hot_received.fetch_add(1, std::memory_order_relaxed);
          p.stats->push_latency(std::max<int64_t>(0, wall - e.detected_us));
          // A manual key keeps its expiry when a detection arrives: tell what the
          // view holds, not what the push said.
          auto until = p.view->hot_until(e.key, now);
          if (!until)
            continue;
          auto ttl = *until == hot_set::forever ? 0 : std::max<int64_t>(1, *until - now);
          p.feed->publish(hot_event{0, event_kind::hot, e.key, e.count, ttl,
                                    ttl == 0 ? 0 : wall / 1000 + ttl, e.manual,
                                    in.shard});
        }
      },
      [self](msg::cooled_keys& in) {
        auto& p = *self->state.p;
        for (auto& k : in.keys)
          if (p.view->unmark(k))
            p.feed->publish(hot_event{0, event_kind::cold, k, 0, 0, 0, false, in.shard});
      },
      [self](msg::invalidate_keys& in) {
        auto& p = *self->state.p;
        for (auto& k : in.keys) {
          p.view->erase_value(k);
          p.feed->publish(hot_event{0, event_kind::invalidate, k, 0, 0, 0, false, {}});
        }
      },
      [self](msg::invalidate_matching& in) {
        auto& p = *self->state.p;
        std::vector<key_pattern> patterns;
        for (auto& pieces : in.patterns)
          patterns.push_back({std::move(pieces)});
        for (auto& k : p.view->erase_matching(patterns))
          p.feed->publish(hot_event{0, event_kind::invalidate, k, 0, 0, 0, false, {}});
      },
      [self](msg::hotkey_rules& in) {
        auto& p = *self->state.p;
        if (in.version <= p.rules->current()->version)
          return;
        nlohmann::json doc;
        try {
          doc = nlohmann::json::parse(in.rules_json);
        } catch (const nlohmann::json::exception&) {
          return;
        }
        auto parsed = parse_rules(doc);
        if (!parsed)
          return;
        p.rules->offer(
            std::make_shared<rule_set>(in.version, std::move(*parsed), in.rules_json));
      },
      [self](atoms::hk_manual) {
        auto& p = *self->state.p;
        auto now = p.clock->now_ms();
        msg::hot_keys out{p.node, {}};
        for (auto& k : p.view->list(now)) {
          if (!k.manual)
            continue;
          auto ttl =
              k.until_ms == hot_set::forever ? 0 : std::max<int64_t>(1, k.until_ms - now);
          out.keys.push_back(
              msg::hot_entry{k.key, 0, ttl, hotkey_clock::wall_us(), true});
        }
        return out;
      },
      [self, tick](atoms::hk_tick) {
        auto& p = *self->state.p;
        for (auto& k : p.view->expire(p.clock->now_ms()))
          p.feed->publish(hot_event{0, event_kind::cold, k, 0, 0, 0, false, {}});
        self->delayed_send(self, tick, atoms::hk_tick::value);
      },
  };
}

} // namespace

hotkey_cache_actor spawn_cache_actor(caf::actor_system& sys,
                                     std::shared_ptr<node_context> p) {
  return sys.spawn(cache, std::move(p));
}

} // namespace shoal::hotkey
