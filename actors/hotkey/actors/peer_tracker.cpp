// The peer tracker: keeps peer_book in step with the cluster. It owns two peer
// finders (actors/cluster/peer_finder.hpp): one for the cache actor of every peer,
// one for the counter shard of every shard node. It writes what they find into the
// peer book and clears it when they report it lost (the actor or its node died, or
// the node restarted), and sends every cache it finds the rules in force here.
//
// peer_book stays a shared structure on purpose: it is read by the recorder and the
// shard on every flush, and by application threads through the cache reader; a
// message round trip per flush would cost more than the lock.

#include <caf/all.hpp>

#include "actors/cluster/peer_finder.hpp"
#include "actors/hotkey/actors/pipeline.hpp"
#include "messages/cluster.hpp"
#include "messages/hotkey.hpp"

namespace shoal::hotkey {

namespace {

struct tracker_state {
  std::shared_ptr<pipeline> p;
  peer_finder_actor caches;
  peer_finder_actor shards;
  static inline const char* name = "shoal.hotkey.peer_tracker";
};

using tracker_self = peer_listener::stateful_pointer<tracker_state>;

peer_listener::behavior_type tracker(tracker_self self, std::shared_ptr<pipeline> p,
                                     directory_actor directory,
                                     std::vector<std::string> shard_nodes) {
  auto& st = self->state;
  st.p = std::move(p);
  auto& sys = self->system();
  auto me = caf::actor_cast<peer_listener>(self);
  st.caches = spawn_peer_finder(sys, directory, cache_name, {}, me);
  st.shards = spawn_peer_finder(sys, directory, shard_name, std::move(shard_nodes), me);
  return {
      [self](msg::peer_found& f) {
        auto& st = self->state;
        if (f.name == cache_name) {
          st.p->peers->set_cache(f.node, f.actor);
          auto rules = st.p->rules->current();
          caf::anon_send(f.actor, msg::hotkey_rules{rules->version, rules->json});
        } else {
          st.p->peers->set_shard(f.node, f.actor);
        }
      },
      [self](msg::peer_lost& l) {
        auto& peers = *self->state.p->peers;
        if (l.name == cache_name)
          peers.set_cache(l.node, {});
        else
          peers.set_shard(l.node, {});
      },
  };
}

} // namespace

peer_listener spawn_peer_tracker(caf::actor_system& sys, std::shared_ptr<pipeline> p,
                                 directory_actor directory,
                                 std::vector<std::string> shard_nodes) {
  return sys.spawn(tracker, std::move(p), std::move(directory), std::move(shard_nodes));
}

} // namespace shoal::hotkey
