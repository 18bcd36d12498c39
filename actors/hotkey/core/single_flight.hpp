// single_flight: concurrent loads of the same key make one loader call; the other
// callers wait for its result (the cache-breakdown fix: a burst of misses on a hot
// key makes one backend call, not thousands).
//
//   single_flight<std::string> flights;
//   auto got = flights.load(key, [&] { return redis.get(key); }, deadline);
//   if (got.status == load_status::loaded) use(*got.value);
//
// The first caller for a key (the leader) runs the loader on its own thread; callers
// arriving while it runs (followers) wait for its result until their deadline. A
// loader that throws fails every caller of that flight with the same exception. The
// next call after a flight ends starts a new flight: results are not cached here.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace shoal::hotkey {

/// How a single_flight load ended.
enum class load_status {
  /// value holds the result.
  loaded,
  /// The loader threw; error holds the exception.
  failed,
  /// A follower's deadline passed before the leader finished.
  timed_out,
};

/// One load per key at a time. Thread-safe: load() is meant to be called from many
/// threads at once. T must be copyable.
template <class T> class single_flight {
public:
  using clock = std::chrono::steady_clock;

  /// The result of load().
  struct outcome {
    /// How it ended.
    load_status status = load_status::timed_out;
    /// The loaded value when status == loaded.
    std::optional<T> value;
    /// The loader's exception when status == failed.
    std::exception_ptr error;
    /// True when this caller waited for another caller's loader call.
    bool shared = false;
  };

  /// Loads `key`: runs `loader` if no load of the key is in flight, otherwise waits
  /// for that load's result until `deadline`. The deadline bounds a follower's wait;
  /// the leader always returns when its loader does (give the loader its own timeout).
  /// Blocks the calling thread.
  template <class Loader>
  outcome load(std::string_view key, Loader&& loader, clock::time_point deadline) {
    std::unique_lock<std::mutex> guard{lock_};
    auto i = flights_.find(std::string{key});
    if (i != flights_.end()) {
      auto f = i->second;
      ++f->waiters;
      guard.unlock();
      auto ready = f->result.wait_until(deadline) == std::future_status::ready;
      guard.lock();
      --f->waiters;
      guard.unlock();
      outcome out;
      out.shared = true;
      if (ready)
        collect(f->result, out);
      return out;
    }
    auto f = std::make_shared<flight>();
    f->result = f->promise.get_future().share();
    flights_.emplace(std::string{key}, f);
    guard.unlock();
    try {
      f->promise.set_value(loader());
    } catch (...) {
      f->promise.set_exception(std::current_exception());
    }
    guard.lock();
    flights_.erase(std::string{key});
    guard.unlock();
    outcome out;
    collect(f->result, out);
    return out;
  }

  /// Callers now waiting on another caller's load of `key`. For tests and metrics.
  size_t waiting(std::string_view key) const {
    std::lock_guard<std::mutex> guard{lock_};
    auto i = flights_.find(std::string{key});
    return i == flights_.end() ? 0 : i->second->waiters;
  }

  /// Keys with a load in flight now.
  size_t in_flight() const {
    std::lock_guard<std::mutex> guard{lock_};
    return flights_.size();
  }

private:
  struct flight {
    /// Set exactly once, by the leader.
    std::promise<T> promise;
    /// Shared by the leader and every follower.
    std::shared_future<T> result;
    /// Followers blocked on result now; guarded by lock_.
    size_t waiters = 0;
  };

  static void collect(const std::shared_future<T>& result, outcome& out) {
    try {
      out.value = result.get();
      out.status = load_status::loaded;
    } catch (...) {
      out.error = std::current_exception();
      out.status = load_status::failed;
    }
  }

  /// Guards flights_ and every flight's waiters.
  mutable std::mutex lock_;
  /// Key -> its load in flight; an entry lives from the leader's start to its end.
  std::unordered_map<std::string, std::shared_ptr<flight>> flights_;
};

} // namespace shoal::hotkey
