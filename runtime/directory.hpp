// The directory: one actor per node that knows the cluster.
//
// It is what a node publishes on its listen port. It keeps connecting to every
// configured peer (exponential backoff with jitter while a peer is unreachable),
// greets each with a `msg::hello`, and monitors the peer's directory: a peer that
// dies or freezes is seen as down when BASP's connection timeout fires
// (cluster.connection_timeout_ms) and as up again when it comes back.
//
// It also maps names to actors on its own node ("token_cache", "hot_cache", ...)
// so that services on other nodes can find them with `msg::lookup`.
//
// Its protocol is `directory_actor` in messages/cluster.hpp.

#pragma once

#include <caf/fwd.hpp>

#include "messages/cluster.hpp"
#include "runtime/config.hpp"

namespace shoal {

/// Spawns the directory of a node with config `cfg`. `use_tls` selects the
/// OpenSSL middleman for outgoing connections.
directory_actor spawn_directory(caf::actor_system& sys, const config& cfg, bool use_tls);

} // namespace shoal
