// advance_counter: feeds a Prometheus counter from a running total that a service
// keeps itself (an atomic, a status field), read at scrape time.
//
//   advance_counter(rows_applied.Add({{"pipeline", name}}), status.rows_applied);
//
// The counter only ever goes up: a total that went back (a restarted service that
// counts from zero again) leaves it where it is, as a counter must.

#pragma once

#include <cstdint>

#include <prometheus/counter.h>

namespace shoal {

/// Brings `counter` up to `total`; a lower total changes nothing.
inline void advance_counter(prometheus::Counter& counter, uint64_t total) {
  auto seen = static_cast<uint64_t>(counter.Value());
  if (total > seen)
    counter.Increment(static_cast<double>(total - seen));
}

} // namespace shoal
