// MariaDB's compressed event payloads (log_bin_compress=ON).
//
//   +-------------------------------+--------------------------+-------------+
//   | 0x80 | algorithm << 4 | w (u8) | uncompressed length,     | zlib stream |
//   | w = width of the length, 1..4 | w bytes, big-endian      |             |
//   +-------------------------------+--------------------------+-------------+
//
// QUERY_COMPRESSED compresses the statement; the *_ROWS_COMPRESSED events compress
// the row data after the columns-present bitmaps.
#pragma once

#include <string>
#include <string_view>

#include "actors/binlog/decode_error.hpp"

namespace shoal::binlog {

/// Inflates one compressed payload. Fails on an unknown algorithm, a corrupt zlib
/// stream, or an inflated size that differs from the announced one.
decode_result<std::string> uncompress_payload(std::string_view payload);

} // namespace shoal::binlog
