// record_batch: key accesses sent by processes in other languages, in the two wire
// forms of the sidecar, parsed into (key, count) pairs for the key_recorder.
//
// HTTP (POST /hotkeys/record), a JSON object whose "counts" maps keys to counts:
//
//   {"counts": {"sku:42": 3, "sku:7": 1}}
//
// UDP, one datagram of lines, each a key and an optional count (default 1):
//
//   +--------------------------------+
//   | [#SECRET\n]                    |  first line, when the listener has a secret
//   | KEY[ COUNT]\n                  |  one line per key, "\n" or "\r\n"
//   | KEY[ COUNT]\n ...              |  the last line's "\n" may be left out
//   +--------------------------------+
//
// A key is 1..max_key_bytes bytes with no space, tab or control byte; a count is a
// decimal 1..max_count. Both forms: a bad line or entry never stops the others in
// UDP, while a bad HTTP body is refused whole (its sender gets the reason).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runtime/base/expected.hpp"

namespace shoal::hotkey {

/// Longest key accepted, in bytes.
inline constexpr size_t max_key_bytes = 1024;
/// Largest count of one key in one batch.
inline constexpr uint64_t max_count = 1000000000;
/// Most keys in one HTTP batch.
inline constexpr size_t max_batch_keys = 10000;

using key_count = std::pair<std::string, uint64_t>;

/// The (key, count) pairs of an HTTP batch, or why it is refused, naming the
/// JSON path ("$.counts[\"sku:42\"]: expected a whole number 1..1000000000").
expected<std::vector<key_count>, std::string>
parse_record_json(const nlohmann::json& body);

/// What a datagram held.
struct datagram_result {
  std::vector<key_count> counts;
  /// Lines that were not a valid KEY[ COUNT] (empty lines are not counted).
  size_t bad_lines = 0;
  /// The first bad line's problem, for the log.
  std::string first_error;
  /// The secret was required and missing or wrong: nothing was taken.
  bool refused = false;
};

/// Parses one UDP datagram. With a non-empty `secret`, the first line must be
/// "#" + secret, or the whole datagram is refused.
datagram_result parse_record_datagram(std::string_view datagram,
                                      const std::string& secret);

} // namespace shoal::hotkey
