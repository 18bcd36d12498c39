// Errors of the binlog decoder, as values.
//
// Every function of the decoder returns a `decode_result<T>`: either the decoded
// value or a `decode_error` that says where (file, offset of the event), in which
// event type and, for row data, which column the input stopped making sense. The
// caller stops its pipeline with `error.to_string()`, which reads
// "FILE:POSITION: EVENT_TYPE: column N: what".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "runtime/base/expected.hpp"

namespace shoal::binlog {

/// Why and where decoding failed.
struct decode_error {
  /// What is wrong, in words ("truncated event", "checksum mismatch ...").
  std::string what;
  /// The file or stream the event came from; empty when the caller did not say.
  std::string source;
  /// Offset of the event's first header byte in its file or stream.
  uint64_t offset = 0;
  /// Event type byte, when the header could be read.
  std::optional<uint8_t> event_type;
  /// Zero-based column index, when the error is inside a row.
  std::optional<uint32_t> column;

  /// "source:offset: EVENT_NAME: column N: what".
  std::string to_string() const;
};

/// Either a `T` or a `decode_error`; an `expected<T, decode_error>` for C++17.
template <class T> using decode_result = expected<T, decode_error>;

} // namespace shoal::binlog
