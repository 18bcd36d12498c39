#include "actors/binlog/decoder/table_filter.hpp"

#include <algorithm>
#include <cctype>

namespace shoal::binlog {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

constexpr std::string_view system_schemas[] = {"mysql", "information_schema",
                                               "performance_schema", "sys"};

} // namespace

table_filter::table_filter(std::vector<std::string> include,
                           std::vector<std::string> exclude,
                           std::map<std::string, std::string> rename,
                           std::string checkpoint_database)
    : checkpoint_database_(std::move(checkpoint_database)) {
  for (const auto& p : include)
    include_.push_back(split(p));
  for (const auto& p : exclude)
    exclude_.push_back(split(p));
  for (auto& [from, to] : rename) {
    if (from.find('.') != std::string::npos)
      table_renames_.emplace(from, to);
    else
      db_renames_.emplace(from, to);
  }
}

std::vector<std::string>
table_filter::check(const std::vector<std::string>& include,
                    const std::vector<std::string>& exclude,
                    const std::map<std::string, std::string>& rename) {
  std::vector<std::string> problems;
  auto check_patterns = [&](const std::vector<std::string>& list, const char* what) {
    for (const auto& text : list) {
      auto p = split(text);
      if (p.db.empty() || p.table.empty())
        problems.push_back(std::string(what) + " pattern '" + text +
                           "' needs the form db.table (`*` allowed in either part)");
    }
  };
  check_patterns(include, "include");
  check_patterns(exclude, "exclude");
  for (const auto& [from, to] : rename) {
    auto dot = from.find('.');
    if (from.empty() || dot == 0 || (dot != std::string::npos && dot + 1 == from.size()))
      problems.push_back("rename key '" + from + "' needs the form db.table or db");
    else if (from.find('*') != std::string::npos)
      problems.push_back("rename key '" + from + "' cannot contain '*'");
    auto to_dot = to.find('.');
    if (to.empty() || to_dot == 0 ||
        (to_dot != std::string::npos && to_dot + 1 == to.size()))
      problems.push_back("rename of '" + from + "' needs a non-empty target name");
    else if (dot == std::string::npos && to_dot != std::string::npos)
      problems.push_back("rename of database '" + from + "' must name a database, not '" +
                         to + "'");
  }
  return problems;
}

table_filter::pattern table_filter::split(const std::string& text) {
  auto dot = text.find('.');
  if (dot == std::string::npos)
    return {text, "*"};
  return {text.substr(0, dot), text.substr(dot + 1)};
}

bool table_filter::glob_match(std::string_view pattern, std::string_view text) {
  size_t p = 0;
  size_t t = 0;
  size_t star = std::string_view::npos;
  size_t resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

bool table_filter::matches(const std::vector<pattern>& patterns, std::string_view db,
                           std::string_view table) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const pattern& p) {
    return glob_match(p.db, db) && glob_match(p.table, table);
  });
}

bool table_filter::is_internal(std::string_view db) const {
  if (iequals(db, checkpoint_database_))
    return true;
  return std::any_of(std::begin(system_schemas), std::end(system_schemas),
                     [&](std::string_view s) { return iequals(s, db); });
}

bool table_filter::selected(std::string_view db, std::string_view table) const {
  if (is_internal(db))
    return false;
  if (!include_.empty() && !matches(include_, db, table))
    return false;
  return !matches(exclude_, db, table);
}

bool table_filter::database_selected(std::string_view db) const {
  if (is_internal(db))
    return false;
  auto db_excluded = std::any_of(exclude_.begin(), exclude_.end(), [&](const pattern& p) {
    return p.table.find_first_not_of('*') == std::string::npos && glob_match(p.db, db);
  });
  if (db_excluded)
    return false;
  if (include_.empty())
    return true;
  return std::any_of(include_.begin(), include_.end(),
                     [&](const pattern& p) { return glob_match(p.db, db); });
}

std::string table_filter::target_database_of(std::string_view db) const {
  if (auto i = db_renames_.find(db); i != db_renames_.end())
    return i->second;
  return std::string(db);
}

std::pair<std::string, std::string>
table_filter::target_of(std::string_view db, std::string_view table) const {
  std::string key;
  key.reserve(db.size() + 1 + table.size());
  key.append(db).append(".").append(table);
  if (auto i = table_renames_.find(key); i != table_renames_.end()) {
    const auto& to = i->second;
    auto dot = to.find('.');
    if (dot != std::string::npos)
      return {to.substr(0, dot), to.substr(dot + 1)};
    return {target_database_of(db), to};
  }
  return {target_database_of(db), std::string(table)};
}

} // namespace shoal::binlog
