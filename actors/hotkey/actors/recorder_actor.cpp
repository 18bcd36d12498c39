// The recorder actor: drains the node's key_recorder every flush_ms and sends each
// shard the counts of the keys it owns, one message per shard.

#include <map>

#include <caf/all.hpp>

#include "actors/hotkey/actors/pipeline.hpp"
#include "messages/hotkey.hpp"

namespace shoal::hotkey {

namespace {

struct recorder_state {
  std::shared_ptr<pipeline> p;
  static inline const char* name = "shoal.hotkey.recorder";
};

using recorder_actor = caf::stateful_actor<recorder_state>;

/// Batches of the drained counts per shard node.
std::map<std::string, msg::key_counts> route(recorder_actor* self) {
  auto& p = *self->state.p;
  std::map<std::string, msg::key_counts> out;
  auto counts = p.recorder->drain();
  if (counts.empty())
    return out;
  auto nodes = p.peers->shard_nodes();
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

caf::behavior recorder(recorder_actor* self, std::shared_ptr<pipeline> p) {
  self->state.p = std::move(p);
  auto every = std::chrono::milliseconds{self->state.p->flush_ms};
  self->delayed_send(self, every, atoms::hk_tick::value);
  return {
      [self, every](atoms::hk_tick) {
        auto& p = *self->state.p;
        for (auto& [node, batch] : route(self)) {
          if (auto shard = p.peers->shard_of(node)) {
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
          auto shard = p.peers->shard_of(node);
          if (!shard)
            continue;
          ++*pending;
          p.stats->counts_sent.fetch_add(batch.keys.size(), std::memory_order_relaxed);
          auto done = [rp, pending]() mutable {
            if (--*pending == 0)
              rp.deliver(true);
          };
          self->request(shard, std::chrono::seconds{10}, std::move(batch))
              .then([done](uint64_t) mutable { done(); },
                    [done](caf::error&) mutable { done(); });
        }
        if (*pending == 0)
          rp.deliver(true);
        return rp;
      },
      [](uint64_t) {
        // A shard's answer to counts sent without waiting: nothing to do.
      },
      [self](msg::manual_hot& m) {
        auto& p = *self->state.p;
        auto owner = p.owner(m.key, p.peers->shard_nodes());
        if (!owner)
          return;
        if (auto shard = p.peers->shard_of(*owner))
          self->send(shard, std::move(m));
      },
  };
}

} // namespace

caf::actor spawn_recorder(caf::actor_system& sys, std::shared_ptr<pipeline> p) {
  return sys.spawn(recorder, std::move(p));
}

} // namespace shoal::hotkey
