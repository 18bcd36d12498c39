// The recorder actor: drains the node's key_recorder every flush_ms and sends each
// shard the counts of the keys it owns, one message per shard. It also passes the
// operators' manual keys on: an add to the shard owning the key, a removal to every
// shard, and for a while to every shard it finds later.

#include <map>

#include <caf/all.hpp>

#include "actors/hotkey/actors/node_context.hpp"
#include "messages/hotkey.hpp"

namespace shoal::hotkey {

namespace {

struct recorder_state {
  std::shared_ptr<node_context> p;
  /// The live shards by node, from the peer tracker.
  std::map<std::string, counter_shard_actor> shards;
  /// Their nodes, sorted: what placement picks an owner among.
  std::vector<std::string> shard_nodes;
  /// Operators' removals sent lately, with when (clock ms), by key. A shard this
  /// node had not found yet (its node just came back) may have taken the key back
  /// from a cache: it gets the removal once found. Kept for removal_memory_ms.
  std::map<std::string, std::pair<msg::manual_hot, int64_t>> removals;
  static inline const char* name = "shoal.hotkey.recorder";
};

using recorder_self = hotkey_recorder_actor::stateful_pointer<recorder_state>;

counter_shard_actor shard_of(recorder_self self, const std::string& node) {
  auto i = self->state.shards.find(node);
  return i == self->state.shards.end() ? counter_shard_actor{} : i->second;
}

/// Batches of the drained counts per shard node.
std::map<std::string, msg::key_counts> route(recorder_self self) {
  auto& p = *self->state.p;
  std::map<std::string, msg::key_counts> out;
  auto counts = p.recorder->drain();
  if (counts.empty())
    return out;
  auto& nodes = self->state.shard_nodes;
  auto now = p.clock->now_ms();
  uint64_t unrouted = 0;
  for (auto& [key, n] : counts) {
    auto owner = p.owner(key, nodes);
    if (!owner) {
      unrouted += n;
      continue;
    }
    auto& batch = out[*owner];
    if (batch.from.empty()) {
      batch.from = p.node;
      batch.at_ms = now;
    }
    batch.keys.push_back(std::move(key));
    batch.counts.push_back(n);
  }
  p.stats->counts_unrouted.fetch_add(unrouted, std::memory_order_relaxed);
  return out;
}

hotkey_recorder_actor::behavior_type recorder(recorder_self self,
                                              std::shared_ptr<node_context> p) {
  self->state.p = std::move(p);
  auto every = std::chrono::milliseconds{self->state.p->flush_ms};
  self->delayed_send(self, every, atoms::hk_tick::value);
  return {
      [self, every](atoms::hk_tick) {
        auto& st = self->state;
        auto& p = *st.p;
        auto now = p.clock->now_ms();
        for (auto i = st.removals.begin(); i != st.removals.end();)
          i = now - i->second.second > removal_memory_ms ? st.removals.erase(i)
                                                         : std::next(i);
        for (auto& [node, batch] : route(self)) {
          if (auto shard = shard_of(self, node)) {
            p.stats->counts_sent.fetch_add(batch.keys.size(), std::memory_order_relaxed);
            self->send(shard, std::move(batch));
          }
        }
        self->delayed_send(self, every, atoms::hk_tick::value);
      },
      [self](atoms::hk_flush) -> caf::result<bool> {
        auto& p = *self->state.p;
        auto batches = route(self);
        auto rp = self->make_response_promise<bool>();
        auto pending = std::make_shared<size_t>(0);
        for (auto& [node, batch] : batches) {
          auto shard = shard_of(self, node);
          if (!shard)
            continue;
          ++*pending;
          p.stats->counts_sent.fetch_add(batch.keys.size(), std::memory_order_relaxed);
          auto done = [rp, pending]() mutable {
            if (--*pending == 0)
              rp.deliver(true);
          };
          self->request(shard, std::chrono::seconds{10}, atoms::hk_flush::value,
                        std::move(batch))
              .then([done](uint64_t) mutable { done(); },
                    [done](caf::error&) mutable { done(); });
        }
        if (*pending == 0)
          rp.deliver(true);
        return rp;
      },
      [self](msg::hotkey_peers& live) {
        auto& st = self->state;
        std::map<std::string, counter_shard_actor> shards;
        st.shard_nodes.clear();
        for (auto& [node, s] : live.shards)
          if (s) {
            auto shard = caf::actor_cast<counter_shard_actor>(s);
            auto known = st.shards.find(node);
            if (known == st.shards.end() || known->second != shard)
              for (auto& [_, removal] : st.removals)
                self->send(shard, removal.first);
            shards.emplace(node, std::move(shard));
            st.shard_nodes.push_back(node);
          }
        st.shards = std::move(shards);
      },
      [self](msg::manual_hot& m) {
        auto& st = self->state;
        auto& p = *st.p;
        if (!m.hot) {
          for (auto& [_, shard] : st.shards)
            self->send(shard, m);
          st.removals[m.key] = {m, p.clock->now_ms()};
          return;
        }
        st.removals.erase(m.key);
        auto owner = p.owner(m.key, st.shard_nodes);
        if (!owner)
          return;
        if (auto shard = shard_of(self, *owner))
          self->send(shard, std::move(m));
      },
  };
}

} // namespace

hotkey_recorder_actor spawn_recorder(caf::actor_system& sys,
                                     std::shared_ptr<node_context> p) {
  return sys.spawn(recorder, std::move(p));
}

} // namespace shoal::hotkey
