// The peer tracker: keeps peer_book in step with the cluster. For every peer the
// directory reports up, it connects to the peer's directory (CAF remoting), looks up
// the peer's cache actor and shard there, retrying while the peer's service starts,
// and drops them when the peer goes down.

#include <map>
#include <set>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/hotkey/actors/pipeline.hpp"
#include "messages/cluster.hpp"
#include "messages/hotkey.hpp"

namespace shoal::hotkey {

namespace {

using retry_atom = caf::atom_constant<caf::atom("hk_retry")>;
constexpr auto retry_after = std::chrono::milliseconds{200};
constexpr auto timeout = std::chrono::seconds{2};

struct tracker_state {
  std::shared_ptr<pipeline> p;
  caf::actor directory;
  std::map<std::string, peer_address> addresses;
  std::set<std::string> shard_nodes;
  bool tls = false;
  /// Peers up now, with the incarnation seen, so stale lookups are ignored.
  std::map<std::string, uint64_t> up;
  /// Peers whose actors were found for the incarnation in `up`.
  std::set<std::string> linked;
  /// Remote actors monitored per peer (its cache and shard).
  std::multimap<std::string, caf::actor_addr> watched;
  static inline const char* name = "shoal.hotkey.peer_tracker";
};

using tracker_actor = caf::stateful_actor<tracker_state>;

bool runs_shard(const tracker_state& st, const std::string& node) {
  return st.shard_nodes.empty() || st.shard_nodes.count(node) > 0;
}

void link(tracker_actor* self, const std::string& name, uint64_t incarnation);

void retry(tracker_actor* self, const std::string& name, uint64_t incarnation) {
  self->delayed_send(self, retry_after, retry_atom::value, name, incarnation);
}

bool current(tracker_actor* self, const std::string& name, uint64_t incarnation) {
  auto i = self->state.up.find(name);
  return i != self->state.up.end() && i->second == incarnation &&
         self->state.linked.count(name) == 0;
}

void found(tracker_actor* self, const std::string& name, caf::actor cache, caf::actor shard) {
  auto& st = self->state;
  st.linked.insert(name);
  self->monitor(cache);
  st.watched.emplace(name, cache.address());
  if (shard) {
    self->monitor(shard);
    st.watched.emplace(name, shard.address());
  }
  st.p->peers->set_cache(name, cache);
  if (shard)
    st.p->peers->set_shard(name, shard);
  auto rules = st.p->rules->current();
  self->send(cache, msg::hotkey_rules{rules->version, rules->json});
}

void lookup(tracker_actor* self, const std::string& name, uint64_t incarnation,
            caf::actor dir) {
  self->request(dir, timeout, msg::lookup{cache_name})
    .then(
      [self, name, incarnation, dir](caf::actor& cache) {
        if (!current(self, name, incarnation))
          return;
        if (!runs_shard(self->state, name)) {
          found(self, name, cache, {});
          return;
        }
        self->request(dir, timeout, msg::lookup{shard_name})
          .then(
            [self, name, incarnation, cache](caf::actor& shard) {
              if (current(self, name, incarnation))
                found(self, name, cache, shard);
            },
            [self, name, incarnation](caf::error&) { retry(self, name, incarnation); });
      },
      [self, name, incarnation](caf::error&) { retry(self, name, incarnation); });
}

void link(tracker_actor* self, const std::string& name, uint64_t incarnation) {
  auto& st = self->state;
  if (!current(self, name, incarnation))
    return;
  auto a = st.addresses.find(name);
  if (a == st.addresses.end())
    return;
  auto& sys = self->system();
  auto mm = st.tls ? sys.openssl_manager().actor_handle() : sys.middleman().actor_handle();
  self->request(mm, timeout, caf::connect_atom::value, a->second.host, a->second.port)
    .then(
      [self, name, incarnation](const caf::node_id&, caf::strong_actor_ptr& ptr,
                                const std::set<std::string>&) {
        if (!current(self, name, incarnation))
          return;
        if (!ptr) {
          retry(self, name, incarnation);
          return;
        }
        lookup(self, name, incarnation, caf::actor_cast<caf::actor>(ptr));
      },
      [self, name, incarnation](caf::error&) { retry(self, name, incarnation); });
}

void on_member(tracker_actor* self, const msg::member& m) {
  auto& st = self->state;
  if (m.node == st.p->node)
    return;
  if (!m.up) {
    st.up.erase(m.node);
    st.linked.erase(m.node);
    st.watched.erase(m.node);
    st.p->peers->erase(m.node);
    return;
  }
  auto i = st.up.find(m.node);
  if (i != st.up.end() && i->second == m.incarnation)
    return;
  st.up[m.node] = m.incarnation;
  st.linked.erase(m.node);
  st.watched.erase(m.node);
  st.p->peers->erase(m.node);
  link(self, m.node, m.incarnation);
}

caf::behavior tracker(tracker_actor* self, std::shared_ptr<pipeline> p, caf::actor directory,
                      std::vector<peer_address> peers, std::vector<std::string> shard_nodes,
                      bool tls) {
  auto& st = self->state;
  st.p = std::move(p);
  st.directory = directory;
  st.tls = tls;
  for (auto& a : peers)
    st.addresses[a.name] = a;
  st.shard_nodes.insert(shard_nodes.begin(), shard_nodes.end());
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto i = st.watched.begin(); i != st.watched.end(); ++i) {
      if (i->second != dm.source)
        continue;
      auto name = i->first;
      st.watched.erase(name);
      st.linked.erase(name);
      st.p->peers->erase(name);
      auto u = st.up.find(name);
      if (u != st.up.end())
        retry(self, name, u->second);
      return;
    }
  });
  self->request(directory, timeout, atoms::subscribe::value, caf::actor_cast<caf::actor>(self))
    .then([self](msg::membership& view) {
      for (auto& m : view.members)
        on_member(self, m);
    });
  return {
    [self](msg::member_changed& c) { on_member(self, c.who); },
    [self](retry_atom, const std::string& name, uint64_t incarnation) {
      link(self, name, incarnation);
    },
  };
}

} // namespace

caf::actor spawn_peer_tracker(caf::actor_system& sys, std::shared_ptr<pipeline> p,
                              caf::actor directory, std::vector<peer_address> peers,
                              std::vector<std::string> shard_nodes, bool tls) {
  return sys.spawn(tracker, std::move(p), std::move(directory), std::move(peers),
                   std::move(shard_nodes), tls);
}

} // namespace shoal::hotkey
