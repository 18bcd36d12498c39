#include "runtime/placement.hpp"

#include <algorithm>

#include <xxhash.h>

namespace shoal {

uint64_t rendezvous_score(std::string_view node, std::string_view key) {
  auto seed = XXH3_64bits(node.data(), node.size());
  return XXH3_64bits_withSeed(key.data(), key.size(), seed);
}

namespace {

struct scored {
  uint64_t score;
  const std::string* node;
};

bool better(const scored& a, const scored& b) {
  return a.score != b.score ? a.score > b.score : *a.node < *b.node;
}

} // namespace

std::optional<std::string> owner_of(std::string_view key,
                                    const std::vector<std::string>& nodes) {
  std::optional<scored> best;
  for (const auto& node : nodes) {
    scored s{rendezvous_score(node, key), &node};
    if (!best || better(s, *best))
      best = s;
  }
  if (!best)
    return std::nullopt;
  return *best->node;
}

std::vector<std::string> owners_of(std::string_view key,
                                   const std::vector<std::string>& nodes, size_t n) {
  std::vector<scored> all;
  all.reserve(nodes.size());
  for (const auto& node : nodes)
    all.push_back({rendezvous_score(node, key), &node});
  n = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(n), all.end(),
                    better);
  std::vector<std::string> result;
  result.reserve(n);
  for (size_t i = 0; i < n; ++i)
    result.push_back(*all[i].node);
  return result;
}

} // namespace shoal
