// binlog_reader: the reader of a binlog pipeline. It checks the source,
// claims the pipeline on the target (epoch), loads the checkpoints, copies the
// snapshot when asked, then streams the binlog: decodes each event, groups
// events into transactions, routes each row to its partition, applies DDL and
// key changes in barriers (every partition drained first), holds prepared XA
// transactions (xa_tracker), and keeps the rows in flight under the bound with
// credits from the partitions. Every failure ends in "failed" with a reason.
// Blocking: runs in a detached actor, linked to its partitions; it stops on
// an exit message (see messages/binlog.hpp for its protocol).
#pragma once

#include <memory>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/binlog/sync/pipeline.hpp"
#include "messages/binlog.hpp"

namespace shoal::binlog::detail {

/// The body of the reader's actor: waits for its partitions' handles, then
/// reads until it stops; returns the reason to end with (its failure, or the
/// exit it got).
caf::error run_binlog_reader(caf::blocking_actor* self,
                             std::shared_ptr<pipeline::shared> st);

} // namespace shoal::binlog::detail
