#include "actors/hotkey/core/rule_parser.hpp"

#include <fstream>
#include <set>
#include <utility>

#include "actors/hotkey/core/cache_stats.hpp"

namespace shoal::hotkey {

namespace {

using json = nlohmann::json;

struct parse_failure {
  rule_error error;
};

[[noreturn]] void fail(std::string path, std::string message) {
  throw parse_failure{{std::move(path), std::move(message)}};
}

std::string shown(const json& value) {
  return value.dump();
}

void expect_object(const json& value, const std::string& path) {
  if (!value.is_object())
    fail(path, "expected object, got " + shown(value));
}

void expect_known_fields(const json& object, const std::string& path,
                         const std::set<std::string>& known) {
  for (auto& [name, value] : object.items()) {
    if (known.count(name) == 0) {
      std::string list;
      for (auto& k : known)
        list += (list.empty() ? "" : ", ") + k;
      fail(path + "." + name, "unknown field (known: " + list + ")");
    }
  }
}

uint64_t positive_integer(const json& value, const std::string& path) {
  if (value.is_number_unsigned() && value.get<uint64_t>() >= 1)
    return value.get<uint64_t>();
  if (value.is_number_integer() && value.get<int64_t>() >= 1)
    return static_cast<uint64_t>(value.get<int64_t>());
  fail(path, "expected integer >= 1, got " + shown(value));
}

uint64_t bounded_integer(const json& value, const std::string& path, uint64_t max) {
  auto n = positive_integer(value, path);
  if (n > max)
    fail(path,
         "expected integer from 1 to " + std::to_string(max) + ", got " + shown(value));
  return n;
}

int64_t positive_millis(const json& value, const std::string& path) {
  auto n = positive_integer(value, path);
  if (n > static_cast<uint64_t>(INT64_MAX / 2))
    fail(path, "expected integer >= 1 and <= 2^62, got " + shown(value));
  return static_cast<int64_t>(n);
}

std::string key_text(const json& value, const std::string& path, bool allow_empty) {
  if (!value.is_string())
    fail(path, "expected string, got " + shown(value));
  auto text = value.get<std::string>();
  if (text.empty() && !allow_empty)
    fail(path, "expected non-empty string, got \"\"");
  return text;
}

hotkey_rule parse_rule(const json& object, const std::string& path) {
  expect_object(object, path);
  expect_known_fields(
      object, path, {"key", "prefix", "threshold", "window_ms", "duration_ms", "cache"});
  hotkey_rule rule;
  auto key = object.find("key");
  auto prefix = object.find("prefix");
  if (key != object.end() && prefix != object.end())
    fail(path, "expected one of \"key\" or \"prefix\", got both");
  if (key != object.end()) {
    rule.pattern = key_text(*key, path + ".key", false);
    rule.kind = rule.pattern == "*" ? match_kind::any : match_kind::exact;
    if (rule.kind == match_kind::any)
      rule.pattern.clear();
  } else if (prefix != object.end()) {
    rule.pattern = key_text(*prefix, path + ".prefix", false);
    rule.kind = match_kind::prefix;
  } else {
    fail(path, "expected one of \"key\" or \"prefix\", got neither");
  }
  auto threshold = object.find("threshold");
  if (threshold == object.end())
    fail(path + ".threshold", "missing (expected integer >= 1)");
  rule.threshold = positive_integer(*threshold, path + ".threshold");
  if (auto v = object.find("window_ms"); v != object.end())
    rule.window_ms = positive_millis(*v, path + ".window_ms");
  if (auto v = object.find("duration_ms"); v != object.end())
    rule.duration_ms = positive_millis(*v, path + ".duration_ms");
  if (auto cache = object.find("cache"); cache != object.end()) {
    auto cache_path = path + ".cache";
    expect_object(*cache, cache_path);
    rule.own_cache = true;
    expect_known_fields(*cache, cache_path, {"max_entries", "max_bytes"});
    if (auto v = cache->find("max_entries"); v != cache->end())
      rule.cache_max_entries =
          bounded_integer(*v, cache_path + ".max_entries", max_cache_entries);
    if (auto v = cache->find("max_bytes"); v != cache->end())
      rule.cache_max_bytes = positive_integer(*v, cache_path + ".max_bytes");
  }
  return rule;
}

} // namespace

rule_parse_result parse_rules(const nlohmann::json& rules, std::string_view path) {
  std::vector<hotkey_rule> result;
  try {
    std::string base{path};
    if (!rules.is_array())
      fail(base, "expected array, got " + shown(rules));
    std::set<std::pair<match_kind, std::string>> seen;
    for (size_t i = 0; i < rules.size(); ++i) {
      auto rule_path = base + "[" + std::to_string(i) + "]";
      auto rule = parse_rule(rules[i], rule_path);
      if (!seen.emplace(rule.kind, rule.pattern).second) {
        auto field = rule.kind == match_kind::prefix ? ".prefix" : ".key";
        auto shown_pattern =
            rule.kind == match_kind::any ? std::string{"*"} : rule.pattern;
        fail(rule_path + field, "duplicate rule for " + json(shown_pattern).dump());
      }
      result.push_back(std::move(rule));
    }
  } catch (parse_failure& failure) {
    return shoal::fail(std::move(failure.error));
  }
  return result;
}

rule_parse_result load_rules_file(const std::string& file) {
  std::ifstream in{file};
  if (!in)
    return shoal::fail(rule_error{file, "cannot read the rules file"});
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    auto pos = what.find("] ");
    return shoal::fail(rule_error{
        file + ": $",
        "invalid JSON, " + (pos == std::string::npos ? what : what.substr(pos + 2))});
  }
  if (!doc.is_object() || !doc.contains("rules"))
    return shoal::fail(
        rule_error{file + ": $", "expected an object with a \"rules\" list"});
  for (auto& [key, _] : doc.items())
    if (key != "rules")
      return shoal::fail(rule_error{file + ": $." + key, "unknown field"});
  auto result = parse_rules(doc.at("rules"), "$.rules");
  if (!result)
    result.error().path = file + ": " + result.error().path;
  return result;
}

} // namespace shoal::hotkey
