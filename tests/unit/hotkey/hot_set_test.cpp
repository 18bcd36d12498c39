#include "actors/hotkey/core/hot_set.hpp"

#include <gtest/gtest.h>

namespace shoal::hotkey {
namespace {

TEST(hot_set, key_is_hot_for_its_duration) {
  hot_set hs;
  EXPECT_TRUE(hs.mark_hot("a", 1000, 500));
  EXPECT_TRUE(hs.is_hot("a", 1000));
  EXPECT_TRUE(hs.is_hot("a", 1499));
  EXPECT_FALSE(hs.is_hot("a", 1500));
  EXPECT_EQ(hs.hot_until("a", 1200), 1500);
}

TEST(hot_set, staying_hot_extends_and_never_shortens) {
  hot_set hs;
  hs.mark_hot("a", 1000, 500);
  EXPECT_FALSE(hs.mark_hot("a", 1400, 500)) << "already hot";
  EXPECT_EQ(hs.hot_until("a", 1400), 1900);
  hs.mark_hot("a", 1450, 100); // would end at 1550: earlier, ignored
  EXPECT_EQ(hs.hot_until("a", 1450), 1900);
}

TEST(hot_set, expiry_removes_due_keys_in_order) {
  hot_set hs;
  hs.mark_hot("late", 0, 300);
  hs.mark_hot("early", 0, 100);
  hs.mark_hot("mid", 0, 200);
  EXPECT_TRUE(hs.expire(99).empty());
  EXPECT_EQ(hs.expire(200), (std::vector<std::string>{"early", "mid"}));
  EXPECT_EQ(hs.size(), 1u);
  EXPECT_TRUE(hs.is_hot("late", 200));
  hs.mark_hot("late", 250, 300); // extended: no longer due at 300
  EXPECT_TRUE(hs.expire(300).empty());
  EXPECT_EQ(hs.expire(550), (std::vector<std::string>{"late"}));
  EXPECT_EQ(hs.size(), 0u);
}

TEST(hot_set, manual_add_and_remove) {
  hot_set hs;
  EXPECT_TRUE(hs.add_manual("pinned"));
  EXPECT_TRUE(hs.expire(1'000'000'000).empty()) << "forever never expires";
  EXPECT_TRUE(hs.is_hot("pinned", 1'000'000'000));
  hs.mark_hot("auto", 0, 1000);
  EXPECT_FALSE(hs.add_manual("auto", 50)) << "operator shortens it";
  EXPECT_EQ(hs.hot_until("auto", 0), 50);
  EXPECT_TRUE(hs.remove("pinned"));
  EXPECT_FALSE(hs.remove("pinned"));
  EXPECT_FALSE(hs.is_hot("pinned", 0));
  EXPECT_EQ(hs.expire(50), (std::vector<std::string>{"auto"}));
}

TEST(hot_set, snapshot_lists_keys_soonest_first) {
  hot_set hs;
  hs.mark_hot("b", 0, 20);
  hs.mark_hot("a", 0, 10);
  auto snap = hs.snapshot();
  ASSERT_EQ(snap.size(), 2u);
  EXPECT_EQ(snap[0], (std::pair<std::string, int64_t>{"a", 10}));
  EXPECT_EQ(snap[1], (std::pair<std::string, int64_t>{"b", 20}));
}

TEST(hot_set, huge_duration_saturates) {
  hot_set hs;
  hs.mark_hot("a", 10, hot_set::forever);
  EXPECT_EQ(hs.hot_until("a", 10), hot_set::forever);
}

} // namespace
} // namespace shoal::hotkey
