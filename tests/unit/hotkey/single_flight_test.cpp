#include "actors/hotkey/core/single_flight.hpp"

#include <atomic>
#include <condition_variable>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace shoal::hotkey {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

// Waits (with a deadline, never a sleep) until `done` holds.
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit = 10s) {
  std::mutex m;
  std::condition_variable cv;
  std::unique_lock<std::mutex> guard{m};
  auto until = clock::now() + limit;
  while (!done()) {
    if (cv.wait_until(guard, std::min(until, clock::now() + 1ms)) ==
            std::cv_status::timeout &&
        clock::now() >= until)
      return done();
  }
  return true;
}

// A loader that blocks until released, counting its calls.
struct gate {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  std::atomic<int> calls{0};

  void release() {
    std::lock_guard<std::mutex> guard{m};
    open = true;
    cv.notify_all();
  }
  void wait() {
    ++calls;
    std::unique_lock<std::mutex> guard{m};
    cv.wait_until(guard, clock::now() + 10s, [this] { return open; });
  }
};

TEST(single_flight, concurrent_loads_of_one_key_make_one_call) {
  single_flight<std::string> flights;
  gate g;
  constexpr int callers = 8;
  std::vector<single_flight<std::string>::outcome> results(callers);
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    results[0] = flights.load(
        "k",
        [&] {
          g.wait();
          return std::string{"v"};
        },
        clock::now() + 10s);
  });
  ASSERT_TRUE(eventually([&] { return g.calls.load() == 1; }));
  for (int t = 1; t < callers; ++t)
    threads.emplace_back([&, t] {
      results[t] = flights.load(
          "k",
          [&] {
            g.wait();
            return std::string{"other"};
          },
          clock::now() + 10s);
    });
  ASSERT_TRUE(eventually([&] { return flights.waiting("k") == callers - 1; }));
  g.release();
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(g.calls.load(), 1);
  int shared = 0;
  for (auto& r : results) {
    ASSERT_EQ(r.status, load_status::loaded);
    EXPECT_EQ(*r.value, "v");
    shared += r.shared;
  }
  EXPECT_EQ(shared, callers - 1);
  EXPECT_EQ(flights.in_flight(), 0u);
}

TEST(single_flight, different_keys_load_independently) {
  single_flight<int> flights;
  auto a = flights.load(
      "a", [] { return 1; }, clock::now() + 1s);
  auto b = flights.load(
      "b", [] { return 2; }, clock::now() + 1s);
  EXPECT_EQ(*a.value, 1);
  EXPECT_EQ(*b.value, 2);
  EXPECT_FALSE(a.shared);
}

TEST(single_flight, a_finished_flight_is_not_reused) {
  single_flight<int> flights;
  int calls = 0;
  flights.load(
      "k", [&] { return ++calls; }, clock::now() + 1s);
  auto again = flights.load(
      "k", [&] { return ++calls; }, clock::now() + 1s);
  EXPECT_EQ(*again.value, 2);
  EXPECT_EQ(calls, 2);
}

TEST(single_flight, follower_gives_up_at_its_deadline) {
  single_flight<int> flights;
  gate g;
  std::thread leader{[&] {
    flights.load(
        "k",
        [&] {
          g.wait();
          return 1;
        },
        clock::now() + 10s);
  }};
  ASSERT_TRUE(eventually([&] { return g.calls.load() == 1; }));
  auto start = clock::now();
  auto late = flights.load(
      "k", [] { return 2; }, start + 50ms);
  EXPECT_EQ(late.status, load_status::timed_out);
  EXPECT_FALSE(late.value.has_value());
  EXPECT_GE(clock::now() - start, 50ms);
  EXPECT_EQ(flights.waiting("k"), 0u) << "the follower left";
  g.release();
  leader.join();
}

TEST(single_flight, loader_exception_fails_every_caller) {
  single_flight<int> flights;
  gate g;
  single_flight<int>::outcome first, second;
  std::thread leader{[&] {
    first = flights.load(
        "k",
        [&]() -> int {
          g.wait();
          throw std::runtime_error{"down"};
        },
        clock::now() + 10s);
  }};
  ASSERT_TRUE(eventually([&] { return g.calls.load() == 1; }));
  std::thread follower{[&] {
    second = flights.load(
        "k", [] { return 0; }, clock::now() + 10s);
  }};
  ASSERT_TRUE(eventually([&] { return flights.waiting("k") == 1; }));
  g.release();
  leader.join();
  follower.join();
  for (auto* r : {&first, &second}) {
    ASSERT_EQ(r->status, load_status::failed);
    EXPECT_THROW(std::rethrow_exception(r->error), std::runtime_error);
  }
  EXPECT_EQ(g.calls.load(), 1);
}

} // namespace
} // namespace shoal::hotkey
