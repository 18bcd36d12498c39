// router: which partition applies a row change, and what the change becomes.
//
// A row goes to partition hash(target table, key values) mod P, so every change
// of one row lands on one partition and is applied there in binlog order.
// Tables without a key, and tables whose rows of different keys can collide on
// the target (table_schema::single_partition), go whole to the partition of
// their name. The hash is
// FNV-1a over a canonical rendering of the values: stable across processes
// and restarts, which resuming from per-partition checkpoints relies on.
//
// Pure logic; no actor system, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "messages/binlog_row.hpp"

namespace shoal::binlog {

/// 64-bit FNV-1a of `bytes`, continuing from `seed`.
uint64_t fnv1a(std::string_view bytes, uint64_t seed = 14695981039346656037ULL);

/// 64-bit hash of the target table alone: what a table without a key (or a
/// single_partition one) is routed by.
uint64_t table_hash(const table_schema& table);

/// 64-bit hash of the row `image` of `table` stands for: the target table and
/// its key values (trailing spaces of PAD SPACE key columns left out);
/// table_hash when the table has no key or is single_partition. Stable across
/// processes and versions: stored checkpoints depend on it.
uint64_t row_hash(const table_schema& table, const row_image& image);

/// The partition in [0, partitions) for a row of `table` whose image is
/// `image` (only its key columns are read). Tables without a key: by name.
uint32_t partition_of(const table_schema& table, const row_image& image,
                      uint32_t partitions);

/// What an op holds in memory, roughly: the op, its values, and the text and
/// bytes they own. A mark counts 0, as partitions count rows only. The reader's
/// byte bound (max_inflight_bytes) counts ops by it; partitions return the same
/// sum for what they committed.
int64_t op_bytes(const row_op& op);

/// op_bytes summed over `ops`.
int64_t ops_bytes(const std::vector<row_op>& ops);

/// True when every key column is present in `image`.
bool has_key_values(const table_schema& table, const row_image& image);

/// True when an update's after image holds a key column whose value differs
/// from the before image's: the row moves to another key (and maybe partition).
bool changes_key(const table_schema& table, const row_change& change);

/// The ops for one row of a rows event. A key-changing update becomes a delete
/// of the old key followed by an upsert of the new row (the caller puts a
/// barrier in front of it). `key` is the change's key; `time` the event's.
std::vector<row_op> ops_for_row(row_kind kind,
                                const std::shared_ptr<const table_schema>& table,
                                row_change change, const change_key& key, uint32_t time);

} // namespace shoal::binlog
