// process_metrics: the standard process_* figures Prometheus clients export
// (CPU seconds, resident and virtual memory, open and maximum file descriptors,
// start time), read from /proc/self at each scrape. Linux only, like shoal.
#pragma once

#include <prometheus/registry.h>

namespace shoal {

/// Registers the process_* metrics in `reg`, with this moment's values. Meant for
/// a registry made for one scrape: the counter is set by incrementing from zero.
/// Figures /proc does not give are left out rather than reported as zero.
void add_process_metrics(prometheus::Registry& reg);

} // namespace shoal
