// Messages of the hot-key service: counts flowing from each node's recorder to the
// counter shards, hot and cooled keys pushed from the shards to every node's cache
// actor, manual hot keys, invalidations, and rule updates spread cluster-wide.
//
//   recorder --key_counts--> counter shard
//   counter shard --hot_keys / cooled_keys--> cache actor (all nodes)
//   engine --manual_hot--> recorder --> counter shard owning the key (an add)
//                                   --> every counter shard (a removal)
//   engine --invalidate_keys--> peer tracker --> cache actor (all nodes)
//   reload --hotkey_rules--> peer tracker --> cache actor (all nodes), newest wins
//
// Every type travels between processes and is registered by name in
// messages/registry.cpp.

#pragma once

#include <cstdint>
#include <map>
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

/// Accesses counted by one node's recorder since its last flush, for the keys one
/// shard owns. keys[i] was accessed counts[i] times.
struct key_counts {
  /// The node whose recorder counted.
  std::string from;
  /// The recorder's time of the flush (its time source; trace time in a replay).
  int64_t at_ms = 0;
  std::vector<std::string> keys;
  std::vector<uint64_t> counts;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, key_counts& x) {
  return f(caf::meta::type_name("shoal::msg::key_counts"), x.from, x.at_ms, x.keys,
           x.counts);
}

/// One key a shard declared hot.
struct hot_entry {
  std::string key;
  /// Window count when it was declared or extended (0 for manual keys).
  uint64_t count = 0;
  /// How much longer it stays hot; 0: until removed (manual keys).
  int64_t ttl_ms = 0;
  /// Wall clock (microseconds since the epoch) when the shard declared it, for the
  /// push latency.
  int64_t detected_us = 0;
  /// Added by an operator rather than detected.
  bool manual = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hot_entry& x) {
  return f(caf::meta::type_name("shoal::msg::hot_entry"), x.key, x.count, x.ttl_ms,
           x.detected_us, x.manual);
}

/// Keys that became hot or stayed hot, pushed by a shard to every node's cache actor.
struct hot_keys {
  /// The shard's node.
  std::string shard;
  std::vector<hot_entry> keys;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hot_keys& x) {
  return f(caf::meta::type_name("shoal::msg::hot_keys"), x.shard, x.keys);
}

/// Keys that are no longer hot (cooled down or removed by an operator).
struct cooled_keys {
  std::string shard;
  std::vector<std::string> keys;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cooled_keys& x) {
  return f(caf::meta::type_name("shoal::msg::cooled_keys"), x.shard, x.keys);
}

/// An operator makes a key hot (for duration_ms, 0: until removed) or removes it.
/// An add is sent to the shard owning the key, a removal to every shard.
struct manual_hot {
  std::string key;
  bool hot = true;
  int64_t duration_ms = 0;
  /// When the operator acted (wall clock, microseconds since the epoch; 0: unknown).
  /// Of two actions on one key, a shard keeps the later: a removal that reaches a
  /// shard late cannot undo a later add, nor a late add a later removal.
  int64_t at_us = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, manual_hot& x) {
  return f(caf::meta::type_name("shoal::msg::manual_hot"), x.key, x.hot, x.duration_ms,
           x.at_us);
}

/// Cached values that are stale: every node drops them (the keys stay hot).
struct invalidate_keys {
  std::vector<std::string> keys;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, invalidate_keys& x) {
  return f(caf::meta::type_name("shoal::msg::invalidate_keys"), x.keys);
}

/// Families of cached values that are stale (a DDL changed a whole table): every
/// node drops the value of each key one of them matches. Each pattern is the
/// `pieces` of an actors/hotkey/core/key_pattern.hpp: literal runs with any
/// text between them.
struct invalidate_matching {
  std::vector<std::vector<std::string>> patterns;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, invalidate_matching& x) {
  return f(caf::meta::type_name("shoal::msg::invalidate_matching"), x.patterns);
}

/// A rule set, as the JSON array of $.hotkeys.rules. A node applies it only when
/// `version` is newer than the rules it has.
struct hotkey_rules {
  uint64_t version = 0;
  std::string rules_json;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hotkey_rules& x) {
  return f(caf::meta::type_name("shoal::msg::hotkey_rules"), x.version, x.rules_json);
}

/// The hot-key actors of every live node, this one included, as the peer tracker
/// knows them: the cache actor of each node, and the counter shard of each shard
/// node. The tracker sends it to the node's recorder and shard whenever it changes,
/// and answers atoms::hk_peers with it. Each receiver keeps its own copy: no actor
/// reads another's state.
struct hotkey_peers {
  std::map<std::string, caf::actor> caches;
  std::map<std::string, caf::actor> shards;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hotkey_peers& x) {
  return f(caf::meta::type_name("shoal::msg::hotkey_peers"), x.caches, x.shards);
}

} // namespace shoal::msg

CAF_BEGIN_TYPE_ID_BLOCK(shoal_hotkey, caf::first_custom_type_id + 300)
CAF_ADD_TYPE_ID(shoal_hotkey, (shoal::msg::key_counts))
CAF_ADD_TYPE_ID(shoal_hotkey, (shoal::msg::hot_entry))
CAF_ADD_TYPE_ID(shoal_hotkey, (shoal::msg::hot_keys))
CAF_ADD_TYPE_ID(shoal_hotkey, (shoal::msg::cooled_keys))
CAF_ADD_TYPE_ID(shoal_hotkey, (shoal::msg::manual_hot))
CAF_ADD_TYPE_ID(shoal_hotkey, (shoal::msg::invalidate_keys))
CAF_ADD_TYPE_ID(shoal_hotkey, (shoal::msg::hotkey_rules))
CAF_ADD_TYPE_ID(shoal_hotkey, (shoal::msg::hotkey_peers))
CAF_ADD_TYPE_ID(shoal_hotkey, (shoal::msg::invalidate_matching))
CAF_END_TYPE_ID_BLOCK(shoal_hotkey)

namespace shoal::atoms {
/// Recorder: flush counts now (and answer once the shards have them).
using hk_flush = caf::atom_constant<caf::atom("hk_flush")>;
/// Periodic work of the hot-key actors (flush, expiry).
using hk_tick = caf::atom_constant<caf::atom("hk_tick")>;
/// Peer tracker: the hot-key actors it knows now (msg::hotkey_peers).
using hk_peers = caf::atom_constant<caf::atom("hk_peers")>;
/// Invalidation follower: its state; its own steps (subscribe, read the channel).
using hk_state = caf::atom_constant<caf::atom("hk_state")>;
using hk_subscribe = caf::atom_constant<caf::atom("hk_sub")>;
using hk_read = caf::atom_constant<caf::atom("hk_read")>;
/// Cache: the manual hot keys it holds (a restarted shard recovers its own).
using hk_manual = caf::atom_constant<caf::atom("hk_manual")>;
} // namespace shoal::atoms

namespace shoal {

/// The cache actor of a node (actors/hotkey/actors/cache_actor.cpp): applies what
/// the shards and operators send to the node's hot view and rule book.
///
///   (msg::hot_keys)           keys a shard declared (still) hot
///   (msg::cooled_keys)        keys no longer hot
///   (msg::invalidate_keys)    cached values to drop
///   (msg::invalidate_matching) cached values of every key a pattern matches
///   (msg::hotkey_rules)       a rule set, adopted when newer
///   (atoms::hk_manual) -> (msg::hot_keys)
///       The operators' keys it holds (manual, ttl_ms left, 0: no expiry): the
///       cluster's copy of them, from which a restarted shard recovers its own.
///   (atoms::hk_tick)          internal: expiry timer
using hotkey_cache_actor =
    caf::typed_actor<caf::reacts_to<msg::hot_keys>, caf::reacts_to<msg::cooled_keys>,
                     caf::reacts_to<msg::invalidate_keys>,
                     caf::reacts_to<msg::invalidate_matching>,
                     caf::reacts_to<msg::hotkey_rules>,
                     caf::replies_to<atoms::hk_manual>::with<msg::hot_keys>,
                     caf::reacts_to<atoms::hk_tick>>;

/// The counter shard of a shard node (actors/hotkey/actors/counter_shard.cpp).
///
///   (msg::key_counts)         counts a recorder routed here
///   (atoms::hk_flush, msg::key_counts) -> (uint64_t detected)
///       The same, answered once counted (a flush that waits for the shards).
///   (msg::manual_hot)         an operator adds a hot key it owns, or removes a key
///       (from every cache, whether the shard holds it or not)
///   (msg::hotkey_peers)       from the tracker: the caches to push to. A cache
///       new to the shard gets every key the shard holds hot; when the shard
///       nodes change, the shard drops the manual keys it no longer owns, asks
///       every cache for manual keys and takes back those it owns and does not
///       hold (it restarted, or took over a dead shard's keys)
///   (atoms::hk_tick)          internal: expiry timer
using counter_shard_actor =
    caf::typed_actor<caf::reacts_to<msg::key_counts>,
                     caf::replies_to<atoms::hk_flush, msg::key_counts>::with<uint64_t>,
                     caf::reacts_to<msg::manual_hot>, caf::reacts_to<msg::hotkey_peers>,
                     caf::reacts_to<atoms::hk_tick>>;

/// The recorder actor of a node (actors/hotkey/actors/recorder_actor.cpp): drains
/// the key recorder and routes counts to the owning shards.
///
///   (atoms::hk_flush) -> (bool)
///       Flushes now; answers once every shard has counted.
///   (msg::manual_hot)         an add passed to the shard owning the key, a removal
///       to every shard, and to each shard found soon after
///       (hotkey::removal_memory_ms)
///   (msg::hotkey_peers)       from the tracker: the shards to route to
///   (atoms::hk_tick)          internal: flush timer
using hotkey_recorder_actor =
    caf::typed_actor<caf::replies_to<atoms::hk_flush>::with<bool>,
                     caf::reacts_to<msg::manual_hot>, caf::reacts_to<msg::hotkey_peers>,
                     caf::reacts_to<atoms::hk_tick>>;

/// The peer tracker of a node (actors/hotkey/actors/peer_tracker.cpp): owns the
/// peer finders of caches and shards and tells the recorder and shard who is live.
///
///   (msg::peer_found), (msg::peer_lost)     from its peer finders
///   (atoms::hk_peers) -> (msg::hotkey_peers)
///       The live nodes' hot-key actors (status pages).
///   (msg::hotkey_rules) -> (uint64_t nodes)
///       Sends a rule set to every node's cache actor; answers how many.
///   (msg::invalidate_keys), (msg::invalidate_matching)
///       Sends it to every node's cache actor.
using hotkey_tracker_actor =
    caf::typed_actor<caf::reacts_to<msg::peer_found>, caf::reacts_to<msg::peer_lost>,
                     caf::replies_to<atoms::hk_peers>::with<msg::hotkey_peers>,
                     caf::replies_to<msg::hotkey_rules>::with<uint64_t>,
                     caf::reacts_to<msg::invalidate_keys>,
                     caf::reacts_to<msg::invalidate_matching>>;

/// The Redis invalidation follower of a node
/// (actors/hotkey/actors/invalidation_follower.hpp): drops the cached value of every
/// key published on the configured channel.
///
///   (atoms::hk_state) -> (string)   "subscribed" or "connecting"
///   (atoms::hk_subscribe), (atoms::hk_read)   internal: its steps
using invalidation_follower_actor =
    caf::typed_actor<caf::replies_to<atoms::hk_state>::with<std::string>,
                     caf::reacts_to<atoms::hk_subscribe>, caf::reacts_to<atoms::hk_read>>;

} // namespace shoal
