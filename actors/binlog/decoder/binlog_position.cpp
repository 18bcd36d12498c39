#include "actors/binlog/decoder/binlog_position.hpp"

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

} // namespace shoal::binlog
