// The description of a table that a TABLE_MAP event gives to the rows events after it.
//
// TABLE_MAP body (after the 8-byte post-header: table id u48, flags u16):
//
//   +--------+---------+-----+---------+----------+-----+-------------+-------+
//   | db len | db name | \0  | tbl len | tbl name | \0  | n (lenenc)  | types |
//   |  u8    |         |     |  u8     |          |     | column count| n x u8|
//   +--------+---------+-----+---------+----------+-----+-------------+-------+
//   +--------------+-------------------+-----------------+-----------------------+
//   | meta len     | per-column meta   | null bitmap     | optional metadata     |
//   | (lenenc)     | 0, 1 or 2 bytes   | (n+7)/8 bytes   | TLV: type u8,         |
//   |              | each, by type     | bit i = nullable| len lenenc, value ... |
//   +--------------+-------------------+-----------------+-----------------------+
//
// Per-column metadata: FLOAT/DOUBLE/BLOB/GEOMETRY/JSON 1 byte (size or length-prefix
// width); VARCHAR/VAR_STRING 2 bytes LE (max length in bytes); BIT 2 bytes (bits % 8,
// bytes); NEWDECIMAL 2 bytes (precision, scale); STRING/ENUM/SET 2 bytes (real type,
// length; the real type's bits 4-5 carry bits 8-9 of the length, XOR-ed);
// TIME2/DATETIME2/TIMESTAMP2 1 byte (fractional digits). Optional metadata (MySQL
// 8.0 and MariaDB 10.5+ with binlog_row_metadata=MINIMAL or FULL) gives signedness,
// charsets, column names, ENUM/SET strings and the primary key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/binlog/decoder/decode_error.hpp"

namespace shoal::binlog {

/// One column as the TABLE_MAP event describes it.
struct column_def {
  /// Column type byte from the TABLE_MAP type list.
  uint8_t type = 0;
  /// The type the value is encoded as: for STRING, the real type hidden in its
  /// metadata (STRING, ENUM or SET); else equal to `type`.
  uint8_t real_type = 0;
  /// Type-specific metadata, normalised: max length in bytes for strings, length-prefix
  /// width for blobs, fractional digits for temporal types, pack length for ENUM/SET.
  uint32_t length = 0;
  /// NEWDECIMAL precision and scale; BIT: bit width in `precision`.
  uint8_t precision = 0;
  uint8_t scale = 0;
  /// True when the column may hold NULL.
  bool nullable = false;
  /// Signedness of numeric columns, when the TABLE_MAP's optional metadata says it.
  std::optional<bool> is_unsigned;
  /// Collation id of character columns, when optional metadata says it.
  std::optional<uint32_t> charset;
  /// Column name, when optional metadata says it.
  std::optional<std::string> name;
  /// ENUM or SET member strings, when optional metadata says them.
  std::vector<std::string> enum_values;
};

/// A table as mapped by one TABLE_MAP event.
struct table_map {
  /// Identifier the rows events refer to; only valid until the next TABLE_MAP for it.
  uint64_t table_id = 0;
  uint16_t flags = 0;
  std::string schema;
  std::string table;
  std::vector<column_def> columns;
  /// Primary key column indexes (with prefix length, 0 for the whole column), when
  /// optional metadata says them.
  std::vector<std::pair<uint32_t, uint32_t>> primary_key;
  /// True when the event carried optional metadata.
  bool has_optional_metadata = false;
};

/// Collation id of the binary charset. Optional metadata gives it to BINARY(n),
/// VARBINARY and BLOB columns and to MariaDB's UUID, INET4 and INET6, which a TABLE_MAP
/// types as STRING (BINARY(16), BINARY(4)).
constexpr uint32_t binary_collation = 63;

/// True for the column types that optional metadata's SIGNEDNESS bitmap covers.
bool is_numeric_type(uint8_t type);

/// Decodes a TABLE_MAP body. `post_header_length` is 6 (old 4-byte table ids) or 8.
/// Errors name no offset; the event decoder adds it.
decode_result<table_map> decode_table_map(std::string_view body,
                                          uint8_t post_header_length);

} // namespace shoal::binlog
