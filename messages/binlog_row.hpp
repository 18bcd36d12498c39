// row_op: one change a partition applier writes to the target, as the router
// made it from a decoded rows event: the payload of the pipeline's
// partition_batch (messages/binlog.hpp). Plain data, no CAF, so the pure logic
// of the sync (router, SQL builder, XA tracker) uses it without the actors.
//
// The router turns every row of a WRITE/UPDATE/DELETE_ROWS event into one op
// with the target table's schema (names after rename, column names, key
// columns) and the change's key (see binlog_position.hpp). Marks carry only a
// key: "everything up to here is handed on", so idle partitions move their
// checkpoint too.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "actors/binlog/decoder/binlog_position.hpp"
#include "actors/binlog/decoder/row_decoder.hpp"

namespace shoal::binlog {

/// How a change stream writes one column's values (actors/binlog/sync/change_event.hpp),
/// from the TABLE_MAP's metadata (formats_of).
struct column_format {
  std::string name;
  /// CHARACTER_SET_NAME of a text column ("utf8mb4", "latin1", ...); empty or
  /// "binary" for bytes without a character set (written as base64).
  std::string charset;
  /// A JSON column (MySQL's type, or MariaDB's alias of LONGTEXT): embedded as JSON.
  bool json = false;
  /// ENUM or SET member names as UTF-8, in the column's order.
  std::vector<std::string> members;
  /// Fractional digits of TIME, DATETIME and TIMESTAMP columns (0..6).
  uint8_t fsp = 0;
};

/// A source table as the pipeline writes it to the target.
struct table_schema {
  std::string source_db;
  std::string source_table;
  std::string target_db;
  std::string target_table;
  /// Column names in table order; as many as the TABLE_MAP has columns.
  std::vector<std::string> columns;
  /// Indexes of the primary key columns (or of a unique key of NOT NULL
  /// columns); empty when the table has neither.
  std::vector<uint32_t> key;
  /// Rows of different keys may still collide on the target, so every change of
  /// the table goes to one partition, in binlog order: the table has another
  /// unique key (row A frees a value that row B takes next), or a key column
  /// compares case-, accent- or trailing-space-insensitively ('abc' and 'ABC '
  /// are one row to the target but hash apart).
  bool single_partition = false;
  /// Why single_partition is set, for the log.
  std::string single_partition_reason;
  /// Per key column: it compares PAD SPACE (MariaDB's _bin collations), so its
  /// trailing spaces are not hashed ('a' and 'a ' are one row).
  std::vector<bool> key_pads;
  /// Per column: generated (VIRTUAL or STORED) on the target, which computes it;
  /// the reader leaves such columns out of the images it hands on.
  std::vector<bool> generated;
  /// Per column: a character column whose collation may find different values
  /// equal ('k' = 'K ' in utf8mb4_general_ci, 'a' = 'a ' in PAD SPACE _bin):
  /// rows of tables without a key are matched on its bytes instead.
  std::vector<bool> folds;
  /// An UPDATE that keeps the row's key keeps its before image on the upsert op
  /// too (the SQL ignores it): hot-cache invalidation makes the old key from it
  /// (actors/binlog/sync/cache_keys.hpp).
  bool keep_before_images = false;
  /// Stream targets (change_event.hpp): how each column's values are written.
  std::vector<column_format> formats;

  bool has_key() const noexcept { return !key.empty(); }
};

enum class op_kind : uint8_t {
  /// Insert or overwrite the row with `after`'s present columns (keyed tables).
  upsert,
  /// Set `after`'s present columns on the row whose key `before` holds (keyed
  /// tables with a partial after image: binlog_row_image=MINIMAL/NOBLOB).
  update,
  /// Delete the row whose key `before` holds.
  delete_,
  /// Insert `after` (tables without a key).
  insert,
  /// Set `after`'s present columns on one row equal to `before` in every present
  /// column (tables without a key).
  update_matching,
  /// Delete one row equal to `before` in every present column (no key).
  delete_matching,
  /// No row: everything up to `key` has been handed on.
  mark,
};

struct row_op {
  op_kind kind = op_kind::mark;
  /// What the source logged for the row: a key-changing UPDATE is one delete_
  /// and one upsert op, both `update`; change streams (change_event.hpp) tell
  /// an insert from an update and such a move by it. Marks: write.
  row_kind source = row_kind::write;
  change_key key;
  /// Timestamp of the source event (seconds since the epoch), for lag.
  uint32_t event_time = 0;
  std::shared_ptr<const table_schema> table;
  row_image before;
  row_image after;
};

} // namespace shoal::binlog
