// verifier: compares the tables a sync pipeline copies, source against target,
// and says which tables and which rows differ.
//
//   auto src = shoal::mysql_connection::connect(source_cfg);
//   auto dst = shoal::mysql_connection::connect(target_cfg);
//   shoal::binlog::verifier v{*src, *dst, filter, {.chunk_rows = 1000}};
//   auto report = v.run();                  // mysql_error if a server fails
//   if (report && !report->identical()) std::cout << report->to_text();
//
// How (as pt-table-checksum does, but source against target, not via replication):
// - Tables: every source base table the table_filter selects, under its target
//   name; a table missing on either side is reported (a target table is "extra"
//   when the filter would select a source table of that name that does not exist).
// - Columns: names, order, COLUMN_TYPE, nullability and character set are
//   compared; rows are then compared over the columns both sides have.
// - Tables with a primary key: the source's keys in key order are cut into chunks
//   of `chunk_rows` rows: (-inf, k1], (k1, k2], ..., (kn, +inf). For each chunk
//   both servers compute COUNT(*) and BIT_XOR of a 64-bit row hash. The row hash
//   covers every column as `length:bytes`, NULL as `N`, so NULL vs '' and column
//   boundaries are unambiguous. A chunk whose figures differ is narrowed down by
//   fetching (key, row hash) from both sides: keys only on the source are
//   missing on the target, keys only on the target are extra, equal keys with
//   different hashes are different.
// - Tables without a primary key: compared as multisets of row hashes; rows
//   whose count differs are listed by their values.
//
// Both connections get `time_zone = '+00:00'` so TIMESTAMPs hash alike. The
// verifier reads without locks: run it when the pipeline has caught up (a row
// changing while it runs may show as a difference). Blocking; not thread-safe.

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "actors/binlog/decoder/table_filter.hpp"
#include "runtime/adapters/mysql_connection.hpp"

namespace shoal::binlog {

struct verify_options {
  /// Rows per chunk (by primary-key order on the source); at least 1.
  int64_t chunk_rows = 1000;
  /// Most differing rows listed per table (all are counted).
  size_t max_listed_rows = 100;
};

/// One row that differs.
struct row_difference {
  enum class kind { missing_on_target, extra_on_target, different };
  kind what = kind::different;
  /// The primary key, e.g. `id=5` or `a=1, b='x'`; for tables without a
  /// primary key the row's values, e.g. `(1, 'x', NULL)`.
  std::string key;
  /// How many copies (tables without a primary key; 1 otherwise).
  uint64_t count = 1;
};

/// "missing on target", "extra on target", "different".
const char* to_string(row_difference::kind what);

/// What the verifier found for one table.
struct table_report {
  enum class state {
    identical,
    rows_differ,
    missing_on_target,
    missing_on_source,
  };
  std::string source_database;
  std::string source_table;
  std::string target_database;
  std::string target_table;
  state status = state::identical;
  /// Readable column-definition differences (a table can be identical in rows
  /// and still differ here).
  std::vector<std::string> column_differences;
  /// The primary key columns on the source (empty: compared as a multiset).
  std::vector<std::string> primary_key;
  uint64_t source_rows = 0;
  uint64_t target_rows = 0;
  uint64_t chunks = 0;
  uint64_t mismatched_chunks = 0;
  uint64_t missing_rows = 0;
  uint64_t extra_rows = 0;
  uint64_t different_rows = 0;
  /// At most verify_options::max_listed_rows entries.
  std::vector<row_difference> rows;

  /// Rows and columns equal.
  bool identical() const {
    return status == state::identical && column_differences.empty();
  }
  /// "`shop`.`orders`" or "`shop`.`orders` -> `mirror`.`orders`".
  std::string name() const;
};

/// What the verifier found.
struct verify_report {
  std::vector<table_report> tables;

  bool identical() const;
  /// A readable summary: one line per identical table, details for the others.
  std::string to_text() const;
  /// One JSON object: {"identical":bool,"tables":[...]}.
  std::string to_json() const;
};

class verifier {
public:
  /// Uses the two connections for the verifier's lifetime; they must outlive it.
  verifier(mysql_connection& source, mysql_connection& target, table_filter filter,
           verify_options options = {});

  /// Compares every selected table. Fails only if a server fails (with the
  /// server's endpoint in the error); differences are in the report.
  mysql_expected<verify_report> run();

  /// Compares one source table against its target (which must exist on both).
  mysql_expected<table_report> compare_table(const std::string& db,
                                             const std::string& table);

private:
  mysql_connection& source_;
  mysql_connection& target_;
  table_filter filter_;
  verify_options options_;
};

} // namespace shoal::binlog
