#include "runtime/json_reader.hpp"

#include <cmath>

namespace shoal {

using nlohmann::json;

json_reader::json_reader(const json& value, std::string path,
                         std::vector<std::string>& errors)
    : value_(value), path_(std::move(path)), errors_(&errors) {}

bool json_reader::expect_object() {
  if (value_.is_object())
    return true;
  error("expected an object, got " + describe(value_));
  return false;
}

std::string json_reader::child_path(const std::string& key) const {
  return path_ + "." + key;
}

void json_reader::error(const std::string& message, const std::string& key) {
  auto where = key.empty() ? path_ : child_path(key);
  errors_->push_back("config error at " + where + ": " + message);
}

const json* json_reader::member(const std::string& key) {
  known_.insert(key);
  if (!value_.is_object())
    return nullptr;
  auto i = value_.find(key);
  return i == value_.end() ? nullptr : &*i;
}

bool json_reader::has(const std::string& key) {
  return member(key) != nullptr;
}

std::string json_reader::describe(const json& value) {
  switch (value.type()) {
  case json::value_t::null:
    return "null";
  case json::value_t::object:
    return "an object";
  case json::value_t::array:
    return "an array";
  case json::value_t::boolean:
    return value.get<bool>() ? "true" : "false";
  default: {
    auto text = value.dump();
    if (text.size() > 60)
      text = text.substr(0, 57) + "...";
    return text;
  }
  }
}

std::string json_reader::string(const std::string& key,
                                std::optional<std::string> fallback) {
  auto x = member(key);
  if (!x) {
    if (!fallback)
      error("required string is missing", key);
    return fallback.value_or("");
  }
  if (!x->is_string()) {
    error("expected a string, got " + describe(*x), key);
    return fallback.value_or("");
  }
  return x->get<std::string>();
}

std::string json_reader::choice(const std::string& key,
                                const std::vector<std::string>& choices,
                                std::optional<std::string> fallback) {
  auto x = member(key);
  std::string list;
  for (auto& c : choices)
    list += (list.empty() ? "" : ", ") + c;
  if (!x) {
    if (!fallback)
      error("required, one of " + list, key);
    return fallback.value_or("");
  }
  if (x->is_string()) {
    auto s = x->get<std::string>();
    for (auto& c : choices)
      if (c == s)
        return s;
  }
  error("expected one of " + list + ", got " + describe(*x), key);
  return fallback.value_or("");
}

int64_t json_reader::integer(const std::string& key, int64_t min, int64_t max,
                             std::optional<int64_t> fallback) {
  auto x = member(key);
  auto range = std::to_string(min) + ".." + std::to_string(max);
  if (!x) {
    if (!fallback)
      error("required integer " + range + " is missing", key);
    return fallback.value_or(min);
  }
  if (x->is_number_integer()) {
    bool in_range;
    int64_t v = 0;
    if (x->is_number_unsigned()) {
      auto u = x->get<uint64_t>();
      in_range = u <= static_cast<uint64_t>(max) && static_cast<int64_t>(u) >= min;
      v = static_cast<int64_t>(u);
    } else {
      v = x->get<int64_t>();
      in_range = v >= min && v <= max;
    }
    if (in_range)
      return v;
  }
  error("expected integer " + range + ", got " + describe(*x), key);
  return fallback.value_or(min);
}

double json_reader::number(const std::string& key, double min, double max,
                           std::optional<double> fallback) {
  auto x = member(key);
  auto range = json(min).dump() + ".." + json(max).dump();
  if (!x) {
    if (!fallback)
      error("required number " + range + " is missing", key);
    return fallback.value_or(min);
  }
  if (x->is_number()) {
    auto v = x->get<double>();
    if (std::isfinite(v) && v >= min && v <= max)
      return v;
  }
  error("expected number " + range + ", got " + describe(*x), key);
  return fallback.value_or(min);
}

uint16_t json_reader::port(const std::string& key, std::optional<uint16_t> fallback,
                           bool allow_zero) {
  std::optional<int64_t> f;
  if (fallback)
    f = *fallback;
  return static_cast<uint16_t>(integer(key, allow_zero ? 0 : 1, 65535, f));
}

bool json_reader::boolean(const std::string& key, std::optional<bool> fallback) {
  auto x = member(key);
  if (!x) {
    if (!fallback)
      error("required boolean is missing", key);
    return fallback.value_or(false);
  }
  if (!x->is_boolean()) {
    error("expected true or false, got " + describe(*x), key);
    return fallback.value_or(false);
  }
  return x->get<bool>();
}

std::vector<std::string>
json_reader::strings(const std::string& key,
                     std::optional<std::vector<std::string>> fallback) {
  auto x = member(key);
  if (!x) {
    if (!fallback)
      error("required list of strings is missing", key);
    return fallback.value_or(std::vector<std::string>{});
  }
  if (!x->is_array()) {
    error("expected a list of strings, got " + describe(*x), key);
    return fallback.value_or(std::vector<std::string>{});
  }
  std::vector<std::string> result;
  for (size_t i = 0; i < x->size(); ++i) {
    auto& e = (*x)[i];
    if (e.is_string())
      result.push_back(e.get<std::string>());
    else
      error("expected a string, got " + describe(e), key + "[" + std::to_string(i) + "]");
  }
  return result;
}

std::optional<json_reader> json_reader::object(const std::string& key, bool required) {
  auto x = member(key);
  if (!x) {
    if (required)
      error("required object is missing", key);
    return std::nullopt;
  }
  json_reader child{*x, child_path(key), *errors_};
  if (!child.expect_object())
    return std::nullopt;
  return child;
}

std::vector<json_reader> json_reader::array(const std::string& key, bool required) {
  std::vector<json_reader> result;
  auto x = member(key);
  if (!x) {
    if (required)
      error("required list is missing", key);
    return result;
  }
  if (!x->is_array()) {
    error("expected a list, got " + describe(*x), key);
    return result;
  }
  for (size_t i = 0; i < x->size(); ++i)
    result.emplace_back((*x)[i], child_path(key) + "[" + std::to_string(i) + "]",
                        *errors_);
  return result;
}

void json_reader::finish() {
  if (!value_.is_object())
    return;
  for (auto& [key, _] : value_.items())
    if (known_.count(key) == 0)
      error("unknown key (check its spelling)", key);
}

} // namespace shoal
