// Placement: which live node owns a key (a hot key's shard, a binlog partition,
// a token provider).
//
// Rendezvous (highest-random-weight) hashing: every node gets a score per key
// and the highest score wins. When a node leaves, only the keys it owned move,
// each to the node with the next highest score; when it returns they move back.
// All nodes compute the same answer from the same list of live names, with no
// coordination. Pure function, thread-safe.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shoal {

/// The score of `node` for `key`; higher wins. Stable across processes and runs.
uint64_t rendezvous_score(std::string_view node, std::string_view key);

/// The node among `nodes` that owns `key`, or nullopt if `nodes` is empty.
/// Ties (practically impossible) go to the smaller name, so the answer does
/// not depend on the order of `nodes`.
std::optional<std::string> owner_of(std::string_view key,
                                    const std::vector<std::string>& nodes);

/// The `n` nodes with the highest scores for `key`, best first (fewer if
/// `nodes` has fewer). The first is owner_of(); the rest are its successors.
std::vector<std::string> owners_of(std::string_view key,
                                   const std::vector<std::string>& nodes, size_t n);

} // namespace shoal
