#include "actors/binlog/sync/key_choice.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace shoal::binlog {

std::vector<uint32_t> choose_key(const std::vector<index_part>& parts,
                                 const std::vector<std::string>& columns) {
  std::map<std::string, std::vector<std::string>> by_index;
  std::set<std::string> unusable;
  std::vector<std::string> order;
  for (auto& p : parts) {
    if (!p.unique || p.nullable || p.prefix)
      unusable.insert(p.index);
    if (!by_index.count(p.index))
      order.push_back(p.index);
    by_index[p.index].push_back(p.column);
  }
  for (auto& index : order) {
    if (unusable.count(index))
      continue;
    std::vector<uint32_t> key;
    for (auto& c : by_index[index]) {
      auto pos = std::find(columns.begin(), columns.end(), c);
      if (pos == columns.end())
        break;
      key.push_back(static_cast<uint32_t>(pos - columns.begin()));
    }
    if (key.size() == by_index[index].size())
      return key;
  }
  return {};
}

void classify_collisions(
    table_schema& s, size_t unique_keys,
    const std::vector<std::pair<std::string, std::string>>& collations) {
  if (unique_keys > 1) {
    s.single_partition = true;
    s.single_partition_reason = "it has more than one unique key";
  }
  auto ends = [](const std::string& text, const std::string& tail) {
    return text.size() >= tail.size() &&
           text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
  };
  s.key_pads.assign(s.key.size(), false);
  for (auto& [column, collation] : collations) {
    auto k = std::find_if(s.key.begin(), s.key.end(), [&](uint32_t i) {
      return i < s.columns.size() && s.columns[i] == column;
    });
    if (k == s.key.end())
      continue;
    auto nopad = collation.empty() || collation == "binary" ||
                 ends(collation, "_nopad_bin") || ends(collation, "_0900_bin");
    auto pads = !nopad && ends(collation, "_bin");
    if (pads)
      s.key_pads[static_cast<size_t>(k - s.key.begin())] = true;
    if (!nopad && !pads && !s.single_partition) {
      s.single_partition = true;
      s.single_partition_reason = "key column " + column + " has collation " + collation +
                                  " (values that differ in case, accents or trailing "
                                  "spaces are one row); a _bin collation lets it spread";
    }
  }
}

} // namespace shoal::binlog
