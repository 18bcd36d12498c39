#include "actors/hotkey/actors/cache_reader.hpp"

#include <chrono>

namespace shoal::hotkey {

cache_reader::cache_reader(protection_config config, std::shared_ptr<node_context> p)
    : config_(std::move(config)), p_(std::move(p)), breaker_(config_.breaker) {
  if (config_.per_key.rate_per_second > 0)
    per_key_ = std::make_unique<key_rate_limiter>(
        key_rate_limiter_config{config_.per_key.rate_per_second, config_.per_key.burst,
                                config_.per_key_max_keys, 16});
}

cache_read cache_reader::get(const std::string& key, const loader& load) {
  auto& stats = *p_->stats;
  auto now = p_->clock->now_ms();
  auto until = p_->view->hot_until(key, now);
  if (until) {
    if (auto v = p_->view->get_value(key, now)) {
      stats.cache_hits.fetch_add(1, std::memory_order_relaxed);
      return cache_read{read_source::hot_cache, fallback_reason::none, std::move(*v)};
    }
    stats.cache_misses.fetch_add(1, std::memory_order_relaxed);
  }
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds{config_.wait_ms};
  auto out = flights_.load(
      key, [&] { return call(key, load); }, deadline);
  if (out.shared)
    stats.loads_shared.fetch_add(1, std::memory_order_relaxed);
  if (out.status == load_status::timed_out)
    return fallback(fallback_reason::timed_out);
  if (out.status == load_status::failed || !out.value)
    return fallback(fallback_reason::load_failed);
  if (out.value->source == read_source::fallback)
    return fallback(out.value->reason);
  if (out.value->source == read_source::absent)
    return cache_read{read_source::absent, fallback_reason::none, std::nullopt};
  return cache_read{read_source::loader, fallback_reason::none,
                    std::move(out.value->value)};
}

cache_reader::loaded cache_reader::call(const std::string& key, const loader& load) {
  auto& stats = *p_->stats;
  auto now = p_->clock->now_ms();
  if (!admit(key, now)) {
    stats.limiter_rejections.fetch_add(1, std::memory_order_relaxed);
    return loaded{read_source::fallback, fallback_reason::rate_limited, {}};
  }
  {
    std::lock_guard<std::mutex> guard{lock_};
    if (!breaker_.try_acquire(hotkey_clock::steady_ms())) {
      stats.breaker_rejections.fetch_add(1, std::memory_order_relaxed);
      return loaded{read_source::fallback, fallback_reason::breaker_open, {}};
    }
  }
  stats.loader_calls.fetch_add(1, std::memory_order_relaxed);
  // An invalidation that arrives while the backend is read means the value
  // read may be the one from before the write: it is returned, not cached.
  auto generation = p_->view->value_generation(key);
  auto started = hotkey_clock::steady_ms();
  loaded result;
  bool ok = true;
  try {
    result.value = load(key);
  } catch (const key_absent&) {
    result.source = read_source::absent;
  } catch (...) {
    ok = false;
  }
  auto ended = hotkey_clock::steady_ms();
  {
    std::lock_guard<std::mutex> guard{lock_};
    breaker_.on_result(ended, ended - started, ok);
  }
  if (!ok) {
    stats.loader_failures.fetch_add(1, std::memory_order_relaxed);
    return loaded{read_source::fallback, fallback_reason::load_failed, {}};
  }
  if (result.source == read_source::absent)
    return result;
  auto after = p_->clock->now_ms();
  if (auto until = p_->view->hot_until(key, after))
    p_->view->put_loaded(key, result.value, after,
                         *until == hot_set::forever ? 0 : *until - after, generation);
  return result;
}

bool cache_reader::admit(const std::string& key, int64_t now_ms) {
  if (config_.per_rule.rate_per_second > 0) {
    auto rules = p_->rules->current();
    if (auto* rule = rules->matcher.match(key)) {
      auto id = rule_key(*rule);
      std::lock_guard<std::mutex> guard{lock_};
      auto& bucket = rule_buckets_[id];
      if (!bucket)
        bucket = std::make_unique<token_bucket>(config_.per_rule.rate_per_second,
                                                config_.per_rule.burst);
      if (!bucket->try_acquire(now_ms))
        return false;
    }
  }
  return !per_key_ || per_key_->try_acquire(key, now_ms);
}

cache_read cache_reader::fallback(fallback_reason why) {
  p_->stats->fallbacks.fetch_add(1, std::memory_order_relaxed);
  return cache_read{read_source::fallback, why, config_.fallback};
}

breaker_state cache_reader::breaker() const {
  std::lock_guard<std::mutex> guard{lock_};
  return breaker_.state();
}

} // namespace shoal::hotkey
