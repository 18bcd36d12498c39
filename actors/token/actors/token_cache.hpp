// token_cache: the actor on every node that holds the cluster's tokens locally.
//
// It publishes every token it adopts to the node's token_board, where application
// threads read it without a message. Tokens arrive pushed: from this node's keeper
// (atoms::token_push, forwarded to every peer cache) and from peer caches
// (msg::token_update). When a peer comes up (a restart, or this node's own
// return) the cache asks it for everything it holds (atoms::token_sync), so a node
// that was away catches up without polling.
//
// Callers with no valid token ask (atoms::token_get, provider, timeout_ms) and are
// parked as response promises until a token arrives; meanwhile the cache tells
// every keeper in the cluster (its own and, through peer caches, the others') that
// a token is wanted; only the one holding the lease acts. msg::token_rejected is
// passed on the same way, but only if the rejected token is this node's current.
//
// Peers' caches are found by a peer finder (actors/cluster/peer_finder.hpp) that
// looks "token_cache" up in every peer's directory and reports restarts.

#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include <caf/fwd.hpp>

#include "actors/token/core/refresh_policy.hpp"
#include "messages/token.hpp"

namespace shoal::token {

class token_board;
class token_observer;

/// The name under which every node registers its cache in its directory.
inline constexpr const char* token_cache_name = "token_cache";

struct cache_settings {
  /// This node's name.
  std::string node;
  /// Refresh policy per provider: where a token's mandatory window starts.
  std::map<std::string, refresh_policy_config> policies;
};

/// Spawns the cache. `directory` is the node's directory.
token_cache_actor spawn_token_cache(caf::actor_system& sys, cache_settings settings,
                                    directory_actor directory,
                                    std::shared_ptr<token_board> board,
                                    std::shared_ptr<token_observer> observer);

} // namespace shoal::token
