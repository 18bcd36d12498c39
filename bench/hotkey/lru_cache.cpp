#include "bench/hotkey/lru_cache.hpp"

#include <algorithm>
#include <limits>

#include <xxhash.h>

namespace shoal::hotkey {

lru_cache::lru_cache(cache_limits limits) {
  auto shards = std::max<size_t>(limits.shards, 1);
  max_entries_ = std::max<size_t>(limits.max_entries / shards, 1);
  max_bytes_ = std::max<size_t>(limits.max_bytes / shards, 1);
  for (size_t i = 0; i < shards; ++i)
    shards_.push_back(std::make_unique<shard>());
}

lru_cache::shard& lru_cache::shard_of(std::string_view key) const {
  return *shards_[XXH3_64bits(key.data(), key.size()) % shards_.size()];
}

void lru_cache::remove(shard& s, std::list<entry>::iterator i) {
  s.bytes -= i->key.size() + i->value.size();
  s.index.erase(i->key);
  s.lru.erase(i);
}

std::optional<std::string> lru_cache::get(std::string_view key, int64_t now_ms) {
  auto& s = shard_of(key);
  std::lock_guard<std::mutex> guard{s.lock};
  auto i = s.index.find(key);
  if (i == s.index.end() || now_ms >= i->second->expires_ms) {
    if (i != s.index.end())
      remove(s, i->second);
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  s.lru.splice(s.lru.begin(), s.lru, i->second);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return i->second->value;
}

bool lru_cache::put(std::string_view key, std::string value, int64_t now_ms,
                    int64_t ttl_ms) {
  auto& s = shard_of(key);
  auto size = key.size() + value.size();
  auto expires = ttl_ms <= 0 || now_ms > std::numeric_limits<int64_t>::max() - ttl_ms
                     ? std::numeric_limits<int64_t>::max()
                     : now_ms + ttl_ms;
  std::lock_guard<std::mutex> guard{s.lock};
  if (auto i = s.index.find(key); i != s.index.end())
    remove(s, i->second);
  if (size > max_bytes_)
    return false;
  while (!s.lru.empty() &&
         (s.lru.size() >= max_entries_ || s.bytes + size > max_bytes_)) {
    remove(s, std::prev(s.lru.end()));
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
  s.lru.push_front(entry{std::string{key}, std::move(value), expires});
  s.index.emplace(s.lru.front().key, s.lru.begin());
  s.bytes += size;
  return true;
}

bool lru_cache::erase(std::string_view key) {
  auto& s = shard_of(key);
  std::lock_guard<std::mutex> guard{s.lock};
  auto i = s.index.find(key);
  if (i == s.index.end())
    return false;
  remove(s, i->second);
  return true;
}

cache_stats lru_cache::stats() const {
  cache_stats result;
  result.hits = hits_.load(std::memory_order_relaxed);
  result.misses = misses_.load(std::memory_order_relaxed);
  result.evictions = evictions_.load(std::memory_order_relaxed);
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> guard{s->lock};
    result.entries += s->lru.size();
    result.bytes += s->bytes;
  }
  return result;
}

} // namespace shoal::hotkey
