// partition_applier: one partition of a binlog pipeline. It receives row ops
// for its partition in binlog order from the reader, applies them to the
// target in batches (one fenced transaction each, with its checkpoint), and
// returns credits for what it applied or skipped. A lost connection reconnects
// with the session settings and re-reads the checkpoint before anything runs
// again; a value the target rejects stops the pipeline naming the row.
// Blocking: runs in a detached actor, linked to the reader; it stops on an
// exit message (see messages/binlog.hpp for its protocol).
#pragma once

#include <cstdint>
#include <memory>

#include <caf/fwd.hpp>

#include "actors/binlog/sync/pipeline.hpp"
#include "messages/binlog.hpp"

namespace shoal::binlog::detail {

/// The body of partition `id`'s actor: links to `reader`, applies until it
/// stops; returns the reason to end with (its failure, or the exit it got).
caf::error run_partition_applier(caf::blocking_actor* self,
                                 std::shared_ptr<pipeline::shared> st, uint32_t id,
                                 binlog_reader_actor reader);

} // namespace shoal::binlog::detail
