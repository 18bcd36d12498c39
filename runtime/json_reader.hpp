// json_reader: reads a JSON document into validated structs and reports every
// problem with its JSON path, e.g.
//
//   config error at $.sync.pipelines[0].source.port: expected integer 1..65535, got "abc"
//
// A reader wraps one JSON value and the path that leads to it. Getters record an
// error (and return the default) instead of throwing, so one pass over a file
// reports all of its mistakes. finish() reports keys of an object that no getter
// asked for: a typo in a key is an error, never silently ignored.
//
//   std::vector<std::string> errors;
//   json_reader root{doc, "$", errors};
//   auto port = root.integer("port", 1, 65535, 7000);
//   root.finish();

#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace shoal {

class json_reader {
public:
  /// Wraps `value` found at `path`; errors are appended to `errors`, which must
  /// outlive the reader.
  json_reader(const nlohmann::json& value, std::string path,
              std::vector<std::string>& errors);

  /// The path of the wrapped value, e.g. `$.node.port`.
  const std::string& path() const { return path_; }

  const nlohmann::json& value() const { return value_; }

  /// True if the wrapped value is an object; records an error otherwise.
  bool expect_object();

  /// True if the object has `key` (and marks it as known).
  bool has(const std::string& key);

  /// A string member; `fallback` if absent (an error if absent and required).
  std::string string(const std::string& key, std::optional<std::string> fallback);

  /// A string member that must be one of `choices`.
  std::string choice(const std::string& key, const std::vector<std::string>& choices,
                     std::optional<std::string> fallback);

  /// An integer member within [min, max].
  int64_t integer(const std::string& key, int64_t min, int64_t max,
                  std::optional<int64_t> fallback);

  /// A number member (integer or floating point) within [min, max].
  double number(const std::string& key, double min, double max,
                std::optional<double> fallback);

  /// A TCP port (1..65535); with `allow_zero`, 0 (pick a free port) too.
  uint16_t port(const std::string& key, std::optional<uint16_t> fallback,
                bool allow_zero = false);

  bool boolean(const std::string& key, std::optional<bool> fallback);

  /// A list of strings.
  std::vector<std::string> strings(const std::string& key,
                                   std::optional<std::vector<std::string>> fallback);

  /// A child object, or nullopt if absent (an error if `required`).
  std::optional<json_reader> object(const std::string& key, bool required = false);

  /// The elements of an array member, each with its own path (`$.x[3]`).
  std::vector<json_reader> array(const std::string& key, bool required = false);

  /// Records an error at this value's path, or at `path().key` if given.
  void error(const std::string& message, const std::string& key = {});

  /// Records an error for each member nobody asked for.
  void finish();

  /// `"abc"`, `12`, `an object`... for messages.
  static std::string describe(const nlohmann::json& value);

private:
  const nlohmann::json* member(const std::string& key);
  std::string child_path(const std::string& key) const;

  const nlohmann::json& value_;
  std::string path_;
  std::vector<std::string>* errors_;
  /// Keys of value_ that a getter asked for; finish() reports the others.
  std::set<std::string> known_;
};

} // namespace shoal
