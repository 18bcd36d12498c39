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
  auto breaker = reader_.breaker();
  for (auto st : {hotkey::breaker_state::closed, hotkey::breaker_state::open,
                  hotkey::breaker_state::half_open})
    m.breaker.Add({{"state", to_string(st)}}).Set(breaker == st ? 1 : 0);
  advance_counter(m.recorded, p_->recorder->recorded());
  advance_counter(m.detections, s.detections.load());
  advance_counter(m.hot_received, s.hot_received.load());
  advance_counter(m.cache_requests.Add({{"result", "hit"}}), s.cache_hits.load());
  advance_counter(m.cache_requests.Add({{"result", "miss"}}), s.cache_misses.load());
  advance_counter(m.loader_calls, s.loader_calls.load());
  advance_counter(m.loader_failures, s.loader_failures.load());
  advance_counter(m.loads_shared, s.loads_shared.load());
  advance_counter(m.rejections.Add({{"guard", "limiter"}}), s.limiter_rejections.load());
  advance_counter(m.rejections.Add({{"guard", "breaker"}}), s.breaker_rejections.load());
  advance_counter(m.fallbacks, s.fallbacks.load());
  for (auto us : s.take_push_latencies())
    m.push_latency.Observe(static_cast<double>(us) / 1e6);
}

} // namespace shoal
