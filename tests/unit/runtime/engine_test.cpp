// The embedded API's lifecycle: start and stop in-process many times without
// leaking threads or file descriptors, and two engines joining each other.

#include "runtime/engine.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/free_port.hpp"

namespace shoal {
namespace {

using namespace std::chrono;

int open_fds() {
  int n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

int threads() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Threads:", 0) == 0)
      return std::stoi(line.substr(8));
  return -1;
}

config single(const std::string& name, uint16_t port) {
  auto result = parse_config(nlohmann::json{{"node", {{"name", name}, {"port", port}}},
                                            {"http", {{"port", 0}}},
                                            {"log", {{"level", "warn"}}}});
  EXPECT_TRUE(result);
  return *result;
}

TEST(engine, starts_and_stops_many_times_without_leaks) {
  auto cfg = single("solo", 0);
  {
    // Warm up once: the first start loads libraries and allocates globals.
    auto eng = engine::start(cfg);
    ASSERT_NE(eng, nullptr);
  }
  auto fds = open_fds();
  for (int i = 0; i < 20; ++i) {
    std::string error;
    auto eng = engine::start(cfg, &error);
    ASSERT_NE(eng, nullptr) << error;
    EXPECT_GT(eng->port(), 0);
    EXPECT_GT(eng->http_port(), 0);
    auto view = eng->members();
    ASSERT_EQ(view.members.size(), 1u);
    EXPECT_EQ(view.self, "solo");
    auto t0 = steady_clock::now();
    eng->stop();
    eng->stop();
    eng.reset();
    EXPECT_LT(steady_clock::now() - t0, seconds{5}) << "stop must not hang";
  }
  // Every thread an engine starts ends with it (the test itself has one), and
  // every socket and file it opened is closed. Threads may still be exiting
  // when stop() returns; give them a deadline.
  auto deadline = steady_clock::now() + seconds{5};
  while ((threads() != 1 || open_fds() != fds) && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds{10});
  EXPECT_EQ(threads(), 1);
  EXPECT_EQ(open_fds(), fds);
}

TEST(engine, start_fails_with_a_reason_when_the_port_is_taken) {
  auto first = engine::start(single("a", 0));
  ASSERT_NE(first, nullptr);
  std::string error;
  auto second = engine::start(single("b", first->port()), &error);
  EXPECT_EQ(second, nullptr);
  EXPECT_NE(error.find("cannot listen on 127.0.0.1:" + std::to_string(first->port())),
            std::string::npos)
      << error;
}

TEST(engine, start_file_reports_config_errors_with_paths) {
  std::string error;
  auto eng = engine::start_file("/nonexistent.json", &error);
  EXPECT_EQ(eng, nullptr);
  EXPECT_EQ(error, "config error: cannot read /nonexistent.json");
}

TEST(engine, two_engines_in_one_process_see_each_other) {
  auto pa = test::free_port();
  auto pb = test::free_port();
  auto make = [](const std::string& self, uint16_t port, const std::string& peer,
                 uint16_t peer_port) {
    auto result = parse_config(
        nlohmann::json{{"node", {{"name", self}, {"port", port}}},
                       {"cluster", {{"peers", {{{"name", peer}, {"port", peer_port}}}}}},
                       {"http", {{"enabled", false}}},
                       {"log", {{"level", "warn"}}}});
    EXPECT_TRUE(result);
    return *result;
  };
  auto a = engine::start(make("a", pa, "b", pb));
  ASSERT_NE(a, nullptr);
  auto b = engine::start(make("b", pb, "a", pa));
  ASSERT_NE(b, nullptr);
  auto both_up = [&] {
    for (auto* e : {a.get(), b.get()}) {
      auto view = e->members();
      if (view.members.size() != 2 || !view.members[1].up)
        return false;
    }
    return true;
  };
  auto deadline = steady_clock::now() + seconds{10};
  while (!both_up() && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds{20});
  ASSERT_TRUE(both_up());
  b->stop();
  auto down = [&] {
    auto view = a->members();
    return view.members.size() == 2 && !view.members[1].up;
  };
  deadline = steady_clock::now() + seconds{10};
  while (!down() && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds{20});
  EXPECT_TRUE(down());
}

} // namespace
} // namespace shoal
