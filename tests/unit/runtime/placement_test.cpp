#include "runtime/placement.hpp"

#include <map>

#include <gtest/gtest.h>

namespace shoal {
namespace {

std::vector<std::string> names(int n) {
  std::vector<std::string> result;
  for (int i = 0; i < n; ++i)
    result.push_back("node-" + std::to_string(i));
  return result;
}

TEST(placement, empty_cluster_owns_nothing) {
  EXPECT_EQ(owner_of("k", {}), std::nullopt);
  EXPECT_TRUE(owners_of("k", {}, 3).empty());
}

TEST(placement, answer_does_not_depend_on_order) {
  auto nodes = names(5);
  auto reversed = std::vector<std::string>(nodes.rbegin(), nodes.rend());
  for (int i = 0; i < 1000; ++i) {
    auto key = "key-" + std::to_string(i);
    EXPECT_EQ(owner_of(key, nodes), owner_of(key, reversed)) << key;
  }
}

TEST(placement, keys_spread_evenly) {
  auto nodes = names(4);
  std::map<std::string, int> count;
  const int keys = 40000;
  for (int i = 0; i < keys; ++i)
    ++count[*owner_of("k" + std::to_string(i), nodes)];
  ASSERT_EQ(count.size(), 4u);
  for (auto& [node, n] : count) {
    EXPECT_GT(n, keys / 4 * 0.9) << node;
    EXPECT_LT(n, keys / 4 * 1.1) << node;
  }
}

TEST(placement, only_keys_of_a_dead_node_move) {
  auto nodes = names(5);
  auto survivors = nodes;
  survivors.erase(survivors.begin() + 2);
  int moved = 0;
  for (int i = 0; i < 10000; ++i) {
    auto key = "k" + std::to_string(i);
    auto before = *owner_of(key, nodes);
    auto after = *owner_of(key, survivors);
    if (before != nodes[2]) {
      EXPECT_EQ(before, after) << key;
    } else {
      ++moved;
      EXPECT_EQ(after, owners_of(key, nodes, 2)[1]) << "moves to its successor";
    }
  }
  EXPECT_GT(moved, 0);
}

TEST(placement, owners_are_ranked_and_distinct) {
  auto nodes = names(6);
  auto top = owners_of("hot", nodes, 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0], *owner_of("hot", nodes));
  EXPECT_GE(rendezvous_score(top[0], "hot"), rendezvous_score(top[1], "hot"));
  EXPECT_GE(rendezvous_score(top[1], "hot"), rendezvous_score(top[2], "hot"));
  EXPECT_NE(top[0], top[1]);
  EXPECT_EQ(owners_of("hot", nodes, 10).size(), 6u);
}

} // namespace
} // namespace shoal
