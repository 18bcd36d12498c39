// key_choice: which columns identify a row of a target table, and whether rows
// of different keys can still collide there.
//
//   s.key = choose_key(parts_from_show_index, s.columns);  // when the binlog has no PK
//   classify_collisions(s, unique_key_count, column_collations);
//
// choose_key takes the first unique key, in SHOW INDEX order, whose columns are
// all NOT NULL, whole (no prefix) and present: the key a MariaDB server without
// a primary key treats as primary, and so the one binlog_row_image=MINIMAL puts
// in before images.
//
// classify_collisions sets table_schema::single_partition when two rows that
// hash apart can be one row to the target: a second unique key (row A frees a
// value that row B takes next), or a key column in a collation that folds case,
// accents or trailing spaces. MariaDB's PAD SPACE `_bin` collations only fold
// trailing spaces: those columns keep spreading, hashed without them
// (key_pads). Byte-exact: binary, `_nopad_bin`, MySQL 8's `_0900_bin`.
// Pure logic; no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "messages/binlog_row.hpp"

namespace shoal::binlog {

/// One row of SHOW INDEX: a column of an index.
struct index_part {
  std::string index;
  bool unique = false;
  bool nullable = false;
  /// Indexes only a prefix of the column (Sub_part set).
  bool prefix = false;
  std::string column;
};

/// Column indexes (into `columns`) of the key to identify rows by; empty when
/// no unique key qualifies.
std::vector<uint32_t> choose_key(const std::vector<index_part>& parts,
                                 const std::vector<std::string>& columns);

/// Fills single_partition, single_partition_reason and key_pads of `table`
/// (whose key is set) from the number of unique keys of the target table and
/// its columns' {name, collation} (collation empty for non-strings).
void classify_collisions(
    table_schema& table, size_t unique_keys,
    const std::vector<std::pair<std::string, std::string>>& collations);

} // namespace shoal::binlog
