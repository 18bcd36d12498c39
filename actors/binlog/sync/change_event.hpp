// change_event: one row change, or one DDL statement, as the JSON document a change
// stream carries (issue #12's event format), shaped as Debezium's envelope so that
// its consumers adapt with little code:
//
//   {"op": "u",                                   c insert, u update, d delete, r snapshot read
//    "key": {"id": 7},                            the row's key columns (after image; before for d)
//    "before": {"id": 7, "price": "1.50"},        null for c and r
//    "after":  {"id": 7, "price": "2.00"},        null for d
//    "source": {"connector": "shoal", "name": "shop", "server_id": 1,
//               "db": "shop", "table": "sku", "file": "binlog.000003", "pos": 4711,
//               "row": 0, "gtid": "0-1-100", "ts_ms": 1765130000000, "snapshot": false},
//    "transaction": {"id": "0-1-100", "total_order": 3, "data_collection_order": 1}}
//
//   {"op": "ddl", "ddl": "ALTER TABLE sku ADD note TEXT", "source": {... "db": "shop"}}
//
// "key", "before" and "after" list their columns in the table's order.
// Values, faithfully:
//   integers        JSON integers; UNSIGNED BIGINT up to 18446744073709551615
//   FLOAT, DOUBLE   JSON numbers, FLOAT with the digits a float holds (1.1, not 1.100000023841858)
//   DECIMAL         the exact text as a string: "-1234.5600"
//   DATE            "2026-12-07"; TIME "-838:59:59.000000"; DATETIME "2026-12-07T10:11:12.5"
//   TIMESTAMP       UTC with a Z: "2026-12-07T10:11:12.500Z"
//                   fractions with the column's digits (DATETIME(1) above); zero and
//                   invalid dates stay as stored ("0000-00-00", "2026-02-31")
//   YEAR, BIT       JSON integers (a zero YEAR is 0)
//   ENUM, SET       the member names ("red", "a,c"); ENUM's empty error value is ""
//   text columns    strings, converted to UTF-8 from utf8mb3/utf8mb4/ascii (checked) and
//                   latin1 (MySQL's latin1 is cp1252)
//   binary          base64 (BINARY, VARBINARY, BLOB, BIT-less bytes, UUID/INET as stored)
//   JSON            embedded as JSON (MySQL's binary JSON and MariaDB's JSON text alike)
// Where Debezium differs: temporal values and DECIMAL are strings here in every
// case (Debezium's default modes give epoch numbers and base64 of the unscaled
// value); a column the image lacks (binlog_row_image=MINIMAL or NOBLOB) is left
// out of "before"/"after" rather than written as null; "key" is in the document,
// not only in the message key; "transaction.id" is the GTID.
//
// Not yet: MariaDB's UUID, INET4 and INET6 columns arrive as their stored bytes
// (UUID's segments reordered), so whoever builds the formats must refuse them
// until their text forms are written here.
//
// A value that cannot be written faithfully (text in another character set,
// bytes that are not valid in theirs, an ENUM index past its members) is an error
// that names the column: a change stream that changes values silently is worse
// than one that stops. Pure logic; no I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/binlog/decoder/binlog_position.hpp"
#include "actors/binlog/decoder/row_decoder.hpp"
#include "actors/binlog/decoder/table_map.hpp"
#include "messages/binlog_row.hpp"
#include "runtime/base/expected.hpp"

namespace shoal::binlog {

/// The formats of `tm`'s columns from the TABLE_MAP's own metadata
/// (binlog_row_metadata=FULL): names, character sets (`charset_of` turns a
/// collation id into its CHARACTER_SET_NAME, as information_schema.COLLATIONS
/// says), ENUM and SET members, fraction digits. Read in binlog order, they are
/// the table as it was when the row was written, which the source's current
/// schema is not while a backlog with DDL in it is read. What the metadata does
/// not say: MariaDB's JSON is LONGTEXT to the binlog (written as a string here)
/// and its UUID/INET4/INET6 are BINARY (base64 of the stored bytes). An error
/// names the table and what is missing (metadata MINIMAL or NO_LOG names no
/// columns).
expected<std::vector<column_format>, std::string>
formats_of(const table_map& tm, const std::function<std::string(uint32_t)>& charset_of);

/// The value of one column as JSON; the error names neither column nor row
/// (change_event adds them).
expected<nlohmann::json, std::string> change_value(const column_value& value,
                                                   const column_format& format);

enum class change_op : uint8_t { insert, update, delete_, read };

/// Where a change came from and which transaction it belongs to.
struct change_source {
  /// The pipeline (Debezium's logical server name).
  std::string pipeline;
  uint32_t server_id = 0;
  std::string db;
  std::string table;
  /// The rows event's binlog position, and the row's index in it.
  binlog_position at;
  uint32_t row = 0;
  /// The transaction's GTID, when the source has GTIDs.
  std::string gtid;
  /// The source event's timestamp, in milliseconds since the epoch.
  uint64_t ts_ms = 0;
  /// Read by a snapshot, not from the binlog.
  bool snapshot = false;
  /// The transaction's id (its GTID, or file:position of its start), the
  /// change's index in it from 1, and its index among the transaction's changes
  /// of this table from 1 (0: not counted, and left out of the document).
  std::string transaction_id;
  uint64_t total_order = 0;
  uint64_t data_collection_order = 0;
};

/// The event of one row change. `key` holds the key columns' indexes (empty: a
/// table without a key, whose "key" is null); `before` and `after` are read as
/// `op` needs them. An error names the column and the table.
expected<std::string, std::string>
change_event(change_op op, const std::vector<column_format>& columns,
             const std::vector<uint32_t>& key, const row_image& before,
             const row_image& after, const change_source& source);

/// The event of a DDL statement run in `source.db`.
std::string ddl_event(const std::string& statement, const change_source& source);

} // namespace shoal::binlog
