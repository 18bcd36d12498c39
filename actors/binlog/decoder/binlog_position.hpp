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
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

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

/// A MySQL GTID set, as @@gtid_executed spells it:
/// "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,<uuid>:1-3". For each source uuid
/// (held in lowercase), the transaction numbers as disjoint, sorted, inclusive
/// intervals that never touch. Tagged GTIDs (MySQL 8.3+) are not represented.
class mysql_gtid_set {
public:
  /// [first, last], both included, 1 <= first <= last.
  using interval = std::pair<int64_t, int64_t>;

  /// Adds transactions first..last of `uuid` (canonical lowercase text); false, and
  /// nothing added, for an empty or invalid range.
  bool add(const std::string& uuid, int64_t first, int64_t last);
  bool add(const std::string& uuid, int64_t gno) { return add(uuid, gno, gno); }
  bool contains(const std::string& uuid, int64_t gno) const;
  bool empty() const noexcept { return sets_.empty(); }
  /// Uuids in order, each with its intervals ("1-5" or "7"), separated by ",".
  std::string to_string() const;
  const std::map<std::string, std::vector<interval>>& intervals() const noexcept {
    return sets_;
  }
  /// Parses the text form (whitespace and newlines around parts allowed, any case,
  /// overlapping intervals merged; "" is the empty set). nullopt for anything else,
  /// including tags.
  static std::optional<mysql_gtid_set> parse(std::string_view text);

  friend bool operator==(const mysql_gtid_set& a, const mysql_gtid_set& b) {
    return a.sets_ == b.sets_;
  }

private:
  std::map<std::string, std::vector<interval>> sets_;
};

/// The canonical text of a 16-byte MySQL server uuid:
/// "3e11fa47-71ca-11e1-9e33-c80aa9429562".
std::string uuid_text(const uint8_t* bytes);

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
