// hot_set: which keys are hot now and until when. A key detected hot stays hot for
// its rule's duration; detecting it again extends that (never shortens it); when the
// time passes, expire() removes it. Operators can add and remove keys by hand.
//
//   if (seen.crossed || seen.hot) hot.mark_hot(key, now_ms, rule->duration_ms);
//   for (auto& key : hot.expire(now_ms)) push_cooled(key);
//
// Time is passed in. Not thread-safe; one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace shoal::hotkey {

/// Hot keys with their expiry time. Not thread-safe; one owner.
class hot_set {
public:
  /// Expiry of a manual key that never expires.
  static constexpr int64_t forever = std::numeric_limits<int64_t>::max();

  /// Makes `key` hot until at least now_ms + duration_ms (duration < 1 counts as 1).
  /// Returns true when the key was not hot before. O(log size).
  bool mark_hot(std::string_view key, int64_t now_ms, int64_t duration_ms);

  /// Makes `key` hot until `until_ms` (hot_set::forever for no expiry), replacing any
  /// expiry it had, longer or shorter: the operator's word wins. Returns true when it
  /// was not hot before. O(log size).
  bool add_manual(std::string_view key, int64_t until_ms = forever);

  /// Removes `key`; returns true when it was hot. O(log size).
  bool remove(std::string_view key);

  /// Removes and returns every key whose expiry is <= now_ms, oldest expiry first.
  /// O(removed * log size).
  std::vector<std::string> expire(int64_t now_ms);

  /// When `key` stops being hot, if it is hot at now_ms. O(1) average.
  std::optional<int64_t> hot_until(std::string_view key, int64_t now_ms) const;

  /// True when `key` is hot at now_ms. O(1) average.
  bool is_hot(std::string_view key, int64_t now_ms) const {
    return hot_until(key, now_ms).has_value();
  }

  /// Every key with its expiry, soonest expiry first, expired ones included until the
  /// next expire(). O(size).
  std::vector<std::pair<std::string, int64_t>> snapshot() const;

  /// Number of keys held (expired ones included until the next expire()).
  size_t size() const noexcept { return until_.size(); }

private:
  void set_until(std::string_view key, int64_t until_ms, bool only_extend, bool& added);

  /// Key -> expiry; exactly the keys in by_expiry_.
  std::unordered_map<std::string, int64_t> until_;
  /// (expiry, key) for every key of until_, so expire() finds the due keys first.
  std::set<std::pair<int64_t, std::string>> by_expiry_;
};

} // namespace shoal::hotkey
