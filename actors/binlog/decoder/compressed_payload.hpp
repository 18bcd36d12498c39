// MariaDB's compressed event payloads (log_bin_compress=ON).
//
//   +-------------------------------+--------------------------+-------------+
//   | 0x80 | algorithm << 4 | w (u8) | uncompressed length,     | zlib stream |
//   | w = width of the length, 1..4 | w bytes, big-endian      |             |
//   +-------------------------------+--------------------------+-------------+
//
// QUERY_COMPRESSED compresses the statement; the *_ROWS_COMPRESSED events compress
// the row data after the columns-present bitmaps. A 4-byte length can announce up to
// 4 GiB, more than any event holds, so the announced length is capped before the
// output buffer is allocated.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "actors/binlog/decoder/decode_error.hpp"

namespace shoal::binlog {

/// The largest uncompressed payload accepted: 1 GiB, the highest max_allowed_packet
/// of MySQL and MariaDB; no event, and so no part of one, is larger.
constexpr uint64_t max_uncompressed_length = uint64_t{1} << 30;

/// Inflates one compressed payload. Fails, before allocating, on an announced length
/// over `max_length`; fails on an unknown algorithm, a corrupt zlib stream, or an
/// inflated size that differs from the announced one.
decode_result<std::string>
uncompress_payload(std::string_view payload,
                   uint64_t max_length = max_uncompressed_length);

} // namespace shoal::binlog
