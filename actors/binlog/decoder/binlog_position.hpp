// Positions in a source's binary log, and the keys that order row changes.
//
// A `binlog_position` is a file name and a byte offset in it. A `change_key`
// names one row change: the position of the event group (transaction) it
// belongs to and its one-based index inside that group. Index 0 means "the
// whole stream before `at`", which is what a partition records when it has
// applied everything up to a group boundary. Keys are totally ordered in binlog
// order, so a partition can skip every change whose key is not above the one
// it last committed: that is what makes a resumed pipeline exactly-once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

namespace shoal::binlog {

/// A MariaDB GTID: domain-server-sequence. Sequence numbers start at 1, so
/// seq_no 0 is "none".
struct mariadb_gtid {
  uint32_t domain_id = 0;
  uint32_t server_id = 0;
  uint64_t seq_no = 0;

  /// "domain-server-seq", as @@gtid_slave_pos spells it; "" for none.
  std::string to_string() const;
  bool empty() const noexcept { return seq_no == 0; }
  /// Parses "domain-server-seq"; nullopt for anything else (a list, "").
  static std::optional<mariadb_gtid> parse(std::string_view text);
};

inline bool operator==(const mariadb_gtid& a, const mariadb_gtid& b) {
  return a.domain_id == b.domain_id && a.server_id == b.server_id && a.seq_no == b.seq_no;
}
inline bool operator!=(const mariadb_gtid& a, const mariadb_gtid& b) {
  return !(a == b);
}

struct binlog_position {
  std::string file;
  uint64_t pos = 0;

  /// "mariadb-bin.000003:1234".
  std::string to_string() const { return file + ":" + std::to_string(pos); }
  bool empty() const noexcept { return file.empty(); }
};

/// Orders binlog file names: by their numeric extension when both have one
/// (`x.000010` after `x.000009`), else by name.
int compare_files(const std::string& a, const std::string& b);

inline bool operator<(const binlog_position& a, const binlog_position& b) {
  auto c = compare_files(a.file, b.file);
  return c != 0 ? c < 0 : a.pos < b.pos;
}
inline bool operator==(const binlog_position& a, const binlog_position& b) {
  return a.file == b.file && a.pos == b.pos;
}
inline bool operator<=(const binlog_position& a, const binlog_position& b) {
  return !(b < a);
}

struct change_key {
  change_key() = default;
  change_key(binlog_position at, uint64_t index = 0, mariadb_gtid gtid = {})
      : at(std::move(at)), index(index), gtid(gtid) {}

  /// Start of the change's event group; for index 0, a group boundary.
  binlog_position at;
  /// One-based index of the change in its group; 0: everything before `at`.
  uint64_t index = 0;
  /// Where the key stands by GTID, so that another server of the same
  /// replication topology can find it (actors/binlog/sync/source_switch.hpp):
  /// for index > 0 the GTID of the group at `at`, for index 0 that of the
  /// last group that ended at or before `at`. Empty when not known (a MySQL
  /// source, or a position read before any group); not part of the order.
  mariadb_gtid gtid;

  std::string to_string() const { return at.to_string() + "#" + std::to_string(index); }
};

inline bool operator<(const change_key& a, const change_key& b) {
  if (a.at < b.at)
    return true;
  if (b.at < a.at)
    return false;
  return a.index < b.index;
}
inline bool operator<=(const change_key& a, const change_key& b) {
  return !(b < a);
}
inline bool operator==(const change_key& a, const change_key& b) {
  return a.at == b.at && a.index == b.index;
}

} // namespace shoal::binlog
