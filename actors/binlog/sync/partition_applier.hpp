// partition_applier: one partition of a binlog pipeline. It receives row ops
// for its partition in binlog order from the reader, applies them to the
// target in batches (one fenced transaction each, with its checkpoint), and
// returns credits for what it applied or skipped. A lost connection reconnects
// with the session settings and re-reads the checkpoint before anything runs
// again; a value the target rejects stops the pipeline naming the row.
// Blocking: runs in a detached actor.
#pragma once

#include <cstdint>
#include <memory>

#include <caf/fwd.hpp>

#include "actors/binlog/sync/pipeline.hpp"

namespace shoal::binlog::detail {

/// The body of partition `id`'s actor; returns when the pipeline stops.
void run_partition_applier(caf::blocking_actor* self,
                           std::shared_ptr<pipeline::shared> st, uint32_t id,
                           caf::actor reader);

} // namespace shoal::binlog::detail
