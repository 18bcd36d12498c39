// Messages of the token keeper: what the keeper pushes to every node's token
// cache, what caches ask of each other and of the keeper, and the replies of the
// keeper's detached workers (Redis store and upstream fetcher).
//
//   keeper --tok_push, token_update--> local cache --token_update--> peer caches
//   cache  --tok_sync-->               peer cache  -> std::vector<token_update>
//   cache  --token_wanted / token_rejected--> keeper (any node)
//
// Every type here is registered by name in messages/registry.cpp.

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

#include "messages/cluster.hpp"

namespace shoal::msg {

/// One token of one provider as the keeper adopted it. `version` orders tokens:
/// a cache only adopts a higher version. version 0 means "no token".
struct token_update {
  std::string provider;
  std::string token;
  /// Milliseconds since the epoch.
  int64_t obtained_at_ms = 0;
  int64_t expires_at_ms = 0;
  uint64_t version = 0;
  /// The node of the keeper that adopted it, and that keeper (may be null when
  /// the record came from the store).
  std::string keeper_node;
  caf::actor keeper;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_update& x) {
  return f(caf::meta::type_name("shoal::msg::token_update"), x.provider, x.token,
           x.obtained_at_ms, x.expires_at_ms, x.version, x.keeper_node, x.keeper);
}

/// An application saw the platform refuse `token` (40001, 40014, 42001).
struct token_rejected {
  std::string provider;
  std::string token;
  /// The node whose application saw the refusal.
  std::string node;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_rejected& x) {
  return f(caf::meta::type_name("shoal::msg::token_rejected"), x.provider, x.token,
           x.node);
}

/// A cache has callers waiting without a valid token: refresh now if needed.
struct token_wanted {
  std::string provider;
  /// The node whose callers wait.
  std::string node;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_wanted& x) {
  return f(caf::meta::type_name("shoal::msg::token_wanted"), x.provider, x.node);
}

/// The outcome of one upstream call, from the fetcher to its keeper.
struct token_fetch_result {
  bool ok = false;
  std::string token;
  int64_t expires_in_ms = 0;
  /// When the request was sent (ms since the epoch): the token's obtained_at, so
  /// that its expiry is never later than the platform's.
  int64_t sent_at_ms = 0;
  /// shoal::token::error_class when !ok.
  int32_t error_class = 0;
  int32_t code = 0;
  std::string message;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_fetch_result& x) {
  return f(caf::meta::type_name("shoal::msg::token_fetch_result"), x.ok, x.token,
           x.expires_in_ms, x.sent_at_ms, x.error_class, x.code, x.message);
}

} // namespace shoal::msg

CAF_BEGIN_TYPE_ID_BLOCK(shoal_token, caf::first_custom_type_id + 100)
CAF_ADD_TYPE_ID(shoal_token, (shoal::msg::token_update))
CAF_ADD_TYPE_ID(shoal_token, (shoal::msg::token_rejected))
CAF_ADD_TYPE_ID(shoal_token, (shoal::msg::token_wanted))
CAF_ADD_TYPE_ID(shoal_token, (shoal::msg::token_fetch_result))
CAF_ADD_TYPE_ID(shoal_token, (std::vector<shoal::msg::token_update>))
CAF_END_TYPE_ID_BLOCK(shoal_token)

namespace shoal::atoms {
/// keeper -> local cache: adopt this update and forward it to every peer cache.
using token_push = caf::atom_constant<caf::atom("tok_push")>;
/// cache -> peer cache: send me every token you hold.
using token_sync = caf::atom_constant<caf::atom("tok_sync")>;
/// local caller -> cache: a token of this provider, waiting until one exists.
using token_get = caf::atom_constant<caf::atom("tok_get")>;
/// service -> local cache: the keeper actor of a provider on this node.
using token_keeper = caf::atom_constant<caf::atom("tok_keeper")>;
/// service -> keeper: step down and release the lease (the node shuts down).
using token_release = caf::atom_constant<caf::atom("tok_rel")>;
/// The keeper's own timers: renew the lease; refresh when due (timer generation).
using token_lease_tick = caf::atom_constant<caf::atom("tok_lease")>;
using token_refresh_tick = caf::atom_constant<caf::atom("tok_rtick")>;
/// The cache's own timer: expire waiting callers, ask the keepers again.
using token_nudge = caf::atom_constant<caf::atom("tok_nudge")>;
/// keeper -> its upstream fetcher: call the platform (force: a new token even
/// when the current one is still valid; input: the base access token of a
/// jsapi_ticket, the component_verify_ticket of a component, else empty).
using token_fetch = caf::atom_constant<caf::atom("tok_fetch")>;
/// keeper -> its store worker: take the lease if free; extend it if still ours;
/// count one upstream call against the day's quota; record the quota used up;
/// write the record if ours and unchanged (compare-and-set).
using token_store_take = caf::atom_constant<caf::atom("tok_take")>;
using token_store_renew = caf::atom_constant<caf::atom("tok_renew")>;
using token_store_quota = caf::atom_constant<caf::atom("tok_quota")>;
using token_store_exhaust = caf::atom_constant<caf::atom("tok_exhst")>;
using token_store_cas = caf::atom_constant<caf::atom("tok_cas")>;
/// keeper -> its store worker: the newest component_verify_ticket received.
using token_store_vticket = caf::atom_constant<caf::atom("tok_vtick")>;
/// keeper -> its store or mirror worker: the stored record.
using token_store_read = caf::atom_constant<caf::atom("tok_read")>;
/// keeper -> its mirror worker: write this token to the MySQL mirror.
using token_mirror_write = caf::atom_constant<caf::atom("tok_mwrite")>;
} // namespace shoal::atoms

namespace shoal {

// The keeper's workers: detached actors, each doing one kind of blocking call
// with its timeouts (HTTP, Redis, MySQL) so the keeper never blocks the
// scheduler. Private to a keeper: it spawns them linked, and only it sends to
// them.

/// The upstream fetcher of a keeper (actors/token/actors/token_keeper.cpp).
///
///   (atoms::token_fetch, bool force, string input) -> (msg::token_fetch_result)
///       One call to the platform; a failure is a result too (ok == false).
using token_fetcher_actor =
    caf::typed_actor<caf::replies_to<atoms::token_fetch, bool,
                                     std::string>::with<msg::token_fetch_result>>;

/// The Redis store worker of a keeper (the lease, the record, the quota count;
/// actors/token/actors/token_store.hpp). Every reply is an error when Redis
/// cannot be reached.
///
///   (atoms::token_store_take) -> (bool)       the lease is ours now
///   (atoms::token_store_renew) -> (bool)      the lease was still ours, extended
///   (atoms::token_release) -> (bool)          the lease was ours, given up
///   (atoms::token_store_quota, int64_t day, int64_t limit) -> (int64_t)
///       The day's count including this call, or minus the count when refused.
///   (atoms::token_store_exhaust, int64_t day, int64_t limit)
///       The platform said the day's quota is used up (best effort).
///   (atoms::token_store_read) -> (msg::token_update)   version 0: no record
///   (atoms::token_store_vticket) -> (string)   the newest component_verify_ticket
///       received (POST /token/NAME/verify_ticket on any node); empty: none
///   (atoms::token_store_cas, msg::token_update, uint64_t expected) -> (int32_t)
///       1 written, 0 someone wrote first, -1 the lease is not ours.
using token_store_actor = caf::typed_actor<
    caf::replies_to<atoms::token_store_take>::with<bool>,
    caf::replies_to<atoms::token_store_renew>::with<bool>,
    caf::replies_to<atoms::token_release>::with<bool>,
    caf::replies_to<atoms::token_store_quota, int64_t, int64_t>::with<int64_t>,
    caf::reacts_to<atoms::token_store_exhaust, int64_t, int64_t>,
    caf::replies_to<atoms::token_store_read>::with<msg::token_update>,
    caf::replies_to<atoms::token_store_vticket>::with<std::string>,
    caf::replies_to<atoms::token_store_cas, msg::token_update, uint64_t>::with<int32_t>>;

/// The MySQL mirror worker of a keeper (actors/token/actors/token_mirror.hpp).
///
///   (atoms::token_store_read) -> (msg::token_update)   version 0: no row
///   (atoms::token_mirror_write, msg::token_update) -> (bool)
///       true: the row holds this version (or a newer one); false: not written (the
///       failure is noted)
///   (atoms::token_store_take) -> (bool)   the fallback lease is ours (taken or extended)
///   (atoms::token_release) -> (bool)      the fallback lease was ours, given up
/// Each request fails with an error when MySQL cannot be reached.
using token_mirror_actor = caf::typed_actor<
    caf::replies_to<atoms::token_store_read>::with<msg::token_update>,
    caf::replies_to<atoms::token_mirror_write, msg::token_update>::with<bool>,
    caf::replies_to<atoms::token_store_take>::with<bool>,
    caf::replies_to<atoms::token_release>::with<bool>>;

/// The keeper of one provider on one node (actors/token/actors/token_keeper.hpp).
///
///   (msg::token_wanted)         a node has callers without a valid token
///   (msg::token_rejected)       upstream refused a token a caller used
///   (atoms::token_release) -> (bool)
///       Steps down and releases the lease; true when the store released it.
///   (atoms::token_lease_tick), (atoms::token_refresh_tick, uint64_t generation)
///       Internal: its timers.
using token_keeper_actor =
    caf::typed_actor<caf::reacts_to<msg::token_wanted>,
                     caf::reacts_to<msg::token_rejected>,
                     caf::replies_to<atoms::token_release>::with<bool>,
                     caf::reacts_to<atoms::token_lease_tick>,
                     caf::reacts_to<atoms::token_refresh_tick, uint64_t>>;

/// The token cache on every node (actors/token/actors/token_cache.hpp). Peers'
/// caches reach it remotely through the same interface.
///
///   (atoms::token_get, string provider, int64_t timeout_ms) -> (msg::token_update)
///       A valid token now, or once one arrives; an error after timeout_ms.
///   (atoms::token_sync) -> (vector<msg::token_update>)
///       Every token held (a peer catching up).
///   (atoms::token_push, msg::token_update)
///       From this node's keeper: adopt, and forward to every peer cache.
///   (msg::token_update)          from a peer cache: adopt if newer
///   (msg::token_wanted)          pass to the keepers (this node's callers wait)
///   (msg::token_rejected)        pass to the keepers (and peers, if it is ours)
///   (atoms::token_keeper, string provider, token_keeper_actor)
///       From the service: this node's keeper of a provider.
///   (msg::peer_found), (msg::peer_lost)
///       From its peer finder: a peer's cache came or went.
///   (atoms::token_nudge)         internal: its timer
using token_cache_actor = caf::typed_actor<
    caf::replies_to<atoms::token_get, std::string, int64_t>::with<msg::token_update>,
    caf::replies_to<atoms::token_sync>::with<std::vector<msg::token_update>>,
    caf::reacts_to<atoms::token_push, msg::token_update>,
    caf::reacts_to<msg::token_update>, caf::reacts_to<msg::token_wanted>,
    caf::reacts_to<msg::token_rejected>,
    caf::reacts_to<atoms::token_keeper, std::string, token_keeper_actor>,
    caf::reacts_to<msg::peer_found>, caf::reacts_to<msg::peer_lost>,
    caf::reacts_to<atoms::token_nudge>>;

} // namespace shoal
