// Messages of the cluster layer: how nodes greet each other, what a node's
// directory answers, and the membership events that services subscribe to.
//
// Every type here travels between processes; it is registered by name in
// messages/registry.cpp, so all nodes must run the same definitions.
// Actor handles inside messages travel as caf::actor, the one handle type the
// registry knows; whoever receives one casts it to the typed interface of what
// it names (directory_actor, token_cache_actor, hotkey_cache_actor...) before
// sending anything, so every send is still checked by the compiler.

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

namespace shoal::msg {

/// Sent by a node to a peer's directory right after connecting, and answered
/// with the peer's own hello. `incarnation` changes on every process start, so
/// a restarted peer is told apart from a reconnect to the same process.
struct hello {
  std::string node;
  caf::actor directory;
  uint64_t incarnation = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hello& x) {
  return f(caf::meta::type_name("shoal::msg::hello"), x.node, x.directory, x.incarnation);
}

/// One peer as a node sees it.
struct member {
  std::string node;
  bool up = false;
  uint64_t incarnation = 0;
  /// Milliseconds since the epoch of the last change of `up`.
  int64_t since_ms = 0;
  /// The peer's directory while it is up (null when down, and for the node itself).
  caf::actor directory;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member& x) {
  return f(caf::meta::type_name("shoal::msg::member"), x.node, x.up, x.incarnation,
           x.since_ms, x.directory);
}

/// A node's view of the cluster, itself included (always up).
struct membership {
  std::string self;
  std::vector<member> members;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, membership& x) {
  return f(caf::meta::type_name("shoal::msg::membership"), x.self, x.members);
}

/// Pushed to local subscribers whenever a peer comes up or goes down.
struct member_changed {
  member who;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_changed& x) {
  return f(caf::meta::type_name("shoal::msg::member_changed"), x.who);
}

/// Asks a directory for the actor registered under a name on its node.
struct lookup {
  std::string name;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lookup& x) {
  return f(caf::meta::type_name("shoal::msg::lookup"), x.name);
}

/// A peer finder found the actor named `name` on `node` (incarnation `incarnation`).
struct peer_found {
  std::string node;
  uint64_t incarnation = 0;
  std::string name;
  caf::actor actor;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_found& x) {
  return f(caf::meta::type_name("shoal::msg::peer_found"), x.node, x.incarnation, x.name,
           x.actor);
}

/// The actor a peer finder reported for `node` is gone (the actor or its node died,
/// or the node restarted); a peer_found follows once it is found again.
struct peer_lost {
  std::string node;
  std::string name;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_lost& x) {
  return f(caf::meta::type_name("shoal::msg::peer_lost"), x.node, x.name);
}

} // namespace shoal::msg

CAF_BEGIN_TYPE_ID_BLOCK(shoal_cluster, caf::first_custom_type_id)
CAF_ADD_TYPE_ID(shoal_cluster, (shoal::msg::hello))
CAF_ADD_TYPE_ID(shoal_cluster, (shoal::msg::member))
CAF_ADD_TYPE_ID(shoal_cluster, (shoal::msg::membership))
CAF_ADD_TYPE_ID(shoal_cluster, (shoal::msg::member_changed))
CAF_ADD_TYPE_ID(shoal_cluster, (shoal::msg::lookup))
CAF_ADD_TYPE_ID(shoal_cluster, (std::vector<shoal::msg::member>))
CAF_ADD_TYPE_ID(shoal_cluster, (shoal::msg::peer_found))
CAF_ADD_TYPE_ID(shoal_cluster, (shoal::msg::peer_lost))
CAF_END_TYPE_ID_BLOCK(shoal_cluster)

namespace shoal::atoms {
using subscribe = caf::atom_constant<caf::atom("subscribe")>;
using members = caf::atom_constant<caf::atom("members")>;
using register_name = caf::atom_constant<caf::atom("regname")>;
/// The directory's own timer: try to reach this peer again.
using reconnect = caf::atom_constant<caf::atom("reconnect")>;
/// A peer finder's own timer: look this peer up again.
using find_again = caf::atom_constant<caf::atom("findagain")>;
} // namespace shoal::atoms

namespace shoal {

/// The directory: one per node, published on the node's port (runtime/directory.hpp).
///
///   (msg::hello) -> (msg::hello)
///       A peer greets with its name, directory and incarnation; the answer is ours.
///   (atoms::members) -> (msg::membership)
///       The current view of the cluster, this node included.
///   (atoms::subscribe, actor who) -> (msg::membership)
///       The view now, and a msg::member_changed to `who` on every change after.
///   (atoms::register_name, string name, actor who)
///       Names a local actor so that peers can look it up (until it dies).
///   (msg::lookup) -> (actor)
///       The actor registered under a name on this node, or an error.
///   (atoms::reconnect, string peer)
///       Internal: the directory's retry timer for an unreachable peer.
using directory_actor =
    caf::typed_actor<caf::replies_to<msg::hello>::with<msg::hello>,
                     caf::replies_to<atoms::members>::with<msg::membership>,
                     caf::replies_to<atoms::subscribe, caf::actor>::with<msg::membership>,
                     caf::reacts_to<atoms::register_name, std::string, caf::actor>,
                     caf::replies_to<msg::lookup>::with<caf::actor>,
                     caf::reacts_to<atoms::reconnect, std::string>>;

/// Whoever asks a peer finder for an actor on every peer
/// (actors/cluster/peer_finder.hpp).
///
///   (msg::peer_found)   the named actor of a peer, found (again)
///   (msg::peer_lost)    that actor is gone until the next peer_found
using peer_listener =
    caf::typed_actor<caf::reacts_to<msg::peer_found>, caf::reacts_to<msg::peer_lost>>;

/// A peer finder: follows the directory's membership and looks a name up on every peer.
///
///   (msg::member_changed)               from the directory it subscribed to
///   (atoms::find_again, string peer)    internal: its retry timer
using peer_finder_actor =
    caf::typed_actor<caf::reacts_to<msg::member_changed>,
                     caf::reacts_to<atoms::find_again, std::string>>;

} // namespace shoal
