#include "actors/hotkey/core/hot_set.hpp"

#include <algorithm>

namespace shoal::hotkey {

void hot_set::set_until(std::string_view key, int64_t until_ms, bool only_extend,
                        bool& added) {
  std::string k{key};
  auto i = until_.find(k);
  added = i == until_.end();
  if (added) {
    until_.emplace(k, until_ms);
    by_expiry_.emplace(until_ms, std::move(k));
    return;
  }
  if (only_extend && i->second >= until_ms)
    return;
  by_expiry_.erase({i->second, k});
  i->second = until_ms;
  by_expiry_.emplace(until_ms, std::move(k));
}

bool hot_set::mark_hot(std::string_view key, int64_t now_ms, int64_t duration_ms) {
  duration_ms = std::max<int64_t>(duration_ms, 1);
  auto until = now_ms > forever - duration_ms ? forever : now_ms + duration_ms;
  bool added = false;
  set_until(key, until, true, added);
  return added;
}

bool hot_set::add_manual(std::string_view key, int64_t until_ms) {
  bool added = false;
  set_until(key, until_ms, false, added);
  return added;
}

bool hot_set::remove(std::string_view key) {
  auto i = until_.find(std::string{key});
  if (i == until_.end())
    return false;
  by_expiry_.erase({i->second, i->first});
  until_.erase(i);
  return true;
}

std::vector<std::string> hot_set::expire(int64_t now_ms) {
  std::vector<std::string> gone;
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now_ms) {
    auto node = by_expiry_.extract(by_expiry_.begin());
    until_.erase(node.value().second);
    gone.push_back(std::move(node.value().second));
  }
  return gone;
}

std::optional<int64_t> hot_set::hot_until(std::string_view key, int64_t now_ms) const {
  auto i = until_.find(std::string{key});
  if (i == until_.end() || i->second <= now_ms)
    return std::nullopt;
  return i->second;
}

std::vector<std::pair<std::string, int64_t>> hot_set::snapshot() const {
  std::vector<std::pair<std::string, int64_t>> result;
  result.reserve(by_expiry_.size());
  for (auto& [until, key] : by_expiry_)
    result.emplace_back(key, until);
  return result;
}

} // namespace shoal::hotkey
