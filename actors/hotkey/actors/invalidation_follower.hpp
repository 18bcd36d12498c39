// invalidation_follower: keeps a node's hot cache honest when another system
// changes the data behind it. The application (or a trigger, or shoal's own binlog
// sync) publishes a key on a Redis channel; every node's follower drops its cached
// value of that key (the key stays hot, its next read loads afresh).
//
//   auto f = spawn_invalidation_follower(sys, ctx, redis, "shoal:invalidate", log);
//
// It runs detached (hiredis blocks): it subscribes, then reads the channel in
// short slices, one message to itself per slice, so an exit message stops it within
// one slice. When Redis is unreachable or the connection breaks it resubscribes with
// backoff and says so once through `log`. Its protocol is
// `invalidation_follower_actor` in messages/hotkey.hpp.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/hotkey/actors/node_context.hpp"
#include "messages/hotkey.hpp"
#include "runtime/adapters/redis_connection.hpp"

namespace shoal::hotkey {

/// Where the follower reports: error (true) or information, and the line.
using follower_log = std::function<void(bool error, const std::string& line)>;

/// Spawns the follower of `channel` on the Redis server `redis`.
invalidation_follower_actor
spawn_invalidation_follower(caf::actor_system& sys, std::shared_ptr<node_context> ctx,
                            redis_config redis, std::string channel, follower_log log);

} // namespace shoal::hotkey
