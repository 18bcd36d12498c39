// source_switch: where a pipeline's checkpoints stand in another server's
// binlog, found by GTID, for a pipeline that moves to another server of the
// same replication topology (a replica promoted after its primary failed, or a
// `source` changed in the config).
//
//   std::vector<gtid_point> points{{key.at, key.gtid, key.index > 0}};
//   auto moved = locate_points(new_source, replica_server_id, points, stopping);
//   if (!moved.error.empty()) stop(moved.error);   // says what and why
//   key.at = moved.positions[0];
//
// A checkpoint is a position in the old server's binlog plus a GTID
// (change_key::gtid): the group the key's changes belong to (a point at a
// group's start) or the last group before it (a point between groups). The
// new server has the same groups at other positions, in the same order within
// a GTID domain; this reads its binlog from the file that holds the earliest
// of those groups and names each point's position there: the start of its
// group, or the end of its last group.
//
// Refused, with what to do, rather than guessed:
// - a point without a GTID (written from a MySQL source, or by a shoal
//   before GTIDs were kept);
// - points in more than one GTID domain, or a new server whose binlog has
//   ever logged another domain: two domains may interleave differently on two
//   servers, so no single position there means "these groups and no others";
// - a group the new server does not have: purged from its binlog, or never
//   received (the old server committed transactions the new one lacks: the
//   target holds changes that the new source does not).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "actors/binlog/decoder/binlog_position.hpp"
#include "runtime/adapters/mysql_connection.hpp"

namespace shoal::binlog {

/// One checkpointed place in the old server's binlog.
struct gtid_point {
  /// Its position on the old server (for messages).
  binlog_position at;
  /// `starts_group`: the GTID of the group that starts at `at`; otherwise the
  /// GTID of the last group that ended at or before `at`.
  mariadb_gtid gtid;
  bool starts_group = false;
};

struct located_points {
  /// Each point's position on the new server, in the order given.
  std::vector<binlog_position> positions;
  /// Non-empty when they cannot all be placed: why, and what to do.
  std::string error;
  /// The error is that the server does not have a point's group yet (its
  /// binlog ends before it): worth trying again if it is a replica catching up.
  bool behind = false;
  /// The error is that the server has another transaction where the target
  /// applied one: it can never take the checkpoints.
  bool diverged = false;
  /// Events read from the new server's binlog to place them.
  uint64_t events_read = 0;
};

/// Places `points` in the binlog of the server `source` connects to, reading
/// it as replica `server_id`; `stopping` ends the read early (the error then
/// says so).
located_points locate_points(const mysql_config& source, uint32_t server_id,
                             const std::vector<gtid_point>& points,
                             const std::function<bool()>& stopping);

} // namespace shoal::binlog
