// Messages of a binlog sync pipeline (actors/binlog/sync/pipeline.hpp): rows
// flow from the reader to its partitions in binlog order, credits and progress
// flow back.
//
//   pipeline::start --partition_handles--> reader
//   reader --partition_start, partition_batch, drain_request--> partition (x P)
//   partition --rows_done, drained_reply--> reader
//   reader --round_share--> partition --round_done--> reader   ("apply": "transaction")
//
// The pipeline's actors live in one process and exchange rows by shared
// pointer: these types are not serialized and not in messages/registry.cpp.
// The reader and its partitions are linked; pipeline::stop() sends each an
// exit message, and one that fails ends with its error, which the links carry
// to the others, so every actor stops on an exit message.
// Both actors block on MySQL I/O, so they are detached blocking actors and
// receive with selective receive; CAF 0.17 has no typed blocking actor, so the
// handles below are cast once at spawn and every send goes through them.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/binlog/decoder/binlog_position.hpp"
#include "messages/binlog_row.hpp"

namespace shoal::binlog {

/// First message to a partition: the key it has already applied, and the
/// ownership epoch its transactions must find on the target.
struct partition_start {
  change_key applied;
  uint64_t epoch = 0;
};

/// Ops for one partition, in binlog order.
struct partition_batch {
  std::vector<row_op> ops;
};

/// Apply everything received so far, then answer drained_reply with this id.
struct drain_request {
  uint64_t id = 0;
};

struct drained_reply {
  uint32_t partition = 0;
  uint64_t id = 0;
};

/// From a partition to the reader: credits for rows applied (or skipped), and,
/// when it committed, the key it has applied up to. The reader decides from these
/// (the XA floor), never from the partitions' status, which is for display.
struct rows_done {
  int64_t rows = 0;
  uint32_t partition = 0;
  std::optional<change_key> applied;
  /// op_bytes of those rows (actors/binlog/sync/router.hpp).
  int64_t bytes = 0;
};

/// A partition's share of a round ("apply": "transaction"): whole source
/// transactions, in source order, that no other partition's share conflicts
/// with. The partition commits them in one target transaction together with
/// `records`: for each listed partition, its checkpoint at `end` and its
/// sync_round row (the groups of the round it has committed, encoded by
/// encode_groups). Then it answers round_done.
struct round_share {
  uint64_t round = 0;
  change_key end;
  std::vector<row_op> ops;
  std::vector<std::pair<uint32_t, std::string>> records;
  /// Source transactions in `ops`.
  uint32_t transactions = 0;
};

/// From a partition: its share of `round` is committed.
struct round_done {
  uint64_t round = 0;
  uint32_t partition = 0;
  int64_t rows = 0;
  /// op_bytes of the share's rows.
  int64_t bytes = 0;
};

} // namespace shoal::binlog

namespace shoal {

/// One partition of a pipeline (actors/binlog/sync/partition_applier.hpp).
///
///   (binlog::partition_start)   first: where it is, and its epoch
///   (binlog::partition_batch)   rows to apply, in binlog order
///   (binlog::drain_request)     apply all received, then drained_reply
///   (binlog::round_share)       commit this share of a round, then round_done
using binlog_partition_actor = caf::typed_actor<
    caf::reacts_to<binlog::partition_start>, caf::reacts_to<binlog::partition_batch>,
    caf::reacts_to<binlog::drain_request>, caf::reacts_to<binlog::round_share>>;

namespace binlog {
/// The reader's partitions, in partition order: its first message.
struct partition_handles {
  std::vector<binlog_partition_actor> partitions;
};
} // namespace binlog

/// The reader of a pipeline (actors/binlog/sync/binlog_reader.hpp).
///
///   (binlog::partition_handles) first, from pipeline::start
///   (binlog::rows_done)         credits and progress from a partition
///   (binlog::drained_reply)     a partition finished a drain_request
///   (binlog::round_done)        a partition committed its share of a round
using binlog_reader_actor = caf::typed_actor<
    caf::reacts_to<binlog::partition_handles>, caf::reacts_to<binlog::rows_done>,
    caf::reacts_to<binlog::drained_reply>, caf::reacts_to<binlog::round_done>>;

} // namespace shoal

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::partition_start)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::partition_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::drain_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::drained_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::rows_done)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::partition_handles)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::round_share)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::round_done)
