#include "actors/binlog/decoder/binlog_position.hpp"

#include <algorithm>
#include <cctype>

namespace shoal::binlog {

namespace {

// The numeric extension of `name` ("000012" of "bin.000012"), or npos.
bool numeric_extension(const std::string& name, std::string::size_type& dot) {
  dot = name.rfind('.');
  if (dot == std::string::npos || dot + 1 == name.size())
    return false;
  for (auto i = dot + 1; i < name.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(name[i])))
      return false;
  return true;
}

} // namespace

int compare_files(const std::string& a, const std::string& b) {
  std::string::size_type da = 0;
  std::string::size_type db = 0;
  if (numeric_extension(a, da) && numeric_extension(b, db)) {
    auto base = a.compare(0, da, b, 0, db);
    if (base != 0)
      return base < 0 ? -1 : 1;
    auto na = std::stoull(a.substr(da + 1));
    auto nb = std::stoull(b.substr(db + 1));
    return na < nb ? -1 : (na > nb ? 1 : 0);
  }
  auto c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::string mariadb_gtid::to_string() const {
  if (empty())
    return {};
  return std::to_string(domain_id) + "-" + std::to_string(server_id) + "-" +
         std::to_string(seq_no);
}

std::optional<mariadb_gtid> mariadb_gtid::parse(std::string_view text) {
  uint64_t parts[3] = {0, 0, 0};
  size_t part = 0;
  bool digit = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      if (parts[part] > (UINT64_MAX - 9) / 10)
        return std::nullopt;
      parts[part] = parts[part] * 10 + static_cast<uint64_t>(c - '0');
      digit = true;
    } else if (c == '-' && digit && part < 2) {
      ++part;
      digit = false;
    } else {
      return std::nullopt;
    }
  }
  if (part != 2 || !digit || parts[0] > UINT32_MAX || parts[1] > UINT32_MAX ||
      parts[2] == 0)
    return std::nullopt;
  return mariadb_gtid{static_cast<uint32_t>(parts[0]), static_cast<uint32_t>(parts[1]),
                      parts[2]};
}

std::string uuid_text(const uint8_t* bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out += '-';
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

bool mysql_gtid_set::add(const std::string& uuid, int64_t first, int64_t last) {
  if (first < 1 || last < first)
    return false;
  auto& list = sets_[uuid];
  // Merge with every interval it overlaps or touches.
  auto i = list.begin();
  while (i != list.end() && i->second < first - 1)
    ++i;
  auto j = i;
  while (j != list.end() && (last == INT64_MAX || j->first <= last + 1)) {
    first = std::min(first, j->first);
    last = std::max(last, j->second);
    ++j;
  }
  i = list.erase(i, j);
  list.insert(i, interval{first, last});
  return true;
}

bool mysql_gtid_set::contains(const std::string& uuid, int64_t gno) const {
  auto s = sets_.find(uuid);
  if (s == sets_.end())
    return false;
  for (auto& [first, last] : s->second)
    if (gno >= first && gno <= last)
      return true;
  return false;
}

std::string mysql_gtid_set::to_string() const {
  std::string out;
  for (auto& [uuid, list] : sets_) {
    if (!out.empty())
      out += ',';
    out += uuid;
    for (auto& [first, last] : list) {
      out += ':' + std::to_string(first);
      if (last != first)
        out += '-' + std::to_string(last);
    }
  }
  return out;
}

namespace {

std::string_view trimmed(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && space(s.back()))
    s.remove_suffix(1);
  return s;
}

std::optional<int64_t> number(std::string_view s) {
  s = trimmed(s);
  if (s.empty() || s.size() > 19)
    return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > (INT64_MAX - 9) / 10)
      return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

/// "3E11FA47-71CA-..." or 32 hex digits without dashes, as the lowercase text
/// with dashes; nullopt for anything else.
std::optional<std::string> canonical_uuid(std::string_view s) {
  std::string text;
  for (char c : trimmed(s))
    text += c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c;
  if (text.size() == 32)
    for (size_t at : {8, 13, 18, 23})
      text.insert(at, 1, '-');
  if (text.size() != 36)
    return std::nullopt;
  for (size_t i = 0; i < text.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = text[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return std::nullopt;
  }
  return text;
}

} // namespace

std::optional<mysql_gtid_set> mysql_gtid_set::parse(std::string_view text) {
  mysql_gtid_set out;
  if (trimmed(text).empty())
    return out;
  for (;;) {
    auto comma = text.find(',');
    auto part = text.substr(0, comma);
    auto colon = part.find(':');
    if (colon == std::string_view::npos)
      return std::nullopt;
    auto uuid = canonical_uuid(part.substr(0, colon));
    if (!uuid)
      return std::nullopt;
    auto rest = part.substr(colon + 1);
    for (;;) {
      auto next = rest.find(':');
      auto range = rest.substr(0, next);
      auto dash = range.find('-');
      auto first = number(range.substr(0, dash));
      auto last = dash == std::string_view::npos ? first : number(range.substr(dash + 1));
      if (!first || !last || !out.add(*uuid, *first, *last))
        return std::nullopt;
      if (next == std::string_view::npos)
        break;
      rest = rest.substr(next + 1);
    }
    if (comma == std::string_view::npos)
      return out;
    text = text.substr(comma + 1);
  }
}

} // namespace shoal::binlog
