// eventually: wait on a condition with a deadline, never sleep-and-hope.
//
//   ASSERT_TRUE(test::eventually([&] { return node.is_up(); }, 5s));
#pragma once

#include <chrono>
#include <thread>

namespace shoal::test {

/// Polls `condition` every `poll` until it holds or `timeout` has passed; returns
/// whether it held (checked once more at the deadline).
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll = std::chrono::milliseconds{10}) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition())
      return true;
    std::this_thread::sleep_for(poll);
  }
  return condition();
}

} // namespace shoal::test
