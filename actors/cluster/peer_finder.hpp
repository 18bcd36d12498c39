// peer_finder: finds one named actor on every peer and keeps it found.
//
// A service that talks to its counterpart on other nodes (the token cache to the
// other token caches, the hot-key tracker to every cache actor and shard) spawns a
// peer finder with the name the counterpart registered in its directory:
//
//   auto finder = spawn_peer_finder(sys, node.directory(), "hotkey.cache", {}, self);
//   // self receives msg::peer_found{node, incarnation, name, actor}
//   //          and msg::peer_lost{node, name}
//
// It subscribes to the local directory and, for every peer that is up, asks that
// peer's directory (msg::lookup) for the name, retrying with jittered backoff until
// it is registered. It monitors what it found, and reports it lost when the actor
// dies, the peer goes down, or the peer comes back as a new incarnation (a restart
// the middleman's reconnect alone would hide); then it looks again. It stops when
// its listener stops. Its protocol is `peer_finder_actor` in messages/cluster.hpp.
#pragma once

#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/cluster.hpp"

namespace shoal {

/// Spawns a finder of the actor registered as `name` on every peer (only on the
/// peers in `nodes`, when not empty) that reports to `listener`.
peer_finder_actor spawn_peer_finder(caf::actor_system& sys, directory_actor directory,
                                    std::string name, std::vector<std::string> nodes,
                                    peer_listener listener);

} // namespace shoal
