#include "actors/hotkey/core/hot_cache.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <xxhash.h>

namespace shoal::hotkey {

namespace {

size_t share(size_t total, double fraction) {
  return std::max<size_t>(
      1, static_cast<size_t>(std::llround(static_cast<double>(total) * fraction)));
}

} // namespace

hot_cache::hot_cache(hot_cache_config config) {
  if (config.limits.max_entries > max_cache_entries)
    throw std::invalid_argument(
        "hot cache: max_entries " + std::to_string(config.limits.max_entries) +
        " is above the limit of " + std::to_string(max_cache_entries));
  auto shards = std::max<size_t>(config.limits.shards, 1);
  auto entries = std::max<size_t>(config.limits.max_entries / shards, 1);
  auto bytes = std::max<size_t>(config.limits.max_bytes / shards, 1);
  auto window = std::clamp(config.window_fraction, 0.0001, 0.9999);
  auto protect = std::clamp(config.protected_fraction, 0.0001, 0.9999);
  window_ = {share(entries, window), share(bytes, window)};
  // With room for a single entry the window takes it all and main is empty.
  main_ = {entries > window_.entries ? entries - window_.entries : 0,
           bytes > window_.bytes ? bytes - window_.bytes : 0};
  protect_ = {share(main_.entries, protect), share(main_.bytes, protect)};
  for (size_t i = 0; i < shards; ++i)
    shards_.push_back(std::make_unique<shard>(entries));
}

hot_cache::shard& hot_cache::shard_of(uint64_t hash) const {
  return *shards_[(hash >> 40) % shards_.size()];
}

hot_cache::part& hot_cache::part_of(shard& s, segment where) const {
  switch (where) {
  case segment::window:
    return s.window;
  case segment::probation:
    return s.probation;
  case segment::protect:
    break;
  }
  return s.protect;
}

bool hot_cache::over(const part& p, bounds b, size_t extra_entries,
                     size_t extra_bytes) noexcept {
  return p.entries.size() + extra_entries > b.entries || p.bytes + extra_bytes > b.bytes;
}

void hot_cache::move(shard& s, list::iterator i, segment to) {
  auto& from = part_of(s, i->where);
  auto& into = part_of(s, to);
  auto size = i->key.size() + i->value.size();
  from.bytes -= size;
  into.bytes += size;
  into.entries.splice(into.entries.begin(), from.entries, i);
  i->where = to;
}

void hot_cache::remove(shard& s, list::iterator i) {
  auto& p = part_of(s, i->where);
  p.bytes -= i->key.size() + i->value.size();
  s.index.erase(i->key);
  p.entries.erase(i);
}

void hot_cache::on_read(shard& s, list::iterator i) {
  switch (i->where) {
  case segment::window:
  case segment::protect:
    move(s, i, i->where);
    break;
  case segment::probation:
    move(s, i, segment::protect);
    while (over(s.protect, protect_) && s.protect.entries.size() > 1)
      move(s, std::prev(s.protect.entries.end()), segment::probation);
    break;
  }
}

void hot_cache::evict(shard& s) {
  while (!s.window.entries.empty() && over(s.window, window_))
    move(s, std::prev(s.window.entries.end()), segment::probation);
  auto main_over = [&] {
    return s.probation.entries.size() + s.protect.entries.size() > main_.entries ||
           s.probation.bytes + s.protect.bytes > main_.bytes;
  };
  while (main_over()) {
    list::iterator gone;
    if (s.probation.entries.size() >= 2) {
      auto candidate = s.probation.entries.begin();
      auto victim = std::prev(s.probation.entries.end());
      gone = s.sketch.frequency(candidate->hash) > s.sketch.frequency(victim->hash)
                 ? victim
                 : candidate;
    } else if (!s.probation.entries.empty()) {
      gone = s.probation.entries.begin();
    } else {
      gone = std::prev(s.protect.entries.end());
    }
    remove(s, gone);
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
}

std::optional<std::string> hot_cache::get(std::string_view key, int64_t now_ms) {
  auto hash = XXH3_64bits(key.data(), key.size());
  auto& s = shard_of(hash);
  std::lock_guard<std::mutex> guard{s.lock};
  s.sketch.record(hash);
  auto i = s.index.find(key);
  if (i == s.index.end() || now_ms >= i->second->expires_ms) {
    if (i != s.index.end())
      remove(s, i->second);
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  auto e = i->second;
  on_read(s, e);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return e->value;
}

bool hot_cache::put(std::string_view key, std::string value, int64_t now_ms,
                    int64_t ttl_ms) {
  auto hash = XXH3_64bits(key.data(), key.size());
  auto& s = shard_of(hash);
  auto size = key.size() + value.size();
  auto expires = ttl_ms <= 0 || now_ms > std::numeric_limits<int64_t>::max() - ttl_ms
                     ? std::numeric_limits<int64_t>::max()
                     : now_ms + ttl_ms;
  std::lock_guard<std::mutex> guard{s.lock};
  auto i = s.index.find(key);
  if (size > window_.bytes + main_.bytes) {
    if (i != s.index.end())
      remove(s, i->second);
    return false;
  }
  if (i != s.index.end()) {
    auto e = i->second;
    auto& p = part_of(s, e->where);
    p.bytes = p.bytes - e->value.size() + value.size();
    e->value = std::move(value);
    e->expires_ms = expires;
    on_read(s, e);
  } else {
    s.window.entries.push_front(
        entry{std::string{key}, std::move(value), expires, hash, segment::window});
    s.window.bytes += size;
    s.index.emplace(s.window.entries.front().key, s.window.entries.begin());
  }
  evict(s);
  return true;
}

bool hot_cache::erase(std::string_view key) {
  auto hash = XXH3_64bits(key.data(), key.size());
  auto& s = shard_of(hash);
  std::lock_guard<std::mutex> guard{s.lock};
  auto i = s.index.find(key);
  if (i == s.index.end())
    return false;
  remove(s, i->second);
  return true;
}

cache_stats hot_cache::stats() const {
  cache_stats result;
  result.hits = hits_.load(std::memory_order_relaxed);
  result.misses = misses_.load(std::memory_order_relaxed);
  result.evictions = evictions_.load(std::memory_order_relaxed);
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> guard{s->lock};
    result.entries += s->window.entries.size() + s->probation.entries.size() +
                      s->protect.entries.size();
    result.bytes += s->window.bytes + s->probation.bytes + s->protect.bytes;
  }
  return result;
}

} // namespace shoal::hotkey
