// table_dump: what one database holds on one server (its defaults, tables,
// column definitions and every row), read in a form that compares byte for byte
// across servers, and a readable account of how two such dumps differ.
//
//   auto source = shoal::test::dump_database(src, "diff");
//   auto target = shoal::test::dump_database(dst, "diff");
//   auto report = shoal::test::describe_differences(source, target, "source", "target");
//   if (!report.empty())
//     ADD_FAILURE() << report;
//
// Rows come through the text protocol with the session in UTC, so values arrive
// as the server stores them: FLOAT as CAST(... AS DOUBLE) (FLOAT's own text keeps
// 6 digits), every other column as it is (DOUBLE's text round-trips; DECIMAL,
// temporal, string, binary, BIT, geometry, INET and UUID values are exact).
// Unlike HEX(column), which turns a number into an integer first (HEX(1.5) is
// '2'), nothing is lost. Rows are sorted here, byte-wise, not by a collation.
//
// Blocking; throws std::runtime_error when a query fails.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "runtime/adapters/mysql_connection.hpp"

namespace shoal::test {

struct column_definition {
  std::string name;
  /// information_schema.COLUMNS.COLUMN_TYPE, e.g. "bigint(20) unsigned".
  std::string type;
  /// Every field of information_schema.COLUMNS that a sync must keep (type,
  /// nullability, default, character set, collation, key, extra), as one text.
  std::string definition;
};

struct table_dump {
  std::string name;
  /// SHOW CREATE TABLE without its AUTO_INCREMENT=n.
  std::string create;
  std::vector<column_definition> columns;
  /// Indexes into `columns` of the primary key, in key order; empty without one.
  std::vector<size_t> key;
  /// Every row, one value per column (nullopt for NULL), sorted.
  std::vector<mysql_row> rows;
};

struct database_dump {
  std::string database;
  bool exists = false;
  /// "charset/collation" of the database.
  std::string defaults;
  std::map<std::string, table_dump> tables;
};

/// Reads `database` from `conn` (sets the session's time zone to UTC).
database_dump dump_database(mysql_connection& conn, const std::string& database);

/// How `actual` differs from `expected`, for people: the database's defaults,
/// tables only on one side, column definitions, SHOW CREATE TABLE lines, and
/// per table the columns whose values differ (how many rows, one example with
/// both values as text and hex), then the first `examples` differing rows and
/// rows found on one side only. Empty when the dumps are identical.
std::string describe_differences(const database_dump& expected,
                                 const database_dump& actual,
                                 const std::string& expected_name,
                                 const std::string& actual_name, size_t examples = 5);

} // namespace shoal::test
