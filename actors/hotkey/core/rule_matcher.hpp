// rule_matcher: finds the rule of a key. An exact rule beats the longest matching
// prefix rule, which beats the `*` rule; a key no rule matches is not watched.
//
//   rule_matcher matcher{std::move(rules)};
//   if (auto* rule = matcher.match(key)) counter.record(key, 1, now, rule->threshold);
//
// Lookup costs one hash probe for exact rules plus one per distinct prefix length no
// longer than the key, whatever the number of rules.
#pragma once

#include <cstddef>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/hotkey/core/hotkey_rule.hpp"

namespace shoal::hotkey {

/// Immutable rule index. Thread-safe for concurrent match() once built.
class rule_matcher {
public:
  /// Builds an index over `rules`. If two rules have the same kind and pattern, the
  /// first wins (rule_parser already rejects that).
  explicit rule_matcher(std::vector<hotkey_rule> rules = {});

  rule_matcher(rule_matcher&&) noexcept = default;
  rule_matcher& operator=(rule_matcher&&) noexcept = default;
  rule_matcher(const rule_matcher&) = delete;
  rule_matcher& operator=(const rule_matcher&) = delete;

  /// The rule for `key`, or nullptr. The pointer lives as long as this matcher.
  /// O(1 + distinct prefix lengths <= key.size()).
  const hotkey_rule* match(std::string_view key) const;

  /// All rules, in the order given.
  const std::vector<hotkey_rule>& rules() const noexcept { return rules_; }

private:
  struct prefix_group {
    /// Length shared by every prefix of the group.
    size_t length;
    /// Prefix -> index in rules_.
    std::unordered_map<std::string_view, size_t> rules;
  };

  /// The rules; never modified after construction, so views into patterns stay valid.
  std::vector<hotkey_rule> rules_;
  /// Exact pattern -> index in rules_.
  std::unordered_map<std::string_view, size_t> exact_;
  /// Prefix rules grouped by length, longest first.
  std::vector<prefix_group> prefixes_;
  /// Index of the `*` rule in rules_, or rules_.size() when there is none.
  size_t any_;
};

} // namespace shoal::hotkey
