// writeset: which source transactions of a round may apply in parallel
// ("apply": "transaction"), and the record of which ones a partition committed.
//
//   writeset ws;
//   add_writeset(op, ws);                         // per op of a transaction
//   auto where = assign_transactions(writesets, rows, partitions);
//   auto blob = encode_groups({0, 3, 4});         // stored with the checkpoint
//
// A transaction's writeset is what it touches: each row by its target table
// and key values (router.hpp row_hash; for a key change both the old and the
// new row), and tables whose rows cannot be told apart by a key (no key,
// single_partition, or before images without the key columns) as a whole.
// Two transactions conflict when they touch the same row, or when one touches
// a table as a whole and the other touches the same table at all: that is
// MySQL's binlog_transaction_dependency_tracking=WRITESET, with a table's
// other unique keys folded into the whole table. Transactions that conflict,
// directly or through others, form one chain and go to one partition in
// source order; chains go to the partition with the fewest rows so far. Hash
// collisions only join chains that need not be. Pure logic; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/binlog_row.hpp"

namespace shoal::binlog {

/// What one transaction touches.
struct writeset {
  /// row_hash of each row it touches by key.
  std::vector<uint64_t> rows;
  /// table_hash of each table whose rows it touches by key.
  std::vector<uint64_t> tables;
  /// table_hash of each table it touches as a whole.
  std::vector<uint64_t> whole;
};

/// Adds what `op` touches to `out` (a mark touches nothing).
void add_writeset(const row_op& op, writeset& out);

/// The partition in [0, partitions) of each transaction, given each one's
/// writeset and row count, in source order: conflicting transactions (directly
/// or through others) share a partition. Deterministic.
std::vector<uint32_t> assign_transactions(const std::vector<writeset>& writesets,
                                          const std::vector<size_t>& rows,
                                          uint32_t partitions);

/// How many of `partitions` a round of `rows` row changes goes to: one per
/// `rows_per_share` started, at least one. Each partition a round goes to is a
/// commit the round waits for (a round trip and a flush on the target), so a
/// small round is one commit, and a round spreads only once a partition's share
/// costs more to apply than another commit does.
uint32_t round_partitions(size_t rows, uint32_t partitions, size_t rows_per_share);

/// A set of group ordinals as stored on the target: ascending, delta varints.
std::string encode_groups(const std::vector<uint32_t>& ascending);

/// The ordinals of `blob`, ascending; nullopt when it is not what
/// encode_groups writes.
std::optional<std::vector<uint32_t>> decode_groups(std::string_view blob);

} // namespace shoal::binlog
