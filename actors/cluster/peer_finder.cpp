#include "actors/cluster/peer_finder.hpp"

#include <chrono>
#include <map>
#include <set>

#include <caf/all.hpp>

#include "runtime/base/backoff.hpp"

namespace shoal {

namespace {

using namespace std::chrono;

constexpr auto lookup_timeout = seconds{2};

struct peer {
  uint64_t incarnation = 0;
  /// The peer's directory (msg::member carries it as caf::actor, the wire type).
  directory_actor directory;
  /// What was found for this incarnation; null while looking.
  caf::actor found;
  /// Between lookups of a name not registered yet (the peer's service is starting).
  /// Capped low: a lookup is one message, and a cache found late means pushes
  /// (a new token, a hot key) that miss the peer meanwhile.
  backoff delay{milliseconds{20}, milliseconds{300}};
};

struct finder_state {
  directory_actor directory;
  /// The name looked up on every peer.
  std::string wanted;
  /// Peers to look at; empty: every peer.
  std::set<std::string> nodes;
  peer_listener listener;
  std::string self_node;
  /// Peers that are up, by node name.
  std::map<std::string, peer> up;
  static inline const char* name = "shoal.peer_finder";
};

using finder_self = peer_finder_actor::stateful_pointer<finder_state>;

void lose(finder_self self, const std::string& node, peer& p) {
  if (!p.found)
    return;
  self->demonitor(p.found);
  p.found = nullptr;
  self->send(self->state.listener, msg::peer_lost{node, self->state.wanted});
}

void look(finder_self self, const std::string& node) {
  auto i = self->state.up.find(node);
  if (i == self->state.up.end() || i->second.found || !i->second.directory)
    return;
  auto incarnation = i->second.incarnation;
  auto retry = [self, node, incarnation](const caf::error&) {
    auto i = self->state.up.find(node);
    if (i != self->state.up.end() && i->second.incarnation == incarnation &&
        !i->second.found)
      self->delayed_send(self, i->second.delay.next(), atoms::find_again::value, node);
  };
  self->request(i->second.directory, lookup_timeout, msg::lookup{self->state.wanted})
      .then(
          [self, node, incarnation, retry](caf::actor& a) {
            auto i = self->state.up.find(node);
            if (i == self->state.up.end() || i->second.incarnation != incarnation ||
                i->second.found)
              return;
            if (!a) {
              retry(caf::make_error(caf::sec::remote_lookup_failed));
              return;
            }
            i->second.found = a;
            i->second.delay.reset();
            self->monitor(a);
            self->send(
                self->state.listener,
                msg::peer_found{node, incarnation, self->state.wanted, std::move(a)});
          },
          retry);
}

void on_member(finder_self self, const msg::member& m) {
  auto& st = self->state;
  if (m.node == st.self_node || (!st.nodes.empty() && !st.nodes.count(m.node)))
    return;
  auto i = st.up.find(m.node);
  if (!m.up) {
    if (i != st.up.end()) {
      lose(self, m.node, i->second);
      st.up.erase(i);
    }
    return;
  }
  if (i != st.up.end()) {
    if (i->second.incarnation == m.incarnation &&
        i->second.directory.address() == m.directory.address())
      return;
    lose(self, m.node, i->second);
  } else {
    i = st.up.emplace(m.node, peer{}).first;
  }
  i->second.incarnation = m.incarnation;
  i->second.directory = caf::actor_cast<directory_actor>(m.directory);
  look(self, m.node);
}

peer_finder_actor::behavior_type finder(finder_self self, directory_actor directory,
                                        std::string name, std::vector<std::string> nodes,
                                        peer_listener listener) {
  auto& st = self->state;
  st.directory = std::move(directory);
  st.wanted = std::move(name);
  st.nodes.insert(nodes.begin(), nodes.end());
  st.listener = std::move(listener);
  self->monitor(st.listener);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source == st.listener.address()) {
      self->quit(dm.reason);
      return;
    }
    for (auto& [node, p] : st.up)
      if (p.found && p.found.address() == dm.source) {
        lose(self, node, p);
        look(self, node);
        return;
      }
  });
  self->request(st.directory, lookup_timeout, atoms::subscribe::value,
                caf::actor_cast<caf::actor>(self))
      .then(
          [self](msg::membership& view) {
            self->state.self_node = view.self;
            for (auto& m : view.members)
              on_member(self, m);
          },
          [self](caf::error& err) { self->quit(err); });
  return {
      [self](msg::member_changed& c) { on_member(self, c.who); },
      [self](atoms::find_again, const std::string& node) { look(self, node); },
  };
}

} // namespace

peer_finder_actor spawn_peer_finder(caf::actor_system& sys, directory_actor directory,
                                    std::string name, std::vector<std::string> nodes,
                                    peer_listener listener) {
  return sys.spawn(finder, std::move(directory), std::move(name), std::move(nodes),
                   std::move(listener));
}

} // namespace shoal
