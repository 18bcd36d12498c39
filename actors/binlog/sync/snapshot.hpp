// snapshot: the initial copy of a pipeline's tables, from one consistent view
// of the source, and the binlog position that view corresponds to.
//
// MariaDB: START TRANSACTION WITH CONSISTENT SNAPSHOT, then the session status
// variables binlog_snapshot_file / binlog_snapshot_position name the exact
// binlog position of that view; no global read lock is taken. Each selected
// table is recreated on the target (SHOW CREATE TABLE, renamed per the filter)
// and filled in chunks of rows; streaming then starts at the position.
// Each INSERT takes as many rows as fit the target session's
// max_allowed_packet (statement_budget); a row that does not fit alone stops
// the copy with an error naming it and the setting to raise. The source's
// max_allowed_packet does not limit reading: the server sends stored rows of
// any size, and Connector/C reads packets up to 1 GiB.
// Blocking; call from a detached actor.
#pragma once

#include <functional>

#include <cstdint>
#include <string>

#include "actors/binlog/decoder/binlog_position.hpp"
#include "actors/binlog/decoder/table_filter.hpp"
#include "runtime/adapters/mysql_connection.hpp"

namespace shoal::binlog {

struct snapshot_result {
  binlog_position position;
  uint64_t tables = 0;
  uint64_t rows = 0;
  /// Empty on success.
  std::string error;
  /// The error is a lost connection to the source or the target: the copy can be
  /// started again from a new view (every table is recreated).
  bool connection_lost = false;
};

/// Copies every table `filter` selects from `source` to `target` (whose
/// session must allow zero dates and use time_zone '+00:00'). On error
/// (`snapshot_result::error`) the table being copied is left partly filled;
/// a new copy recreates it. `chunk_rows`: most rows read from the source at
/// once (fewer for big rows: about one INSERT's bytes). `progress` is called
/// after every chunk; when it returns false the copy stops there (an error).
snapshot_result copy_snapshot(
    mysql_connection& source, mysql_connection& target, const table_filter& filter,
    size_t chunk_rows = 2000,
    const std::function<bool(uint64_t copied, uint64_t expected)>& progress = {});

} // namespace shoal::binlog
