#include "tests/integration/binlog/table_dump.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace shoal::test {

namespace {

using value = std::optional<std::string>;

mysql_result must(mysql_connection& conn, const std::string& sql) {
  auto r = conn.query(sql);
  if (!r)
    throw std::runtime_error("dump: " + sql.substr(0, 200) + ": " +
                             r.error().to_string());
  return std::move(*r);
}

std::string text(const value& v) {
  return v.value_or("NULL");
}

std::string hex_of(std::string_view bytes) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

bool readable(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80         ? 1
               : (c >> 5) == 6  ? 2
               : (c >> 4) == 14 ? 3
               : (c >> 3) == 30 ? 4
                                : 0;
    if (n == 0 || i + n > s.size() || (n == 1 && (c < 0x20 || c == 0x7f)))
      return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2)
        return false;
    i += n;
  }
  return true;
}

constexpr size_t shown_bytes = 40;

/// A value for a report: text and hex when short and readable, else hex.
std::string show(const value& v) {
  if (!v)
    return "NULL";
  auto hex = "x" + hex_of(std::string_view{*v}.substr(0, shown_bytes)) +
             (v->size() > shown_bytes ? "..." : "");
  if (v->size() <= 80 && readable(*v))
    return "'" + *v + "' (" + hex + ")";
  return hex + " (" + std::to_string(v->size()) + " bytes)";
}

/// Two differing values side by side; long ones around their first difference.
std::string show_pair(const value& a, const value& b, const std::string& a_name,
                      const std::string& b_name) {
  if (!a || !b || (a->size() <= 80 && b->size() <= 80))
    return a_name + " " + show(a) + " vs " + b_name + " " + show(b);
  size_t at = 0;
  while (at < a->size() && at < b->size() && (*a)[at] == (*b)[at])
    ++at;
  auto from = at > 8 ? at - 8 : 0;
  auto window = [&](const std::string& s) {
    return "..x" + hex_of(std::string_view{s}.substr(std::min(from, s.size()), 24)) +
           "..";
  };
  return a_name + " " + std::to_string(a->size()) + " bytes vs " + b_name + " " +
         std::to_string(b->size()) + " bytes, first difference at byte " +
         std::to_string(at) + ": " + a_name + " " + window(*a) + " vs " + b_name + " " +
         window(*b);
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in{s};
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

size_t hash_of(const value& v) {
  return v ? std::hash<std::string>{}(*v) : 0x9e3779b97f4a7c15ull;
}

class table_differ {
public:
  table_differ(const table_dump& expected, const table_dump& actual,
               std::string expected_name, std::string actual_name, size_t examples)
      : e_(expected), a_(actual), en_(std::move(expected_name)),
        an_(std::move(actual_name)), examples_(examples) {}

  std::string run() {
    columns();
    create_statements();
    if (same_column_names())
      rows();
    else
      out_ << "  rows: " << e_.rows.size() << " on " << en_ << ", " << a_.rows.size()
           << " on " << an_ << " (not compared: the columns differ)\n";
    return out_.str();
  }

private:
  bool same_column_names() const {
    if (e_.columns.size() != a_.columns.size())
      return false;
    for (size_t i = 0; i < e_.columns.size(); ++i)
      if (e_.columns[i].name != a_.columns[i].name)
        return false;
    return true;
  }

  void columns() {
    std::map<std::string, const column_definition*> theirs;
    for (auto& c : a_.columns)
      theirs[c.name] = &c;
    std::set<std::string> ours;
    for (auto& c : e_.columns) {
      ours.insert(c.name);
      auto i = theirs.find(c.name);
      if (i == theirs.end())
        out_ << "  column `" << c.name << "` " << c.type << ": missing on " << an_
             << "\n";
      else if (i->second->definition != c.definition)
        out_ << "  column `" << c.name << "` definition: " << en_ << " {" << c.definition
             << "} vs " << an_ << " {" << i->second->definition << "}\n";
    }
    for (auto& c : a_.columns)
      if (!ours.count(c.name))
        out_ << "  column `" << c.name << "` " << c.type << ": only on " << an_ << "\n";
    if (same_column_names())
      return;
    out_ << "  column order: " << en_ << " (";
    for (auto& c : e_.columns)
      out_ << c.name << (&c == &e_.columns.back() ? "" : ",");
    out_ << ") vs " << an_ << " (";
    for (auto& c : a_.columns)
      out_ << c.name << (&c == &a_.columns.back() ? "" : ",");
    out_ << ")\n";
  }

  void create_statements() {
    if (e_.create == a_.create)
      return;
    auto ours = lines_of(e_.create);
    auto theirs = lines_of(a_.create);
    std::multiset<std::string> in_theirs(theirs.begin(), theirs.end());
    std::multiset<std::string> in_ours(ours.begin(), ours.end());
    out_ << "  SHOW CREATE TABLE differs:\n";
    for (auto& l : ours)
      if (!in_theirs.count(l))
        out_ << "    " << en_ << ": " << l << "\n";
    for (auto& l : theirs)
      if (!in_ours.count(l))
        out_ << "    " << an_ << ": " << l << "\n";
  }

  /// The row's key (its first columns without one), compact: text, or hex.
  std::string key_of(const mysql_row& row) const {
    auto compact = [](const value& v) {
      return v && !readable(*v) ? "x" + hex_of(*v) : text(v);
    };
    std::string out;
    if (e_.key.empty()) {
      for (size_t i = 0; i < std::min<size_t>(2, row.size()); ++i)
        out += (i ? "," : "") + e_.columns[i].name + "=" + compact(row[i]);
      return "(no key) " + out;
    }
    for (auto k : e_.key)
      out += (out.empty() ? "" : ",") + e_.columns[k].name + "=" + compact(row[k]);
    return out;
  }

  std::string whole_row(const mysql_row& row) const {
    std::string out;
    for (size_t i = 0; i < row.size() && i < 8; ++i)
      out += (i ? ", " : "") + e_.columns[i].name + "=" + show(row[i]);
    return out + (row.size() > 8 ? ", ..." : "");
  }

  /// Pairs each row only on the expected side with a row only on the actual
  /// side: same key first, then rows that differ in a single column (a wrong
  /// key value), then, in tables without a key and for a few left, the most
  /// similar row.
  void pair_rows(const std::vector<const mysql_row*>& ours,
                 const std::vector<const mysql_row*>& theirs,
                 std::vector<std::pair<const mysql_row*, const mysql_row*>>& pairs,
                 std::vector<const mysql_row*>& only_ours,
                 std::vector<const mysql_row*>& only_theirs) const {
    std::vector<bool> taken(theirs.size(), false);
    std::vector<bool> paired(ours.size(), false);
    auto take = [&](size_t o, size_t t) {
      taken[t] = true;
      paired[o] = true;
      pairs.emplace_back(ours[o], theirs[t]);
    };
    if (!e_.key.empty()) {
      std::multimap<std::vector<value>, size_t> by_key;
      auto key = [&](const mysql_row& r) {
        std::vector<value> k;
        for (auto i : e_.key)
          k.push_back(r[i]);
        return k;
      };
      for (size_t t = 0; t < theirs.size(); ++t)
        by_key.emplace(key(*theirs[t]), t);
      for (size_t o = 0; o < ours.size(); ++o) {
        auto range = by_key.equal_range(key(*ours[o]));
        for (auto i = range.first; i != range.second; ++i)
          if (!taken[i->second]) {
            take(o, i->second);
            break;
          }
      }
    }
    auto width = e_.columns.size();
    auto all_but = [&](const mysql_row& r, size_t skip) {
      size_t h = skip;
      for (size_t i = 0; i < width; ++i)
        if (i != skip)
          h = h * 1000003u ^ hash_of(r[i]);
      return h;
    };
    std::unordered_multimap<size_t, size_t> one_off;
    for (size_t t = 0; t < theirs.size(); ++t)
      if (!taken[t])
        for (size_t skip = 0; skip < width; ++skip)
          one_off.emplace(all_but(*theirs[t], skip), t);
    for (size_t o = 0; o < ours.size(); ++o)
      for (size_t skip = 0; skip < width && !paired[o]; ++skip) {
        auto range = one_off.equal_range(all_but(*ours[o], skip));
        for (auto i = range.first; i != range.second; ++i)
          if (!taken[i->second] && differing(*ours[o], *theirs[i->second]) <= 1) {
            take(o, i->second);
            break;
          }
      }
    std::vector<size_t> left_ours;
    std::vector<size_t> left_theirs;
    for (size_t o = 0; o < ours.size(); ++o)
      if (!paired[o])
        left_ours.push_back(o);
    for (size_t t = 0; t < theirs.size(); ++t)
      if (!taken[t])
        left_theirs.push_back(t);
    if (e_.key.empty() && left_ours.size() * left_theirs.size() <= 40000)
      for (auto o : left_ours) {
        size_t best = 0;
        size_t best_differing = width / 2 + 1;
        for (auto t : left_theirs)
          if (!taken[t]) {
            auto d = differing(*ours[o], *theirs[t]);
            if (d < best_differing) {
              best_differing = d;
              best = t;
            }
          }
        if (best_differing <= width / 2)
          take(o, best);
      }
    for (size_t o = 0; o < ours.size(); ++o)
      if (!paired[o])
        only_ours.push_back(ours[o]);
    for (size_t t = 0; t < theirs.size(); ++t)
      if (!taken[t])
        only_theirs.push_back(theirs[t]);
  }

  static size_t differing(const mysql_row& a, const mysql_row& b) {
    size_t n = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
      n += a[i] != b[i] ? 1 : 0;
    return n;
  }

  void rows() {
    std::vector<const mysql_row*> ours;
    std::vector<const mysql_row*> theirs;
    size_t i = 0;
    size_t j = 0;
    while (i < e_.rows.size() || j < a_.rows.size()) {
      if (j == a_.rows.size() || (i < e_.rows.size() && e_.rows[i] < a_.rows[j]))
        ours.push_back(&e_.rows[i++]);
      else if (i == e_.rows.size() || a_.rows[j] < e_.rows[i])
        theirs.push_back(&a_.rows[j++]);
      else
        ++i, ++j;
    }
    if (ours.empty() && theirs.empty())
      return;
    std::vector<std::pair<const mysql_row*, const mysql_row*>> pairs;
    std::vector<const mysql_row*> only_ours;
    std::vector<const mysql_row*> only_theirs;
    pair_rows(ours, theirs, pairs, only_ours, only_theirs);
    out_ << "  rows: " << e_.rows.size() << " on " << en_ << ", " << a_.rows.size()
         << " on " << an_ << "; " << pairs.size() << " differ in some column, "
         << only_ours.size() << " only on " << en_ << ", " << only_theirs.size()
         << " only on " << an_ << "\n";
    struct column_tally {
      size_t rows = 0;
      const mysql_row* ours = nullptr;
      const mysql_row* theirs = nullptr;
    };
    std::map<size_t, column_tally> tally;
    for (auto& [o, t] : pairs)
      for (size_t c = 0; c < o->size(); ++c)
        if ((*o)[c] != (*t)[c]) {
          auto& entry = tally[c];
          if (entry.rows++ == 0) {
            entry.ours = o;
            entry.theirs = t;
          }
        }
    for (auto& [c, entry] : tally)
      out_ << "  column `" << e_.columns[c].name << "` " << e_.columns[c].type << ": "
           << entry.rows << " rows differ, e.g. " << key_of(*entry.ours) << ": "
           << show_pair((*entry.ours)[c], (*entry.theirs)[c], en_, an_) << "\n";
    if (!pairs.empty())
      out_ << "  first differing rows:\n";
    for (size_t k = 0; k < pairs.size() && k < examples_; ++k) {
      auto& [o, t] = pairs[k];
      out_ << "    " << key_of(*o) << ":";
      for (size_t c = 0; c < o->size(); ++c)
        if ((*o)[c] != (*t)[c])
          out_ << " `" << e_.columns[c].name << "` "
               << show_pair((*o)[c], (*t)[c], en_, an_) << ";";
      out_ << "\n";
    }
    for (size_t k = 0; k < only_ours.size() && k < examples_; ++k)
      out_ << "    only on " << en_ << ": " << whole_row(*only_ours[k]) << "\n";
    for (size_t k = 0; k < only_theirs.size() && k < examples_; ++k)
      out_ << "    only on " << an_ << ": " << whole_row(*only_theirs[k]) << "\n";
  }

  const table_dump& e_;
  const table_dump& a_;
  std::string en_;
  std::string an_;
  size_t examples_;
  std::ostringstream out_;
};

} // namespace

database_dump dump_database(mysql_connection& conn, const std::string& database) {
  database_dump dump;
  dump.database = database;
  must(conn, "SET SESSION time_zone = '+00:00'");
  auto lit = conn.quote(database);
  auto schema =
      must(conn, "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
                 "information_schema.SCHEMATA WHERE SCHEMA_NAME = " +
                     lit);
  if (schema.rows.empty())
    return dump;
  dump.exists = true;
  dump.defaults = text(schema.rows[0][0]) + "/" + text(schema.rows[0][1]);
  auto tables = must(conn, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE "
                           "TABLE_SCHEMA = " +
                               lit + " ORDER BY TABLE_NAME");
  static const std::regex auto_increment{" AUTO_INCREMENT=[0-9]+"};
  for (auto& row : tables.rows) {
    table_dump t;
    t.name = text(row[0]);
    auto qualified = mysql_connection::quote_identifier(database) + "." +
                     mysql_connection::quote_identifier(t.name);
    auto create = must(conn, "SHOW CREATE TABLE " + qualified);
    t.create = std::regex_replace(text(create.rows.at(0).at(1)), auto_increment, "");
    auto columns = must(
        conn,
        "SELECT COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, CONCAT_WS(' ', CONCAT('type=', "
        "COLUMN_TYPE), CONCAT('nullable=', IS_NULLABLE), CONCAT('default=', "
        "IFNULL(COLUMN_DEFAULT, '(none)')), CONCAT('charset=', "
        "IFNULL(CHARACTER_SET_NAME, '-')), CONCAT('collation=', IFNULL(COLLATION_NAME, "
        "'-')), CONCAT('key=', COLUMN_KEY), CONCAT('extra=', EXTRA)) FROM "
        "information_schema.COLUMNS WHERE TABLE_SCHEMA = " +
            lit + " AND TABLE_NAME = " + conn.quote(t.name) +
            " ORDER BY ORDINAL_POSITION");
    std::string select;
    for (auto& c : columns.rows) {
      auto name = text(c[0]);
      t.columns.push_back({name, text(c[1]), text(c[3])});
      auto quoted = mysql_connection::quote_identifier(name);
      select += (select.empty() ? "" : ", ") +
                (c[2] == value{"float"} ? "CAST(" + quoted + " AS DOUBLE)" : quoted);
    }
    auto key = must(conn, "SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE "
                          "TABLE_SCHEMA = " +
                              lit + " AND TABLE_NAME = " + conn.quote(t.name) +
                              " AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX");
    for (auto& k : key.rows)
      for (size_t i = 0; i < t.columns.size(); ++i)
        if (t.columns[i].name == text(k[0]))
          t.key.push_back(i);
    if (!select.empty())
      t.rows = must(conn, "SELECT " + select + " FROM " + qualified).rows;
    std::sort(t.rows.begin(), t.rows.end());
    dump.tables[t.name] = std::move(t);
  }
  return dump;
}

std::string describe_differences(const database_dump& expected,
                                 const database_dump& actual,
                                 const std::string& expected_name,
                                 const std::string& actual_name, size_t examples) {
  std::ostringstream out;
  auto db = expected.database;
  if (expected.exists != actual.exists) {
    out << "database " << db << ": " << (expected.exists ? "missing on " : "only on ")
        << actual_name << "\n";
    return out.str();
  }
  if (expected.defaults != actual.defaults)
    out << "database " << db << " defaults: " << expected_name << " " << expected.defaults
        << " vs " << actual_name << " " << actual.defaults << "\n";
  for (auto& [name, t] : expected.tables) {
    auto i = actual.tables.find(name);
    if (i == actual.tables.end()) {
      out << "table " << db << "." << name << ": missing on " << actual_name << " ("
          << t.rows.size() << " rows on " << expected_name << ")\n";
      continue;
    }
    auto report = table_differ{t, i->second, expected_name, actual_name, examples}.run();
    if (!report.empty())
      out << "table " << db << "." << name << ":\n" << report;
  }
  for (auto& [name, t] : actual.tables)
    if (!expected.tables.count(name))
      out << "table " << db << "." << name << ": only on " << actual_name << " ("
          << t.rows.size() << " rows)\n";
  return out.str();
}

} // namespace shoal::test
