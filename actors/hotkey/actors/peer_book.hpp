// peer_book: the hot-key actors of every live node (this one included) as this node
// knows them: each node's cache actor, and its counter shard if it runs one. The
// peer tracker writes it as nodes come and go; the recorder routes counts with it
// and the shard pushes hot keys with it.
//
// Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor.hpp>

namespace shoal::hotkey {

/// Live nodes' hot-key actors. Thread-safe.
class peer_book {
public:
  /// Sets the cache actor of `node` (a null handle clears it).
  void set_cache(const std::string& node, caf::actor cache);

  /// Sets the counter shard of `node` (a null handle clears it).
  void set_shard(const std::string& node, caf::actor shard);

  /// Forgets everything about `node` (it went down).
  void erase(const std::string& node);

  /// Names of the nodes whose shard is known now, sorted.
  std::vector<std::string> shard_nodes() const;

  /// The shard of `node`, or a null handle.
  caf::actor shard_of(const std::string& node) const;

  /// Every known cache actor.
  std::vector<caf::actor> caches() const;

  /// Names of the nodes with a known cache actor, sorted.
  std::vector<std::string> cache_nodes() const;

private:
  struct entry {
    caf::actor cache;
    caf::actor shard;
  };

  mutable std::mutex lock_;
  /// Node name -> its actors; an entry has at least one non-null handle.
  std::map<std::string, entry> nodes_;
};

} // namespace shoal::hotkey
