// token_keeper: the actor that refreshes one provider's token for the cluster.
//
// Every node allowed to keep tokens runs one keeper per provider; the one holding
// the provider's Redis lease (token_store) is active, the others stand by and try
// to take the lease every lease/3. The active keeper:
//   - on taking the lease, adopts the newest of the stored record and the token
//     this node already holds (writing the latter back when the store lost it),
//     then refreshes at a random point of the advisory window: never early because
//     of a takeover;
//   - runs at most one upstream fetch at a time, in a detached fetcher, and only
//     while its lease is fresh; writes the new token by compare-and-set on the
//     version, so a keeper that lost its lease cannot overwrite a newer token;
//   - pushes every adopted token to its node's cache (atoms::token_push), which
//     forwards it to every peer cache;
//   - counts each upstream call against the provider's daily quota in Redis, for
//     the whole cluster (its own count stands in while Redis is down);
//   - gives the lease up when its node shuts down cleanly;
//   - with a MySQL mirror configured, reads it once at start (a node starting while
//     Redis is down serves the last known good token; a keeper finding Redis empty
//     writes it back rather than fetching) and writes every token it adopts;
//   - with a MySQL mirror, also holds the mirror's fallback lease. It may refresh
//     while it holds the Redis lease and no other keeper holds the fallback lease,
//     or while Redis cannot be reached and it holds the fallback lease: so a Redis
//     outage longer than a lease is ridden out (by the same keeper, or by a standby
//     once the keeper's fallback lease runs out), and a keeper on the Redis lease
//     waits while another still acts on the fallback one. A standby contends for
//     the fallback lease only while it cannot reach Redis, and gives it up when
//     Redis says another keeper leads;
//   - refreshes at once for msg::token_wanted when there is no valid token, and
//     for msg::token_rejected only if the rejected token is still current.
// Redis calls run in a detached store worker, the HTTP call in a detached
// fetcher and MySQL calls in a detached mirror worker (token_store_actor,
// token_fetcher_actor, token_mirror_actor in messages/token.hpp); all have
// timeouts, so none blocks the scheduler or shutdown.

#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <caf/fwd.hpp>

#include "actors/token/core/provider_config.hpp"
#include "messages/token.hpp"
#include "runtime/adapters/mysql_connection.hpp"
#include "runtime/adapters/redis_connection.hpp"

namespace shoal::token {

class token_board;
class token_observer;

struct keeper_settings {
  provider_config provider;
  /// This node's name.
  std::string node;
  /// Unique per keeper incarnation: the lease's value.
  std::string owner;
  redis_config redis;
  std::chrono::milliseconds lease{3000};
  uint64_t seed = 1;
  /// The MySQL mirror of the token record (see token_mirror.hpp); unset: off.
  std::optional<mysql_config> mirror;
  std::string mirror_table = "shoal.token_mirror";
};

/// Spawns the keeper of one provider. `cache` is this node's token cache, `board`
/// its token board (read on takeover), `observer` gets its events.
token_keeper_actor spawn_token_keeper(caf::actor_system& sys, keeper_settings settings,
                                      token_cache_actor cache,
                                      std::shared_ptr<token_board> board,
                                      std::shared_ptr<token_observer> observer);

/// Makes `keeper` stop acting and give its lease up, so a standby takes over at
/// once instead of after the lease time; waits up to `timeout`. True when the
/// lease was released (false: this keeper did not hold it, or Redis did not answer).
bool release_keeper_lease(caf::actor_system& sys, const token_keeper_actor& keeper,
                          std::chrono::milliseconds timeout);

} // namespace shoal::token
