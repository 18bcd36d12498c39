// The packed binary forms MySQL and MariaDB share between row images and MySQL's
// binary JSON: DECIMAL's base-10^9 groups and the 64-bit packed temporal integers.
//
//   DECIMAL(p,s): integer digits (p-s) then s fraction digits, each side cut into
//   groups of 9 digits stored as 4-byte big-endian integers; the leftover digits
//   take 1-4 bytes (leading side first, trailing side last). A negative number
//   stores every byte inverted; the first byte's top bit is flipped in both cases.
//
//   packed DATETIME (int64): (((year*13+month) << 5 | day) << 17 | hour << 12 |
//   minute << 6 | second) << 24 | microseconds, negated for negative values.
//   packed TIME (int64): (hour << 12 | minute << 6 | second) << 24 | microseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "actors/binlog/decoder/column_value.hpp"

namespace shoal::binlog {

/// Bytes DECIMAL(precision, scale) takes in its binary form.
size_t decimal_binary_size(uint8_t precision, uint8_t scale);

/// Converts DECIMAL(precision, scale)'s binary form (exactly
/// `decimal_binary_size` bytes) to an exact decimal string such as "-12.50";
/// nullopt when a digit group is out of range.
std::optional<std::string> decimal_to_string(std::string_view bytes, uint8_t precision,
                                             uint8_t scale);

/// Splits a packed DATETIME integer into its fields.
datetime_value unpack_datetime(int64_t packed);

/// Splits a packed TIME integer into its fields.
time_value unpack_time(int64_t packed);

/// "YYYY-MM-DD HH:MM:SS" plus ".ffffff" with `digits` (0..6) fraction digits.
std::string format_datetime(const datetime_value& v, int digits);

/// "[-]HH:MM:SS" plus ".ffffff" with `digits` (0..6) fraction digits.
std::string format_time(const time_value& v, int digits);

} // namespace shoal::binlog
