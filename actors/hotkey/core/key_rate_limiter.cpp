#include "actors/hotkey/core/key_rate_limiter.hpp"

#include <algorithm>
#include <functional>

namespace shoal::hotkey {

key_rate_limiter::key_rate_limiter(key_rate_limiter_config config) : config_(config) {
  config_.max_keys = std::max<size_t>(config_.max_keys, 1);
  config_.shards = std::clamp<size_t>(config_.shards, 1, config_.max_keys);
  per_shard_ = (config_.max_keys + config_.shards - 1) / config_.shards;
  for (size_t i = 0; i < config_.shards; ++i)
    shards_.push_back(std::make_unique<shard>());
}

bool key_rate_limiter::try_acquire(std::string_view key, int64_t now_ms, uint32_t n) {
  auto h = std::hash<std::string_view>{}(key);
  auto& s = *shards_[(h >> 7) % shards_.size()];
  std::lock_guard<std::mutex> guard{s.lock};
  auto i = s.index.find(key);
  if (i != s.index.end()) {
    s.lru.splice(s.lru.begin(), s.lru, i->second);
    return i->second->bucket.try_acquire(now_ms, n);
  }
  if (s.lru.size() >= per_shard_) {
    s.index.erase(s.lru.back().key);
    s.lru.pop_back();
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
  s.lru.emplace_front(std::string{key}, config_.rate_per_second, config_.burst);
  s.index.emplace(s.lru.front().key, s.lru.begin());
  return s.lru.front().bucket.try_acquire(now_ms, n);
}

size_t key_rate_limiter::size() const {
  size_t total = 0;
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> guard{s->lock};
    total += s->lru.size();
  }
  return total;
}

} // namespace shoal::hotkey
