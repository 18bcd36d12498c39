// Messages of the cluster layer: how nodes greet each other, what a node's
// directory answers, and the membership events that services subscribe to.
//
// Every type here travels between processes; it is registered by name in
// messages/registry.cpp, so all nodes must run the same definitions.

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/type_id.hpp>

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
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member& x) {
  return f(caf::meta::type_name("shoal::msg::member"), x.node, x.up, x.incarnation,
           x.since_ms);
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

} // namespace shoal::msg

CAF_BEGIN_TYPE_ID_BLOCK(shoal_cluster, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(shoal_cluster, (shoal::msg::hello))
  CAF_ADD_TYPE_ID(shoal_cluster, (shoal::msg::member))
  CAF_ADD_TYPE_ID(shoal_cluster, (shoal::msg::membership))
  CAF_ADD_TYPE_ID(shoal_cluster, (shoal::msg::member_changed))
  CAF_ADD_TYPE_ID(shoal_cluster, (shoal::msg::lookup))
  CAF_ADD_TYPE_ID(shoal_cluster, (std::vector<shoal::msg::member>))
CAF_END_TYPE_ID_BLOCK(shoal_cluster)

namespace shoal::atoms {
using subscribe = caf::atom_constant<caf::atom("subscribe")>;
using members = caf::atom_constant<caf::atom("members")>;
using register_name = caf::atom_constant<caf::atom("regname")>;
} // namespace shoal::atoms
