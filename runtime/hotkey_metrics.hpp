// hotkey_metrics: the Prometheus figures of a node's hot-key service
// (shoal_hotkeys_*), brought up to date by hotkey_service::update_metrics() from the
// node's metrics ticker. Internal to runtime/hotkey_*.cpp.
#pragma once

#include <cstdint>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "runtime/counter_feed.hpp"
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
                    .Help("1 for the loader circuit breaker's current state (closed, "
                          "open, half_open), 0 for the others.")
                    .Register(r)),
        recorded(counter(r, "shoal_hotkeys_recorded_total",
                         "Accesses counted on this node (the sum of record() counts).")),
        detections(counter(r, "shoal_hotkeys_detections_total",
                           "Keys this node's counter shards declared hot.")),
        hot_received(counter(r, "shoal_hotkeys_hot_received_total",
                             "Hot-key pushes this node's cache received.")),
        cache_requests(prometheus::BuildCounter()
                           .Name("shoal_hotkeys_cache_requests_total")
                           .Help("Reads through the hot cache, by result (hit, miss).")
                           .Register(r)),
        loader_calls(counter(r, "shoal_hotkeys_loader_calls_total",
                             "Calls of the backend loader.")),
        loader_failures(counter(r, "shoal_hotkeys_loader_failures_total",
                                "Backend loader calls that failed.")),
        loads_shared(
            counter(r, "shoal_hotkeys_loads_shared_total",
                    "Reads that shared a load already in flight for their key.")),
        rejections(prometheus::BuildCounter()
                       .Name("shoal_hotkeys_rejections_total")
                       .Help("Reads kept from the backend, by guard (limiter, breaker).")
                       .Register(r)),
        fallbacks(counter(r, "shoal_hotkeys_fallbacks_total",
                          "Reads answered by the fallback instead of the backend.")),
        push_latency(
            prometheus::BuildHistogram()
                .Name("shoal_hotkeys_push_latency_seconds")
                .Help("From a shard declaring a key hot to this node's cache having it.")
                .Register(r)
                .Add({}, prometheus::Histogram::BucketBoundaries{
                             0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 1})) {}

  static prometheus::Counter& counter(prometheus::Registry& r, const std::string& name,
                                      const std::string& help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
  }

  prometheus::Gauge& hot_keys;
  prometheus::Family<prometheus::Gauge>& breaker;
  prometheus::Counter& recorded;
  prometheus::Counter& detections;
  prometheus::Counter& hot_received;
  prometheus::Family<prometheus::Counter>& cache_requests;
  prometheus::Counter& loader_calls;
  prometheus::Counter& loader_failures;
  prometheus::Counter& loads_shared;
  prometheus::Family<prometheus::Counter>& rejections;
  prometheus::Counter& fallbacks;
  prometheus::Histogram& push_latency;
};

} // namespace shoal
