// hotkey_metrics: the Prometheus figures of a node's hot-key service
// (shoal_hotkeys_*), brought up to date by hotkey_service::update_metrics() from the
// node's metrics ticker. Internal to runtime/hotkey_*.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "runtime/hotkey_service.hpp"

namespace shoal {

struct hotkey_service::metrics {
  explicit metrics(prometheus::Registry& r)
      : hot_keys(prometheus::BuildGauge()
                     .Name("shoal_hotkeys_hot_keys")
                     .Help("Keys hot on this node now.")
                     .Register(r)
                     .Add({})),
        breaker(prometheus::BuildGauge()
                    .Name("shoal_hotkeys_breaker_state")
                    .Help("Loader circuit breaker: 0 closed, 1 open, 2 half-open.")
                    .Register(r)
                    .Add({})),
        hit_ratio(prometheus::BuildGauge()
                      .Name("shoal_hotkeys_cache_hit_ratio")
                      .Help("Hot cache hits / (hits + misses) since start.")
                      .Register(r)
                      .Add({})),
        counters(
            prometheus::BuildCounter()
                .Name("shoal_hotkeys_events_total")
                .Help("Hot-key events by kind: recorded, detections, hot_received, "
                      "cache_hits, cache_misses, loader_calls, loader_failures, "
                      "loads_shared, limiter_rejections, breaker_rejections, fallbacks.")
                .Register(r)),
        push_latency(
            prometheus::BuildHistogram()
                .Name("shoal_hotkeys_push_latency_seconds")
                .Help("From a shard declaring a key hot to this node's cache having it.")
                .Register(r)
                .Add({}, prometheus::Histogram::BucketBoundaries{
                             0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 1})) {}

  void add(const std::string& kind, uint64_t value) {
    auto& last = last_[kind];
    if (value > last)
      counters.Add({{"kind", kind}}).Increment(static_cast<double>(value - last));
    last = value;
  }

  prometheus::Gauge& hot_keys;
  prometheus::Gauge& breaker;
  prometheus::Gauge& hit_ratio;
  prometheus::Family<prometheus::Counter>& counters;
  prometheus::Histogram& push_latency;
  std::map<std::string, uint64_t> last_;
};

} // namespace shoal
