// The peer tracker: knows which node's hot-key actors are live. It owns two peer
// finders (actors/cluster/peer_finder.hpp): one for the cache actor of every peer,
// one for the counter shard of every shard node. Whenever what they report changes,
// it sends the whole picture (msg::hotkey_peers, this node's actors included) to
// the node's recorder and shard, which route with their own copy. It sends every
// cache it finds the rules in force here, and fans rule sets and invalidations out
// to every node's cache.

#include <caf/all.hpp>

#include "actors/cluster/peer_finder.hpp"
#include "actors/hotkey/actors/node_context.hpp"
#include "messages/cluster.hpp"
#include "messages/hotkey.hpp"

namespace shoal::hotkey {

namespace {

struct tracker_state {
  std::shared_ptr<node_context> ctx;
  local_actors local;
  /// Live nodes' actors, this node's included.
  msg::hotkey_peers live;
  peer_finder_actor caches;
  peer_finder_actor shards;
  static inline const char* name = "shoal.hotkey.peer_tracker";
};

using tracker_self = hotkey_tracker_actor::stateful_pointer<tracker_state>;

void tell(tracker_self self) {
  auto& st = self->state;
  self->send(st.local.recorder, st.live);
  if (st.local.shard)
    self->send(st.local.shard, st.live);
}

template <class Message> uint64_t to_every_cache(tracker_self self, const Message& m) {
  uint64_t n = 0;
  for (auto& [_, c] : self->state.live.caches) {
    self->send(caf::actor_cast<hotkey_cache_actor>(c), m);
    ++n;
  }
  return n;
}

hotkey_tracker_actor::behavior_type
tracker(tracker_self self, std::shared_ptr<node_context> ctx, directory_actor directory,
        std::vector<std::string> shard_nodes, local_actors local) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.local = std::move(local);
  st.live.caches[st.ctx->node] = caf::actor_cast<caf::actor>(st.local.cache);
  if (st.local.shard)
    st.live.shards[st.ctx->node] = caf::actor_cast<caf::actor>(st.local.shard);
  tell(self);
  auto& sys = self->system();
  auto me = caf::actor_cast<peer_listener>(self);
  st.caches = spawn_peer_finder(sys, directory, cache_name, {}, me);
  st.shards = spawn_peer_finder(sys, directory, shard_name, std::move(shard_nodes), me);
  return {
      [self](msg::peer_found& f) {
        auto& st = self->state;
        if (f.name == cache_name) {
          st.live.caches[f.node] = f.actor;
          auto rules = st.ctx->rules->current();
          self->send(caf::actor_cast<hotkey_cache_actor>(f.actor),
                     msg::hotkey_rules{rules->version, rules->json});
        } else {
          st.live.shards[f.node] = f.actor;
        }
        tell(self);
      },
      [self](msg::peer_lost& l) {
        auto& live = self->state.live;
        (l.name == cache_name ? live.caches : live.shards).erase(l.node);
        tell(self);
      },
      [self](atoms::hk_peers) { return self->state.live; },
      [self](msg::hotkey_rules& r) { return to_every_cache(self, r); },
      [self](msg::invalidate_keys& k) { to_every_cache(self, k); },
      [self](msg::invalidate_matching& k) { to_every_cache(self, k); },
  };
}

} // namespace

hotkey_tracker_actor spawn_peer_tracker(caf::actor_system& sys,
                                        std::shared_ptr<node_context> ctx,
                                        directory_actor directory,
                                        std::vector<std::string> shard_nodes,
                                        local_actors local) {
  return sys.spawn(tracker, std::move(ctx), std::move(directory), std::move(shard_nodes),
                   std::move(local));
}

} // namespace shoal::hotkey
