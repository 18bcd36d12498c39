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
#include <string>
#include <tuple>

namespace shoal::binlog {

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
  /// Start of the change's event group; for index 0, a group boundary.
  binlog_position at;
  /// One-based index of the change in its group; 0: everything before `at`.
  uint64_t index = 0;

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
