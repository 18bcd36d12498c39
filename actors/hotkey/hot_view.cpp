#include "actors/hotkey/hot_view.hpp"

#include <algorithm>
#include <mutex>

namespace shoal::hotkey {

hot_view::hot_view(cache_limits limits) : values_(hot_cache_config{limits}) {
}

bool hot_view::mark(std::string_view key, uint64_t count, int64_t ttl_ms, bool manual,
                    int64_t now_ms) {
  std::unique_lock<std::shared_mutex> guard{lock_};
  // An operator's manual key keeps its expiry: a detection push only updates
  // its count, so it cannot cut a "forever" key down to the rule's duration.
  if (auto i = info_.find(std::string{key}); !manual && i != info_.end() && i->second.manual) {
    i->second.count = count;
    return false;
  }
  auto until = ttl_ms <= 0 ? hot_set::forever : now_ms + ttl_ms;
  auto added = hot_.add_manual(key, until);
  auto& info = info_[std::string{key}];
  info.key = std::string{key};
  info.count = count;
  info.until_ms = until;
  info.manual = manual;
  return added;
}

bool hot_view::unmark(std::string_view key) {
  bool was = false;
  {
    std::unique_lock<std::shared_mutex> guard{lock_};
    was = hot_.remove(key);
    info_.erase(std::string{key});
  }
  values_.erase(key);
  return was;
}

std::vector<std::string> hot_view::expire(int64_t now_ms) {
  std::vector<std::string> gone;
  {
    std::unique_lock<std::shared_mutex> guard{lock_};
    gone = hot_.expire(now_ms);
    for (auto& k : gone)
      info_.erase(k);
  }
  for (auto& k : gone)
    values_.erase(k);
  return gone;
}

std::optional<int64_t> hot_view::hot_until(std::string_view key, int64_t now_ms) const {
  std::shared_lock<std::shared_mutex> guard{lock_};
  return hot_.hot_until(key, now_ms);
}

std::vector<hot_key_info> hot_view::list(int64_t now_ms) const {
  std::vector<hot_key_info> out;
  {
    std::shared_lock<std::shared_mutex> guard{lock_};
    for (auto& [key, info] : info_)
      if (info.until_ms > now_ms)
        out.push_back(info);
  }
  std::sort(out.begin(), out.end(), [](const hot_key_info& a, const hot_key_info& b) {
    return a.count != b.count ? a.count > b.count : a.key < b.key;
  });
  return out;
}

} // namespace shoal::hotkey
