// table_filter: which source tables a sync pipeline copies, and under which
// name they land on the target.
//
//   shoal::binlog::table_filter filter{{"shop.*"}, {"shop.tmp_*"}, {{"shop", "mirror"}}};
//   if (filter.selected("shop", "orders"))
//     auto [db, table] = filter.target_of("shop", "orders");   // {"mirror", "orders"}
//
// Patterns are `db.table`; `*` in either part matches any run of characters
// (including none), every other character matches itself (names are compared
// case-sensitively, as MySQL does on Linux). A pattern without a dot names a
// whole database (`shop` is `shop.*`). The first dot separates the parts.
//
// A table is selected when it matches some include pattern (or the include list
// is empty) and no exclude pattern. The system schemas (mysql,
// information_schema, performance_schema, sys) and the pipeline's checkpoint
// database are never selected, whatever the patterns say.
//
// Renames map a source `db.table` or a source `db` to a target name. An exact
// `db.table` entry beats a `db` entry. A `db.table` entry's value is either
// `db.table` (both renamed) or a bare table name (the database keeps the name
// the `db` entry, if any, gives it). A `db` entry's value is a database name.
//
// The class is immutable after construction and safe to share between threads.

#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shoal::binlog {

class table_filter {
public:
  /// Selects every user table, renames nothing.
  table_filter() : table_filter({}, {}, {}) {}

  /// A filter from a pipeline's include/exclude patterns, rename map and
  /// checkpoint database (always excluded).
  table_filter(std::vector<std::string> include, std::vector<std::string> exclude,
               std::map<std::string, std::string> rename,
               std::string checkpoint_database = "shoal");

  /// Problems with the given patterns and renames (empty parts, empty targets),
  /// one readable message each; empty when all are well-formed.
  static std::vector<std::string> check(const std::vector<std::string>& include,
                                        const std::vector<std::string>& exclude,
                                        const std::map<std::string, std::string>& rename);

  /// True if the pipeline copies `db`.`table`.
  bool selected(std::string_view db, std::string_view table) const;

  /// True if some table of `db` could be selected (for skipping whole schemas
  /// before listing their tables, and for database-level DDL).
  bool database_selected(std::string_view db) const;

  /// The target {database, table} for source `db`.`table` (unchanged when no
  /// rename applies). Does not check selected().
  std::pair<std::string, std::string> target_of(std::string_view db,
                                                std::string_view table) const;

  /// The target database for source database `db` (its `db` rename, if any).
  std::string target_database_of(std::string_view db) const;

  /// True if `db` is a system schema or the checkpoint database.
  bool is_internal(std::string_view db) const;

  /// True if `text` matches the glob `pattern` (`*` = any run, else literal).
  static bool glob_match(std::string_view pattern, std::string_view text);

private:
  struct pattern {
    std::string db;
    std::string table;
  };

  static pattern split(const std::string& text);
  static bool matches(const std::vector<pattern>& patterns, std::string_view db,
                      std::string_view table);

  // Parsed include patterns; empty means every table.
  std::vector<pattern> include_;
  std::vector<pattern> exclude_;
  // Source `db.table` -> target `db.table` or bare table name.
  std::map<std::string, std::string, std::less<>> table_renames_;
  // Source db -> target db.
  std::map<std::string, std::string, std::less<>> db_renames_;
  std::string checkpoint_database_;
};

} // namespace shoal::binlog
