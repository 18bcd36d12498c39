// The hot-key service's metrics: what update_metrics() reads from the node context
// (stats, hot view, cache reader) every tick.

#include "runtime/hotkey_metrics.hpp"
#include "actors/hotkey/core/hot_view.hpp"
#include "runtime/hotkey_service.hpp"

namespace shoal {

void hotkey_service::update_metrics() {
  auto& s = *p_->stats;
  auto& m = *metrics_;
  auto now = p_->clock->now_ms();
  m.hot_keys.Set(static_cast<double>(p_->view->list(now).size()));
  m.breaker.Set(static_cast<double>(reader_.breaker()));
  auto hits = s.cache_hits.load(), misses = s.cache_misses.load();
  m.hit_ratio.Set(hits + misses == 0 ? 0.0 : static_cast<double>(hits) / (hits + misses));
  m.add("recorded", p_->recorder->recorded());
  m.add("detections", s.detections.load());
  m.add("hot_received", s.hot_received.load());
  m.add("cache_hits", hits);
  m.add("cache_misses", misses);
  m.add("loader_calls", s.loader_calls.load());
  m.add("loader_failures", s.loader_failures.load());
  m.add("loads_shared", s.loads_shared.load());
  m.add("limiter_rejections", s.limiter_rejections.load());
  m.add("breaker_rejections", s.breaker_rejections.load());
  m.add("fallbacks", s.fallbacks.load());
  for (auto us : s.take_push_latencies())
    m.push_latency.Observe(static_cast<double>(us) / 1e6);
}

} // namespace shoal
