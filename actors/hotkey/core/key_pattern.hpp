// key_pattern: a family of cache keys, such as every key a template "sku:{id}"
// can render: literal runs with any text (possibly empty) between them.
//
//   key_pattern p{{"sku:", ""}};          // "sku:" then anything
//   matches(p, "sku:42");                 // true
//   matches(key_pattern{{"a:", ":b"}}, "a:1:b");  // true
//
// A binlog pipeline sends one per key template when a DDL changes a whole
// table (TRUNCATE, DROP, ALTER): no row says which keys went stale, so every
// cached key of the family is dropped. Pure logic.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace shoal::hotkey {

struct key_pattern {
  /// Literal runs; any text goes between two of them. One piece: the key must
  /// equal it. Never empty.
  std::vector<std::string> pieces;
};

/// True when `key` is one of `pattern`'s keys.
inline bool matches(const key_pattern& pattern, std::string_view key) {
  auto& p = pattern.pieces;
  if (p.empty())
    return false;
  if (p.size() == 1)
    return key == p[0];
  auto& last = p.back();
  if (key.size() < p[0].size() + last.size() || key.substr(0, p[0].size()) != p[0] ||
      key.substr(key.size() - last.size()) != last)
    return false;
  // Leftmost matches of the middle runs, within what the first and last leave.
  size_t at = p[0].size();
  size_t end = key.size() - last.size();
  for (size_t i = 1; i + 1 < p.size(); ++i) {
    auto found = key.substr(0, end).find(p[i], at);
    if (found == std::string_view::npos)
      return false;
    at = found + p[i].size();
  }
  return true;
}

} // namespace shoal::hotkey
