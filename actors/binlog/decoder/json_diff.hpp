// MySQL's partial JSON updates (binlog_row_value_options=PARTIAL_JSON): in a
// PARTIAL_UPDATE_ROWS_EVENT, a JSON column of the after image may hold, instead of
// the document, the changes JSON_SET, JSON_REPLACE and JSON_REMOVE made to it:
//
//   diff vector := diff*                    (the column's length prefix bounds it)
//   diff        := operation:u8 path-length:packed path
//                  [value-length:packed value]     (no value for REMOVE)
//   operation   := 0 REPLACE | 1 INSERT | 2 REMOVE
//   path        := MySQL JSON path text without wildcards: $, .member, ."member",
//                  [n], [last], [last-n]
//   value       := one binary JSON document (json_binary.hpp)
//
// The document after the update is the before image's document with the diffs
// applied in order, as the server applies them (Json_diff_vector, json_diff.cc):
//   REPLACE  the value at the path, which must exist ($ replaces the document);
//   INSERT   into an object: the member is added, or replaced if present; into an
//            array: the value goes before the cell, or last when past the end;
//   REMOVE   the member or the cell, which must exist.
// A member added to an object takes its place in MySQL's key order (shorter keys
// first, then by bytes), so the text reads as the server's own binary document.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actors/binlog/decoder/decode_error.hpp"

namespace shoal::binlog {

/// One change of a partial JSON update.
struct json_diff {
  enum class op : uint8_t { replace = 0, insert = 1, remove = 2 };
  op operation = op::replace;
  /// The path as the server wrote it, e.g. `$.b[2]`.
  std::string path;
  /// The new value as JSON text (json_binary_to_text); empty for REMOVE.
  std::string value;
};

/// Reads a diff vector (the bytes after the column's length prefix). Fails, naming
/// the diff, on an unknown operation, a truncated diff or an invalid value.
decode_result<std::vector<json_diff>> read_json_diffs(std::string_view bytes);

/// Applies `diffs` in order to `document` (JSON text as json_binary_to_text prints
/// it) and returns the new document in the same format. Fails, naming the diff and
/// its path, when a path is malformed or holds wildcards, or names a value the
/// document does not have where the operation needs one.
decode_result<std::string> apply_json_diffs(std::string_view document,
                                            const std::vector<json_diff>& diffs);

} // namespace shoal::binlog
