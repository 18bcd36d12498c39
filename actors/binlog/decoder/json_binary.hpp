// MySQL's binary JSON format (the JSON column type of MySQL 5.7+), converted to text.
//
//   document  := type:u8 value
//   object    := count size key-entry* value-entry* keys values   (small: u16 fields,
//   array     := count size value-entry* values                    large: u32 fields)
//   key-entry := offset length:u16          offsets are relative to the container's
//   value-entry := type:u8 offset-or-inline  first byte (its `count` field)
//   scalars   := literal:u8 (null/true/false) | int16 | uint16 | int32 | uint32 |
//                int64 | uint64 | double | string (varlen length, utf8 bytes) |
//                opaque (column type:u8, varlen length, bytes)
//   varlen    := 7 bits per byte, low group first, top bit set on all but the last
//
// literal, int16 and uint16 values (and int32/uint32 in large containers) sit inline
// in the value entry instead of behind an offset.
#pragma once

#include <string>
#include <string_view>

#include "actors/binlog/decoder/decode_error.hpp"

namespace shoal::binlog {

/// Converts one binary JSON document to compact JSON text as MySQL prints it
/// (`{"a": 1, "b": [true, null]}`). An empty document is JSON null. DECIMAL and
/// temporal opaque values print as numbers and quoted strings; other opaque values as
/// "base64:typeN:...". Fails, without reading past `doc`, on a malformed document or
/// nesting deeper than 100 levels.
decode_result<std::string> json_binary_to_text(std::string_view doc);

/// A string as json_binary_to_text prints it: in double quotes, with `"`, `\` and
/// control characters escaped, other bytes as they are.
std::string json_quote(std::string_view s);

} // namespace shoal::binlog
