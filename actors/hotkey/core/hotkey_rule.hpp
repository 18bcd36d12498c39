// hotkey_rule: what makes a key hot and how long it stays hot, as written in the
// config under $.hotkeys.rules. A rule matches one exact key, every key with a
// prefix, or every key (`*`); rule_matcher picks the rule of a key.
#pragma once

#include <cstdint>
#include <string>

namespace shoal::hotkey {

/// How a rule's pattern matches keys.
enum class match_kind {
  /// The key equals the pattern.
  exact,
  /// The key starts with the pattern.
  prefix,
  /// Every key (`"key": "*"`); the pattern is empty.
  any,
};

/// One hot-key rule. Plain value.
struct hotkey_rule {
  /// How pattern is matched.
  match_kind kind = match_kind::any;
  /// Exact key or prefix; empty for match_kind::any.
  std::string pattern;
  /// Length of the sliding window the threshold applies to, >= 1.
  int64_t window_ms = 1000;
  /// Accesses within one window that make a key hot, >= 1.
  uint64_t threshold = 1;
  /// How long a key stays hot after it last reached the threshold, >= 1.
  int64_t duration_ms = 60000;
  /// The rule has its own `cache` limits: its keys' values live in a cache of their
  /// own, bounded by the two figures below, so one flash sale cannot evict every
  /// other rule's values. Otherwise they share the node's cache (hotkeys.cache_max_*).
  bool own_cache = false;
  /// Most entries the rule's own cache keeps, 1..max_cache_entries.
  uint64_t cache_max_entries = 10000;
  /// Most bytes (keys + values) the rule's own cache keeps, >= 1.
  uint64_t cache_max_bytes = 64ull << 20;
};

/// A rule's identity across reloads: its kind and pattern ("kind:pattern").
inline std::string rule_key(const hotkey_rule& rule) {
  return std::to_string(static_cast<int>(rule.kind)) + ":" + rule.pattern;
}

} // namespace shoal::hotkey
