// Typed values of one column in a row image, as decoded from a rows event.
//
// A `column_value` is a variant with one alternative per value family. Strings,
// blobs, BINARY and GEOMETRY keep their raw bytes (`bytes_value`): the character
// set is a property of the column (see `column_def::charset`), not of the value.
// Temporal values keep their fields as stored (zero dates stay zero), so the
// applier can write them back without a round trip through a time zone.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

namespace shoal::binlog {

/// SQL NULL.
struct null_value {};

/// DECIMAL as an exact decimal string: "-1234.5600", scale digits always present.
struct decimal_value {
  std::string text;
};

/// DATE; all fields zero for '0000-00-00'.
struct date_value {
  uint16_t year = 0;
  uint8_t month = 0;
  uint8_t day = 0;
};

/// TIME; |value| = hours:minutes:seconds.micros, sign in `negative`.
struct time_value {
  bool negative = false;
  uint32_t hours = 0; // up to 838
  uint8_t minutes = 0;
  uint8_t seconds = 0;
  uint32_t micros = 0; // 0..999999
};

/// DATETIME; all fields zero for '0000-00-00 00:00:00'.
struct datetime_value {
  uint16_t year = 0;
  uint8_t month = 0;
  uint8_t day = 0;
  uint8_t hours = 0;
  uint8_t minutes = 0;
  uint8_t seconds = 0;
  uint32_t micros = 0;
};

/// TIMESTAMP as seconds since the Unix epoch in UTC; 0 for the zero timestamp.
struct timestamp_value {
  uint32_t seconds = 0;
  uint32_t micros = 0;
};

/// YEAR; 0 for the zero year, else 1901..2155.
struct year_value {
  uint16_t year = 0;
};

/// CHAR, VARCHAR, BINARY, VARBINARY, BLOB, TEXT, GEOMETRY and MariaDB JSON: raw bytes.
struct bytes_value {
  std::string bytes;
};

/// ENUM: one-based index into the column's values, 0 for the empty error value.
struct enum_value {
  uint16_t index = 0;
};

/// SET: bit i set when the column's value i is a member.
struct set_value {
  uint64_t bits = 0;
};

/// BIT(width): the value in the low `width` bits.
struct bit_value {
  uint64_t bits = 0;
  uint8_t width = 0;
};

/// MySQL JSON, converted from its binary form to JSON text.
struct json_value {
  std::string text;
};

/// One column's value. Integers are `int64_t` when signed, `uint64_t` when unsigned.
using column_value =
    std::variant<null_value, int64_t, uint64_t, float, double, decimal_value, date_value,
                 time_value, datetime_value, timestamp_value, year_value, bytes_value,
                 enum_value, set_value, bit_value, json_value>;

/// Renders a value as an SQL-like literal: NULL, numbers as digits, strings in single
/// quotes with bytes below 0x20 as \xNN and nothing else escaped (so not valid SQL),
/// temporal values as quoted 'YYYY-MM-DD HH:MM:SS.ffffff' literals (fraction only when
/// non-zero), TIMESTAMP as epoch seconds, BIT as b'...', ENUM and SET as their index and
/// bit mask. Strings and integers print as `mariadb-binlog -v` prints them. For logs,
/// tests and messages.
std::string to_string(const column_value& value);

} // namespace shoal::binlog
