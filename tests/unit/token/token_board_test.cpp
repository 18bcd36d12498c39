// token_board: newer versions replace older ones, never the reverse, and readers
// on other threads always see a whole, current-or-newer snapshot.

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "actors/token/core/token_board.hpp"

namespace shoal::token {
namespace {

token_snapshot snap(const std::string& provider, uint64_t version) {
  token_snapshot s;
  s.provider = provider;
  s.token = provider + "-" + std::to_string(version);
  s.version = version;
  return s;
}

TEST(token_board, publishes_only_newer_versions_of_known_providers) {
  token_board board({"wx", "idp"});
  EXPECT_EQ(board.slot_of("wx"), 0);
  EXPECT_EQ(board.slot_of("idp"), 1);
  EXPECT_EQ(board.slot_of("nope"), -1);
  EXPECT_EQ(board.current(0), nullptr);
  EXPECT_TRUE(board.publish(snap("wx", 2)));
  auto* two = board.current(0);
  ASSERT_NE(two, nullptr);
  EXPECT_EQ(two->token, "wx-2");
  EXPECT_FALSE(board.publish(snap("wx", 2)));
  EXPECT_FALSE(board.publish(snap("wx", 1)));
  EXPECT_FALSE(board.publish(snap("nope", 9)));
  EXPECT_EQ(board.current(0), two);
  EXPECT_EQ(board.current(1), nullptr);
  EXPECT_TRUE(board.publish(snap("wx", 3)));
  EXPECT_EQ(board.current(0)->token, "wx-3");
  // A snapshot a reader got earlier stays readable.
  EXPECT_EQ(two->token, "wx-2");
}

TEST(token_board, readers_see_versions_only_grow_while_a_writer_publishes) {
  token_board board({"wx"});
  board.publish(snap("wx", 1));
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i)
    readers.emplace_back([&] {
      uint64_t last = 0;
      while (!done) {
        auto* s = board.current(0);
        if (s->version < last || s->token != "wx-" + std::to_string(s->version))
          ++bad;
        last = s->version;
      }
    });
  for (uint64_t v = 2; v <= 2000; ++v)
    board.publish(snap("wx", v));
  done = true;
  for (auto& t : readers)
    t.join();
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(board.current(0)->version, 2000u);
}

} // namespace
} // namespace shoal::token
