#include "actors/hotkey/core/hot_feed.hpp"

#include <thread>

#include <gtest/gtest.h>

namespace shoal::hotkey {
namespace {

using namespace std::chrono;

hot_event ev(event_kind k, const std::string& key) {
  return hot_event{0, k, key, 0, 0, 0, false, {}};
}

TEST(hot_feed, events_get_consecutive_sequence_numbers_in_order) {
  hot_feed feed{8};
  EXPECT_EQ(feed.last_seq(), 0u);
  EXPECT_EQ(feed.publish(ev(event_kind::hot, "a")), 1u);
  EXPECT_EQ(feed.publish(ev(event_kind::cold, "a")), 2u);
  EXPECT_EQ(feed.publish(ev(event_kind::invalidate, "b")), 3u);
  auto got = feed.wait_after(1, milliseconds{0});
  ASSERT_EQ(got.events.size(), 2u);
  EXPECT_FALSE(got.lost);
  EXPECT_EQ(got.events[0].seq, 2u);
  EXPECT_EQ(got.events[0].kind, event_kind::cold);
  EXPECT_EQ(got.events[1].key, "b");
  EXPECT_EQ(feed.wait_after(0, milliseconds{0}, 1).events.size(), 1u) << "at most max";
  EXPECT_TRUE(feed.wait_after(3, milliseconds{0}).events.empty());
}

TEST(hot_feed, a_reader_that_fell_behind_the_capacity_is_told_it_lost_events) {
  hot_feed feed{2};
  for (int i = 0; i < 5; ++i)
    feed.publish(ev(event_kind::hot, "k" + std::to_string(i)));
  auto behind = feed.wait_after(1, milliseconds{0});
  EXPECT_TRUE(behind.lost);
  EXPECT_TRUE(behind.events.empty());
  auto kept = feed.wait_after(3, milliseconds{0});
  EXPECT_FALSE(kept.lost);
  ASSERT_EQ(kept.events.size(), 2u);
  EXPECT_EQ(kept.events[0].key, "k3");
}

TEST(hot_feed, a_waiting_reader_wakes_on_publish_and_on_close) {
  hot_feed feed;
  std::thread writer{[&] { feed.publish(ev(event_kind::hot, "late")); }};
  auto got = feed.wait_after(0, seconds{10});
  writer.join();
  ASSERT_EQ(got.events.size(), 1u);
  EXPECT_EQ(got.events[0].key, "late");
  std::thread closer{[&] { feed.close(); }};
  auto start = steady_clock::now();
  auto closed = feed.wait_after(1, seconds{10});
  closer.join();
  EXPECT_TRUE(closed.closed);
  EXPECT_LT(steady_clock::now() - start, seconds{5});
  EXPECT_EQ(std::string{to_string(event_kind::invalidate)}, "invalidate");
}

} // namespace
} // namespace shoal::hotkey
