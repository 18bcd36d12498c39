#include "actors/hotkey/core/record_batch.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

namespace shoal::hotkey {

namespace {

/// Why `key` is not a valid key; empty when it is.
std::string key_problem(std::string_view key) {
  if (key.empty())
    return "empty key";
  if (key.size() > max_key_bytes)
    return "key longer than " + std::to_string(max_key_bytes) + " bytes";
  for (char c : key)
    if (static_cast<unsigned char>(c) <= ' ' || c == '\x7f')
      return "key holds a space or control byte";
  return {};
}

std::string shorten(std::string_view text) {
  constexpr size_t shown = 60;
  return text.size() <= shown ? std::string{text}
                              : std::string{text.substr(0, shown)} + "...";
}

} // namespace

expected<std::vector<key_count>, std::string>
parse_record_json(const nlohmann::json& body) {
  if (!body.is_object() || !body.contains("counts"))
    return fail(std::string{"$: expected {\"counts\": {\"KEY\": COUNT, ...}}"});
  for (auto& [name, _] : body.items())
    if (name != "counts")
      return fail("$." + name + ": unknown field (expected only \"counts\")");
  auto& counts = body.at("counts");
  if (!counts.is_object())
    return fail(std::string{"$.counts: expected an object mapping keys to counts"});
  if (counts.size() > max_batch_keys)
    return fail("$.counts: more than " + std::to_string(max_batch_keys) +
                " keys in one batch");
  std::vector<key_count> out;
  out.reserve(counts.size());
  for (auto& [key, n] : counts.items()) {
    auto path = "$.counts[" + nlohmann::json(key).dump() + "]";
    if (auto why = key_problem(key); !why.empty())
      return fail(path + ": " + why);
    if (!n.is_number_integer() || n.get<int64_t>() < 1 ||
        n.get<int64_t>() > static_cast<int64_t>(max_count))
      return fail(path + ": expected a whole number 1.." + std::to_string(max_count) +
                  ", got " + n.dump());
    out.emplace_back(key, n.get<uint64_t>());
  }
  return out;
}

datagram_result parse_record_datagram(std::string_view datagram,
                                      const std::string& secret) {
  datagram_result out;
  bool first = true;
  while (!datagram.empty()) {
    auto end = datagram.find('\n');
    auto line = datagram.substr(0, end);
    datagram.remove_prefix(end == std::string_view::npos ? datagram.size() : end + 1);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (first && !secret.empty()) {
      first = false;
      // Every byte is compared, so timing does not tell where a guess went wrong.
      unsigned char diff = line.size() == secret.size() + 1 ? 0 : 1;
      auto expected = "#" + secret;
      for (size_t i = 0; i < line.size(); ++i)
        diff |= static_cast<unsigned char>(line[i] ^ expected[i % expected.size()]);
      if (diff != 0) {
        out.refused = true;
        out.counts.clear();
        return out;
      }
      continue;
    }
    first = false;
    if (line.empty())
      continue;
    auto bad = [&](const std::string& why) {
      if (out.bad_lines++ == 0)
        out.first_error = why + ": \"" + shorten(line) + "\"";
    };
    auto space = line.find(' ');
    auto key = line.substr(0, space);
    uint64_t n = 1;
    if (space != std::string_view::npos) {
      auto text = line.substr(space + 1);
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() ||
          n < 1 || n > max_count) {
        bad("count is not a whole number 1.." + std::to_string(max_count));
        continue;
      }
    }
    if (auto why = key_problem(key); !why.empty()) {
      bad(why);
      continue;
    }
    out.counts.emplace_back(std::string{key}, n);
  }
  if (first && !secret.empty())
    out.refused = true;
  return out;
}

} // namespace shoal::hotkey
