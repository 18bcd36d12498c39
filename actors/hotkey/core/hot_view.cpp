#include "actors/hotkey/core/hot_view.hpp"

#include <algorithm>
#include <mutex>

namespace shoal::hotkey {

namespace {

void add(cache_stats& sum, const cache_stats& s) {
  sum.hits += s.hits;
  sum.misses += s.misses;
  sum.evictions += s.evictions;
  sum.entries += s.entries;
  sum.bytes += s.bytes;
}

} // namespace

hot_view::hot_view(cache_limits limits)
    : values_(std::make_shared<hot_cache>(hot_cache_config{limits})) {}

void hot_view::use_rules(std::shared_ptr<const rule_set> rules) {
  std::unordered_map<std::string, rule_cache> next;
  std::unique_lock<std::shared_mutex> guard{rules_lock_};
  for (auto& r : rules->matcher.rules()) {
    if (!r.own_cache)
      continue;
    auto id = rule_key(r);
    auto old = own_.find(id);
    if (old != own_.end() && old->second.max_entries == r.cache_max_entries &&
        old->second.max_bytes == r.cache_max_bytes) {
      next.emplace(id, old->second);
      continue;
    }
    cache_limits limits{static_cast<size_t>(r.cache_max_entries),
                        static_cast<size_t>(r.cache_max_bytes), 1};
    next.emplace(id, rule_cache{r.cache_max_entries, r.cache_max_bytes,
                                std::make_shared<hot_cache>(hot_cache_config{limits})});
  }
  own_ = std::move(next);
  rules_ = std::move(rules);
  any_own_.store(!own_.empty(), std::memory_order_release);
}

hot_cache* hot_view::cache_of(std::string_view key) const {
  if (own_.empty() || !rules_)
    return values_.get();
  auto* rule = rules_->matcher.match(key);
  if (!rule || !rule->own_cache)
    return values_.get();
  auto i = own_.find(rule_key(*rule));
  return i == own_.end() ? values_.get() : i->second.cache.get();
}

// Each call holds rules_lock_ shared while it uses the cache, so use_rules() cannot
// drop that cache under it; readers do not contend on a reference count.

// Without rule caches (the common case) reads go straight to the node's cache,
// which is never replaced: no lock, no rule lookup on the read path. A read that
// races with use_rules() may use the node's cache once; erase_value() covers both.

std::optional<std::string> hot_view::get_value(std::string_view key, int64_t now_ms) {
  if (!any_own_.load(std::memory_order_acquire))
    return values_->get(key, now_ms);
  std::shared_lock<std::shared_mutex> guard{rules_lock_};
  return cache_of(key)->get(key, now_ms);
}

bool hot_view::put_value(std::string_view key, std::string value, int64_t now_ms,
                         int64_t ttl_ms) {
  if (!any_own_.load(std::memory_order_acquire))
    return values_->put(key, std::move(value), now_ms, ttl_ms);
  std::shared_lock<std::shared_mutex> guard{rules_lock_};
  return cache_of(key)->put(key, std::move(value), now_ms, ttl_ms);
}

std::atomic<uint64_t>& hot_view::generation_of(std::string_view key) const noexcept {
  return generations_[std::hash<std::string_view>{}(key) % generation_stripes];
}

uint64_t hot_view::value_generation(std::string_view key) const noexcept {
  return generation_of(key).load(std::memory_order_acquire);
}

bool hot_view::put_loaded(std::string_view key, std::string value, int64_t now_ms,
                          int64_t ttl_ms, uint64_t generation) {
  auto& g = generation_of(key);
  if (g.load(std::memory_order_acquire) != generation)
    return false;
  if (!put_value(key, std::move(value), now_ms, ttl_ms))
    return false;
  // erase_value moves the generation on before it erases: either it erases what
  // went in above, or the generation has moved by now and it is taken out here.
  if (g.load(std::memory_order_acquire) != generation) {
    erase_value(key);
    return false;
  }
  return true;
}

bool hot_view::erase_value(std::string_view key) {
  generation_of(key).fetch_add(1, std::memory_order_acq_rel);
  std::shared_lock<std::shared_mutex> guard{rules_lock_};
  auto* cache = cache_of(key);
  // The key's value may sit in the node's cache from before its rule got limits.
  bool erased = cache->erase(key);
  if (cache != values_.get())
    erased = values_->erase(key) || erased;
  return erased;
}

std::vector<std::string>
hot_view::erase_matching(const std::vector<key_pattern>& patterns) {
  std::vector<std::string> keys;
  {
    std::shared_lock<std::shared_mutex> guard{lock_};
    for (auto& [key, info] : info_)
      for (auto& p : patterns)
        if (matches(p, key)) {
          keys.push_back(key);
          break;
        }
  }
  for (auto& k : keys)
    erase_value(k);
  // A load in flight for a key that turns hot only now read the old data too:
  // moving every generation on keeps it out (erase_matching is rare).
  for (auto& g : generations_)
    g.fetch_add(1, std::memory_order_acq_rel);
  return keys;
}

cache_stats hot_view::value_stats() const {
  auto sum = values_->stats();
  std::shared_lock<std::shared_mutex> guard{rules_lock_};
  for (auto& [_, rc] : own_)
    add(sum, rc.cache->stats());
  return sum;
}

std::optional<cache_stats> hot_view::rule_cache_stats(const hotkey_rule& rule) const {
  std::shared_lock<std::shared_mutex> guard{rules_lock_};
  auto i = own_.find(rule_key(rule));
  if (i == own_.end())
    return std::nullopt;
  return i->second.cache->stats();
}

bool hot_view::mark(std::string_view key, uint64_t count, int64_t ttl_ms, bool manual,
                    int64_t now_ms) {
  std::unique_lock<std::shared_mutex> guard{lock_};
  // An operator's manual key keeps its expiry: a detection push only updates
  // its count, so it cannot cut a "forever" key down to the rule's duration.
  if (auto i = info_.find(std::string{key});
      !manual && i != info_.end() && i->second.manual) {
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
  erase_value(key);
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
    erase_value(k);
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
