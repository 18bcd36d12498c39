// rule_parser: reads hot-key rules from the config's JSON and says exactly where a
// rule is wrong. The rules are an array of objects:
//
//   "rules": [
//     {"key": "sku:42", "threshold": 500, "window_ms": 1000, "duration_ms": 60000,
//      "cache": {"max_entries": 1000, "max_bytes": 1048576}},
//     {"prefix": "sku:", "threshold": 2000},
//     {"key": "*", "threshold": 10000}
//   ]
//
// Each rule has exactly one of "key" (an exact key, or "*" for every key) and "prefix"
// (non-empty), and a "threshold" >= 1; window_ms, duration_ms and cache take the
// defaults of hotkey_rule when absent. Unknown fields and duplicate patterns are
// errors. Errors name the JSON path:
//   $.hotkeys.rules[2].threshold: expected integer >= 1, got "x"
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/hotkey/core/hotkey_rule.hpp"
#include "runtime/base/expected.hpp"

namespace shoal::hotkey {

/// A rule that could not be read: where and why.
struct rule_error {
  /// JSON path of the offending value, e.g. `$.hotkeys.rules[2].threshold`.
  std::string path;
  /// What was expected and what was found.
  std::string message;

  /// "path: message".
  std::string to_string() const { return path + ": " + message; }
};

/// Either the rules or the first error found.
/// The rules in config order, or what is wrong with the input.
using rule_parse_result = expected<std::vector<hotkey_rule>, rule_error>;

/// Reads the rules array `rules` found at JSON path `path`. Pure; thread-safe.
rule_parse_result parse_rules(const nlohmann::json& rules,
                              std::string_view path = "$.hotkeys.rules");

/// Reads a rules file: a JSON object {"rules": [...]}. Errors name the file and the
/// JSON path inside it (`/etc/shoal/rules.json: $.rules[0].threshold`); a missing
/// file or invalid JSON is an error too. Thread-safe.
rule_parse_result load_rules_file(const std::string& file);

} // namespace shoal::hotkey
