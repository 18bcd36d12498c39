// Decoding of rows events (WRITE/UPDATE/DELETE_ROWS v1 and v2) into typed row images.
//
// Rows event body (after the post-header; see event_decoder.hpp for the event frame):
//
//   post-header: table id u48 | flags u16 | v2 only: extra len u16, extra bytes
//   +-----------------+------------------+-----------------------------------+
//   | width (lenenc)  | columns present  | UPDATE only: columns present in   |
//   | = column count  | (width+7)/8 bytes| the after image, (width+7)/8 bytes|
//   +-----------------+------------------+-----------------------------------+
//   then rows back to back until the end of the body; each row image is
//   +--------------------------------+--------------------------------------+
//   | NULL bitmap: one bit per column| values of the present, non-NULL      |
//   | present in this image, LSB 1st | columns, in column order, each in    |
//   +--------------------------------+ its type's format (see decode_column)|
//                                    +--------------------------------------+
//   UPDATE rows hold a before image then an after image; WRITE an after image,
//   DELETE a before image. With binlog_row_image=MINIMAL the bitmaps leave
//   columns out: the before image holds the key, the after image what changed.
//
// A STRING value (CHAR, BINARY) is written without its trailing pad bytes: spaces
// for text charsets, which the server pads back itself on insert, and 0x00 for the
// binary charset (BINARY(n), and MariaDB's UUID, INET4 and INET6), which nobody pads
// back: decode_rows restores those to the column's length when it knows the column
// is binary (column_hints::fixed_binary).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "actors/binlog/decoder/byte_reader.hpp"
#include "actors/binlog/decoder/column_value.hpp"
#include "actors/binlog/decoder/decode_error.hpp"
#include "actors/binlog/decoder/table_map.hpp"

namespace shoal::binlog {

/// One image (before or after) of one row.
struct row_image {
  /// present[i]: column i is in this image. Absent columns hold `null_value` in
  /// `values` and must not be written by the applier.
  std::vector<bool> present;
  /// One value per column of the table (`values.size() == present.size()`).
  std::vector<column_value> values;
};

/// Which statement produced a rows event.
enum class row_kind : uint8_t { write, update, delete_ };

/// One changed row: `after` empty for deletes, `before` empty for writes.
struct row_change {
  row_image before;
  row_image after;
};

/// A decoded WRITE/UPDATE/DELETE_ROWS event.
struct rows_event {
  row_kind kind = row_kind::write;
  uint64_t table_id = 0;
  /// Bit 0 (STMT_END_F): last rows event of the statement.
  uint16_t flags = 0;
  /// The TABLE_MAP the rows refer to.
  std::shared_ptr<const table_map> table;
  std::vector<row_change> rows;

  /// True on the statement's last rows event, after which table ids may be reused.
  bool end_of_statement() const noexcept { return (flags & 1) != 0; }
};

/// What a TABLE_MAP without optional metadata does not say about a table's columns
/// (binlog_row_metadata=NO_LOG, MariaDB's default; MySQL before 8.0.1, MariaDB before
/// 10.5), supplied by the caller from the table's schema. Entry i applies to column i;
/// a vector shorter than the table leaves the columns past its end unknown.
struct column_hints {
  /// is_unsigned[i]: integer column i is UNSIGNED. Unknown columns decode as signed.
  std::vector<bool> is_unsigned;
  /// fixed_binary[i]: column i has no charset, i.e. information_schema.COLUMNS's
  /// CHARACTER_SET_NAME is NULL. Read only for columns the TABLE_MAP types as STRING,
  /// where it means BINARY(n), CHAR(n) CHARACTER SET binary, or MariaDB's UUID, INET4
  /// and INET6: their values are padded back to the column's length with 0x00.
  /// False for CHAR of a text charset (never padded). Unknown columns are not padded.
  std::vector<bool> fixed_binary;
};

/// Looks up hints for a schema and table; returns nullopt when it knows nothing.
using schema_lookup = std::function<std::optional<column_hints>(std::string_view schema,
                                                                std::string_view table)>;

/// Decodes one column value of `col` at the reader's position. `is_unsigned` applies
/// to integer types. Fails (message only) on truncation or a value its type cannot
/// hold; never reads past the reader's end.
decode_result<column_value> decode_column(byte_reader& in, const column_def& col,
                                          bool is_unsigned);

/// Decodes the body of a rows event of `type` after the common header, given the
/// table it refers to. `post_header_length` comes from the FORMAT_DESCRIPTION event.
/// `columns` says which integer columns are unsigned and which STRING columns are
/// fixed binary, for every column (the event decoder resolves it from the TABLE_MAP's
/// metadata, else the schema lookup); missing entries read as false. Errors say which
/// column failed; a width other than the TABLE_MAP's column count is an error, so
/// every image holds one value per column of `table`.
decode_result<rows_event> decode_rows(std::string_view body, uint8_t type,
                                      uint8_t post_header_length,
                                      std::shared_ptr<const table_map> table,
                                      const column_hints& columns);

/// Reads only the table id from a rows event body (to find its TABLE_MAP first).
std::optional<uint64_t> rows_table_id(std::string_view body, uint8_t post_header_length);

} // namespace shoal::binlog
