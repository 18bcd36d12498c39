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
template <class T> class decode_result {
public:
  decode_result(T value) : state_(std::move(value)) {}
  decode_result(decode_error error) : state_(std::move(error)) {}

  /// True when this holds a value.
  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  /// The value; only valid when `ok()`.
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; only valid when `!ok()`.
  const decode_error& error() const& { return std::get<1>(state_); }
  decode_error&& error() && { return std::get<1>(std::move(state_)); }

private:
  std::variant<T, decode_error> state_;
};

} // namespace shoal::binlog
