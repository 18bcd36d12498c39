// node_context: the actors of the hot-key service on one node and what they share.
//
//   app threads --record--> key_recorder
//   recorder actor: every flush_ms drains it, routes each key to the shard owning it
//                   (rendezvous over the live shard nodes), one key_counts per shard
//   counter shard:  key_counter per rule window, hot_set; pushes hot_keys and
//                   cooled_keys to every node's cache actor, in batches
//   cache actor:    applies pushes, invalidations and rule updates to hot_view/rule_book,
//                   and tells the hot_feed what changed
//   peer tracker:   finds each peer's cache actor and shard (actors/cluster/peer_finder)
//                   and tells the recorder and the shard (msg::hotkey_peers)
//
// Their protocols are typed in messages/hotkey.hpp. What they share through this
// context is the application-thread boundary only: the key_recorder's stripes that
// application threads write, the hot_view and rule_book they read, the stats and the
// clock. Who is live travels as messages, never as shared state.
//
// The same actors run in a node (runtime/hotkey_service) and in `shoal hotkeys replay`
// (one node, a manual clock). The spawn functions below take what they need; nothing
// here knows the node, the config file or the CLI.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/hotkey/core/hot_feed.hpp"
#include "actors/hotkey/core/hot_view.hpp"
#include "actors/hotkey/core/hotkey_clock.hpp"
#include "actors/hotkey/core/hotkey_stats.hpp"
#include "actors/hotkey/core/key_counter.hpp"
#include "actors/hotkey/core/key_recorder.hpp"
#include "actors/hotkey/core/rule_book.hpp"
#include "messages/cluster.hpp"
#include "messages/hotkey.hpp"

namespace shoal::hotkey {

/// Directory names of the hot-key actors on every node.
inline constexpr const char* shard_name = "hotkey.shard";
inline constexpr const char* cache_name = "hotkey.cache";

/// How long the recorder and the shards remember an operator's removal: longer than
/// a shard's recovery request may take (it times out after 5 s), and than a node
/// takes to find a shard that came up. A shard found meanwhile still gets the
/// removal, and no shard takes the key back from a cache that had not dropped it yet.
inline constexpr int64_t removal_memory_ms = 15000;

/// Owner of a key among live nodes (placement's rendezvous hashing).
using owner_function = std::function<std::optional<std::string>(
    std::string_view, const std::vector<std::string>&)>;

/// What the actors of one node share. Every pointer is non-null.
struct node_context {
  /// This node's name.
  std::string node;
  std::shared_ptr<hotkey_clock> clock = std::make_shared<hotkey_clock>();
  std::shared_ptr<key_recorder> recorder = std::make_shared<key_recorder>();
  std::shared_ptr<rule_book> rules;
  std::shared_ptr<hot_view> view;
  std::shared_ptr<hotkey_stats> stats = std::make_shared<hotkey_stats>();
  /// What the cache actor saw change in the view, for subscribers in other languages.
  std::shared_ptr<hot_feed> feed = std::make_shared<hot_feed>();
  owner_function owner;
  /// How often the recorder flushes, >= 1.
  int64_t flush_ms = 5;
  /// How often shards and caches expire cooled keys, >= 1.
  int64_t expire_ms = 50;
  /// Shape of every shard counter (its window is set per rule).
  key_counter_config counter;
  /// Called by the shard (its thread) for each key it declares hot, with the shard's
  /// time; may be empty.
  std::function<void(const std::string& key, uint64_t count, int64_t at_ms)> on_detect;
};

/// Spawns the counter shard of this node.
counter_shard_actor spawn_counter_shard(caf::actor_system& sys,
                                        std::shared_ptr<node_context> ctx);

/// Spawns the recorder actor. It flushes every flush_ms, and on a `hk_flush` request
/// flushes and answers once every shard has processed the counts. A msg::manual_hot
/// sent to it goes to the shard owning the key when it adds, and to every shard when
/// it removes: any of them may still hold the key (it owned the key while its owner was
/// down, or took it back from a cache), and each cools it on the caches it knows.
hotkey_recorder_actor spawn_recorder(caf::actor_system& sys,
                                     std::shared_ptr<node_context> ctx);

/// Spawns the cache actor of this node.
hotkey_cache_actor spawn_cache_actor(caf::actor_system& sys,
                                     std::shared_ptr<node_context> ctx);

/// The local actors the peer tracker introduces to each other.
struct local_actors {
  hotkey_cache_actor cache;
  /// Null when this node runs no shard.
  counter_shard_actor shard;
  hotkey_recorder_actor recorder;
};

/// Spawns the peer tracker: finds the cache actor of every peer, and the shard of
/// every peer in `shard_nodes` (every peer when empty), through `directory`, and
/// keeps the local recorder and shard told (msg::hotkey_peers).
hotkey_tracker_actor spawn_peer_tracker(caf::actor_system& sys,
                                        std::shared_ptr<node_context> ctx,
                                        directory_actor directory,
                                        std::vector<std::string> shard_nodes,
                                        local_actors local);

} // namespace shoal::hotkey
