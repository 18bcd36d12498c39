#include "actors/binlog/verify/verifier.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace shoal::binlog {

namespace {

using key_values = std::vector<std::string>;

struct column_info {
  std::string name;
  std::string column_type;
  std::string data_type;
  bool nullable = false;
  std::string charset;

  bool numeric_or_temporal() const {
    static const std::set<std::string> types{
        "tinyint", "smallint", "mediumint", "int",  "bigint",   "decimal",  "float",
        "double",  "year",     "date",      "time", "datetime", "timestamp"};
    return types.count(data_type) > 0;
  }
  bool is_bit() const { return data_type == "bit"; }
};

struct table_shape {
  std::vector<column_info> columns;
  std::vector<std::string> primary_key;

  const column_info* find(const std::string& name) const {
    for (auto& c : columns)
      if (c.name == name)
        return &c;
    return nullptr;
  }
};

std::string qualified(const std::string& db, const std::string& table) {
  return mysql_connection::quote_identifier(db) + "." +
         mysql_connection::quote_identifier(table);
}

std::string hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

bool printable_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f)
      return false;
    size_t extra = 0;
    if (c >= 0x80) {
      if ((c >> 5) == 6)
        extra = 1;
      else if ((c >> 4) == 14)
        extra = 2;
      else if ((c >> 3) == 30)
        extra = 3;
      else
        return false;
    }
    for (size_t k = 1; k <= extra; ++k)
      if (i + k >= s.size() || (static_cast<unsigned char>(s[i + k]) >> 6) != 2)
        return false;
    i += extra + 1;
  }
  return true;
}

/// A readable literal for one key value.
std::string show_value(const column_info& col, const std::string& value) {
  if (col.numeric_or_temporal())
    return col.data_type == "date" || col.data_type == "time" ||
                   col.data_type == "datetime" || col.data_type == "timestamp"
               ? "'" + value + "'"
               : value;
  if (col.is_bit() || !printable_utf8(value))
    return "0x" + hex(value);
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "'";
}

/// Stops at the first failed query, keeping its error.
class sql_session {
public:
  explicit sql_session(mysql_connection& conn) : conn_(conn) {}

  std::optional<mysql_result> query(const std::string& sql) {
    auto r = conn_.query(sql);
    if (!r) {
      if (!error_)
        error_ = r.error();
      return std::nullopt;
    }
    return std::move(*r);
  }

  mysql_connection& conn() { return conn_; }
  const std::optional<mysql_error>& error() const { return error_; }

private:
  mysql_connection& conn_;
  std::optional<mysql_error> error_;
};

mysql_expected<table_shape> read_shape(mysql_connection& conn, const std::string& db,
                                       const std::string& table) {
  table_shape shape;
  auto cols = conn.query("SELECT COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE, "
                         "IFNULL(CHARACTER_SET_NAME, '') FROM information_schema.COLUMNS "
                         "WHERE TABLE_SCHEMA = " +
                         conn.quote(db) + " AND TABLE_NAME = " + conn.quote(table) +
                         " ORDER BY ORDINAL_POSITION");
  if (!cols)
    return cols.error();
  for (auto& row : cols->rows)
    shape.columns.push_back({row[0].value_or(""), row[1].value_or(""),
                             row[2].value_or(""), row[3].value_or("") == "YES",
                             row[4].value_or("")});
  auto pk = conn.query("SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE "
                       "WHERE TABLE_SCHEMA = " +
                       conn.quote(db) + " AND TABLE_NAME = " + conn.quote(table) +
                       " AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION");
  if (!pk)
    return pk.error();
  for (auto& row : pk->rows)
    shape.primary_key.push_back(row[0].value_or(""));
  return shape;
}

std::string describe(const column_info& c) {
  return c.column_type + (c.nullable ? " NULL" : " NOT NULL") +
         (c.charset.empty() ? "" : " CHARACTER SET " + c.charset);
}

std::vector<std::string> column_differences(const table_shape& src,
                                            const table_shape& dst) {
  std::vector<std::string> out;
  for (size_t i = 0; i < src.columns.size(); ++i) {
    auto& s = src.columns[i];
    auto* d = dst.find(s.name);
    auto name = "column " + mysql_connection::quote_identifier(s.name);
    if (!d) {
      out.push_back(name + " missing on target");
      continue;
    }
    if (describe(s) != describe(*d))
      out.push_back(name + ": source " + describe(s) + ", target " + describe(*d));
    if (i >= dst.columns.size() || dst.columns[i].name != s.name)
      out.push_back(name + " at a different position on target");
  }
  for (auto& d : dst.columns)
    if (!src.find(d.name))
      out.push_back("column " + mysql_connection::quote_identifier(d.name) +
                    " extra on target");
  if (src.primary_key != dst.primary_key) {
    auto list = [](const std::vector<std::string>& cols) {
      std::string s = "(";
      for (size_t i = 0; i < cols.size(); ++i)
        s += (i ? ", " : "") + cols[i];
      return s + ")";
    };
    out.push_back("primary key: source " + list(src.primary_key) + ", target " +
                  list(dst.primary_key));
  }
  return out;
}

/// The SQL pieces of one table's comparison, identical on both servers.
struct table_sql {
  std::vector<const column_info*> columns; // compared: on both sides, source order
  std::vector<const column_info*> key;     // the source's primary key
  std::string row_hash;                    // 64-bit unsigned row hash
  std::string row_text;                    // readable row values
  std::string key_list;                    // `a`, `b`
};

table_sql build_sql(const table_shape& src, const table_shape& dst) {
  table_sql sql;
  std::string pieces;
  std::string texts;
  for (auto& c : src.columns) {
    if (!dst.find(c.name))
      continue;
    sql.columns.push_back(&c);
    auto id = mysql_connection::quote_identifier(c.name);
    auto bytes = "CAST(" + id + " AS BINARY)";
    pieces += (pieces.empty() ? "" : ", ");
    pieces += "IFNULL(CONCAT(LENGTH(" + bytes + "), ':', " + bytes + "), 'N')";
    texts += (texts.empty() ? "" : ", ");
    if (c.numeric_or_temporal() && c.data_type.find("date") == std::string::npos &&
        c.data_type.find("time") == std::string::npos)
      texts += "IFNULL(" + bytes + ", 'NULL')";
    else if (c.is_bit())
      texts += "IFNULL(CONCAT('0x', HEX(" + id + ")), 'NULL')";
    else
      texts += "QUOTE(LEFT(" + bytes + ", 64))";
  }
  sql.row_hash =
      "CAST(CONV(LEFT(MD5(CONCAT_WS('#', " + pieces + ")), 16), 16, 10) AS UNSIGNED)";
  sql.row_text = "CONCAT('(', CONCAT_WS(', ', " + texts + "), ')')";
  for (auto& k : src.primary_key) {
    sql.key.push_back(src.find(k));
    sql.key_list +=
        (sql.key_list.empty() ? "" : ", ") + mysql_connection::quote_identifier(k);
  }
  return sql;
}

/// A literal for a key value that compares in the column's own collation.
std::string literal(const mysql_connection& conn, const column_info& col,
                    const std::string& value) {
  if (col.numeric_or_temporal())
    return conn.quote(value);
  if (col.charset.empty())
    return "X'" + hex(value) + "'";
  return "_" + col.charset + " X'" + hex(value) + "'";
}

/// `(k1 > v1 OR (k1 = v1 AND (k2 > v2 ...)))`; `last_op` is the operator on the
/// last column (`>` for an exclusive lower bound, `<=` for an inclusive upper).
std::string bound(const mysql_connection& conn, const table_sql& sql,
                  const key_values& values, const char* op, const char* last_op) {
  std::string out;
  size_t n = sql.key.size();
  for (size_t i = 0; i < n; ++i) {
    auto id = mysql_connection::quote_identifier(sql.key[i]->name);
    auto lit = literal(conn, *sql.key[i], values[i]);
    if (i + 1 == n) {
      out += id + " " + last_op + " " + lit;
    } else {
      out += "(" + id + " " + op + " " + lit + " OR (" + id + " = " + lit + " AND ";
    }
  }
  for (size_t i = 0; i + 1 < n; ++i)
    out += "))";
  return out;
}

std::string range(const mysql_connection& conn, const table_sql& sql,
                  const std::optional<key_values>& lo,
                  const std::optional<key_values>& hi) {
  std::string where;
  if (lo)
    where += "(" + bound(conn, sql, *lo, ">", ">") + ")";
  if (hi)
    where += std::string(where.empty() ? "" : " AND ") + "(" +
             bound(conn, sql, *hi, "<", "<=") + ")";
  return where.empty() ? "1" : where;
}

std::string encode_key(const key_values& values) {
  std::string out;
  for (auto& v : values)
    out += std::to_string(v.size()) + ":" + v;
  return out;
}

std::string show_key(const table_sql& sql, const key_values& values) {
  std::string out;
  for (size_t i = 0; i < sql.key.size(); ++i)
    out += (i ? ", " : "") + sql.key[i]->name + "=" + show_value(*sql.key[i], values[i]);
  return out;
}

void add_difference(table_report& report, const verify_options& options,
                    row_difference::kind what, std::string key, uint64_t count = 1) {
  switch (what) {
  case row_difference::kind::missing_on_target:
    report.missing_rows += count;
    break;
  case row_difference::kind::extra_on_target:
    report.extra_rows += count;
    break;
  case row_difference::kind::different:
    report.different_rows += count;
    break;
  }
  report.status = table_report::state::rows_differ;
  if (report.rows.size() < options.max_listed_rows)
    report.rows.push_back({what, std::move(key), count});
}

struct keyed_row {
  key_values key;
  std::string hash;
};

std::optional<std::vector<keyed_row>> chunk_rows(sql_session& s, const table_sql& sql,
                                                 const std::string& table,
                                                 const std::string& where) {
  auto r = s.query("SELECT " + sql.key_list + ", " + sql.row_hash + " FROM " + table +
                   " WHERE " + where + " ORDER BY " + sql.key_list);
  if (!r)
    return std::nullopt;
  std::vector<keyed_row> out;
  out.reserve(r->rows.size());
  for (auto& row : r->rows) {
    keyed_row k;
    for (size_t i = 0; i < sql.key.size(); ++i)
      k.key.push_back(row[i].value_or(""));
    k.hash = row.back().value_or("");
    out.push_back(std::move(k));
  }
  return out;
}

} // namespace

const char* to_string(row_difference::kind what) {
  switch (what) {
  case row_difference::kind::missing_on_target:
    return "missing on target";
  case row_difference::kind::extra_on_target:
    return "extra on target";
  case row_difference::kind::different:
    return "different";
  }
  return "different";
}

std::string table_report::name() const {
  auto src = source_database + "." + source_table;
  auto dst = target_database + "." + target_table;
  return src == dst ? src : src + " -> " + dst;
}

bool verify_report::identical() const {
  return std::all_of(tables.begin(), tables.end(),
                     [](const table_report& t) { return t.identical(); });
}

std::string verify_report::to_text() const {
  std::ostringstream out;
  size_t same = 0;
  for (auto& t : tables) {
    if (t.identical()) {
      ++same;
      out << "identical  " << t.name() << " (" << t.source_rows << " rows";
      if (t.chunks)
        out << ", " << t.chunks << " chunks";
      out << ")\n";
      continue;
    }
    switch (t.status) {
    case table_report::state::missing_on_target:
      out << "MISSING    " << t.name() << ": table missing on target (" << t.source_rows
          << " rows on source)\n";
      break;
    case table_report::state::missing_on_source:
      out << "EXTRA      " << t.name() << ": table exists on target only ("
          << t.target_rows << " rows)\n";
      break;
    case table_report::state::rows_differ:
      out << "DIFFERENT  " << t.name() << ": " << t.missing_rows << " missing on target, "
          << t.extra_rows << " extra on target, " << t.different_rows << " different ("
          << t.source_rows << " rows on source, " << t.target_rows << " on target";
      if (t.primary_key.empty())
        out << ", no primary key: compared as a multiset";
      else
        out << ", " << t.mismatched_chunks << " of " << t.chunks << " chunks differ";
      out << ")\n";
      break;
    case table_report::state::identical:
      out << "COLUMNS    " << t.name() << ": rows equal, column definitions differ\n";
      break;
    }
    for (auto& c : t.column_differences)
      out << "  " << c << '\n';
    for (auto& r : t.rows) {
      out << "  " << to_string(r.what) << ": " << r.key;
      if (r.count > 1)
        out << " (x" << r.count << ")";
      out << '\n';
    }
    auto listed = t.rows.size();
    auto total = t.missing_rows + t.extra_rows + t.different_rows;
    if (t.primary_key.empty())
      total = listed; // multiset entries are listed per distinct row
    if (listed < total)
      out << "  ... and " << total - listed << " more\n";
  }
  out << (identical() ? "identical: " : "DIFFERENT: ") << tables.size() << " tables, "
      << same << " identical, " << tables.size() - same << " differ\n";
  return out.str();
}

std::string verify_report::to_json() const {
  using nlohmann::json;
  auto doc = json::object();
  doc["identical"] = identical();
  auto list = json::array();
  for (auto& t : tables) {
    static const char* states[] = {"identical", "rows_differ", "missing_on_target",
                                   "missing_on_source"};
    json j{{"source", t.source_database + "." + t.source_table},
           {"target", t.target_database + "." + t.target_table},
           {"identical", t.identical()},
           {"status", states[static_cast<int>(t.status)]},
           {"primary_key", t.primary_key},
           {"source_rows", t.source_rows},
           {"target_rows", t.target_rows},
           {"chunks", t.chunks},
           {"mismatched_chunks", t.mismatched_chunks},
           {"missing_rows", t.missing_rows},
           {"extra_rows", t.extra_rows},
           {"different_rows", t.different_rows},
           {"column_differences", t.column_differences}};
    auto rows = json::array();
    for (auto& r : t.rows)
      rows.push_back({{"kind", to_string(r.what)}, {"key", r.key}, {"count", r.count}});
    j["rows"] = std::move(rows);
    list.push_back(std::move(j));
  }
  doc["tables"] = std::move(list);
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

verifier::verifier(mysql_connection& source, mysql_connection& target,
                   table_filter filter, verify_options options)
    : source_(source), target_(target), filter_(std::move(filter)), options_(options) {
  options_.chunk_rows = std::max<int64_t>(1, options_.chunk_rows);
}

mysql_expected<table_report> verifier::compare_table(const std::string& db,
                                                     const std::string& table) {
  table_report report;
  report.source_database = db;
  report.source_table = table;
  std::tie(report.target_database, report.target_table) = filter_.target_of(db, table);
  auto src_shape = read_shape(source_, db, table);
  if (!src_shape)
    return src_shape.error();
  auto dst_shape = read_shape(target_, report.target_database, report.target_table);
  if (!dst_shape)
    return dst_shape.error();
  report.column_differences = column_differences(*src_shape, *dst_shape);
  report.primary_key = src_shape->primary_key;
  auto sql = build_sql(*src_shape, *dst_shape);
  auto src_table = qualified(db, table);
  auto dst_table = qualified(report.target_database, report.target_table);
  sql_session src{source_};
  sql_session dst{target_};
  auto fail = [&]() -> mysql_error { return src.error() ? *src.error() : *dst.error(); };

  auto key_on_target =
      std::all_of(src_shape->primary_key.begin(), src_shape->primary_key.end(),
                  [&](const std::string& k) { return dst_shape->find(k); });
  if (sql.columns.empty() || !key_on_target) {
    auto s = src.query("SELECT COUNT(*) FROM " + src_table);
    auto d = dst.query("SELECT COUNT(*) FROM " + dst_table);
    if (!s || !d)
      return fail();
    report.source_rows = std::stoull(s->rows[0][0].value_or("0"));
    report.target_rows = std::stoull(d->rows[0][0].value_or("0"));
    return report;
  }

  if (sql.key.empty()) {
    auto totals = "SELECT COUNT(*), IFNULL(SUM(" + sql.row_hash + "), 0) FROM ";
    auto s = src.query(totals + src_table);
    auto d = dst.query(totals + dst_table);
    if (!s || !d)
      return fail();
    report.source_rows = std::stoull(s->rows[0][0].value_or("0"));
    report.target_rows = std::stoull(d->rows[0][0].value_or("0"));
    if (s->rows[0] == d->rows[0])
      return report;
    auto groups =
        "SELECT " + sql.row_hash + " AS h, COUNT(*), MIN(" + sql.row_text + ") FROM ";
    auto sg = src.query(groups + src_table + " GROUP BY h ORDER BY h");
    auto dg = dst.query(groups + dst_table + " GROUP BY h ORDER BY h");
    if (!sg || !dg)
      return fail();
    std::map<std::string, std::pair<int64_t, std::string>> counts;
    for (auto& row : sg->rows) {
      auto& e = counts[row[0].value_or("")];
      e.first += std::stoll(row[1].value_or("0"));
      e.second = row[2].value_or("");
    }
    for (auto& row : dg->rows) {
      auto& e = counts[row[0].value_or("")];
      e.first -= std::stoll(row[1].value_or("0"));
      if (e.second.empty())
        e.second = row[2].value_or("");
    }
    for (auto& [hash, e] : counts) {
      if (e.first > 0)
        add_difference(report, options_, row_difference::kind::missing_on_target,
                       e.second, static_cast<uint64_t>(e.first));
      else if (e.first < 0)
        add_difference(report, options_, row_difference::kind::extra_on_target, e.second,
                       static_cast<uint64_t>(-e.first));
    }
    return report;
  }

  std::optional<key_values> lo;
  auto checksum = "SELECT COUNT(*), IFNULL(BIT_XOR(" + sql.row_hash + "), 0) FROM ";
  for (;;) {
    auto next =
        src.query("SELECT " + sql.key_list + " FROM " + src_table + " WHERE " +
                  range(source_, sql, lo, std::nullopt) + " ORDER BY " + sql.key_list +
                  " LIMIT 1 OFFSET " + std::to_string(options_.chunk_rows - 1));
    if (!next)
      return fail();
    std::optional<key_values> hi;
    if (!next->rows.empty()) {
      key_values k;
      for (auto& v : next->rows[0])
        k.push_back(v.value_or(""));
      hi = std::move(k);
    }
    auto where = range(source_, sql, lo, hi);
    auto s = src.query(checksum + src_table + " WHERE " + where);
    auto d = dst.query(checksum + dst_table + " WHERE " + where);
    if (!s || !d)
      return fail();
    ++report.chunks;
    report.source_rows += std::stoull(s->rows[0][0].value_or("0"));
    report.target_rows += std::stoull(d->rows[0][0].value_or("0"));
    if (s->rows[0] != d->rows[0]) {
      ++report.mismatched_chunks;
      auto src_rows = chunk_rows(src, sql, src_table, where);
      auto dst_rows = chunk_rows(dst, sql, dst_table, where);
      if (!src_rows || !dst_rows)
        return fail();
      std::map<std::string, const keyed_row*> on_target;
      for (auto& r : *dst_rows)
        on_target.emplace(encode_key(r.key), &r);
      for (auto& r : *src_rows) {
        auto i = on_target.find(encode_key(r.key));
        if (i == on_target.end()) {
          add_difference(report, options_, row_difference::kind::missing_on_target,
                         show_key(sql, r.key));
          continue;
        }
        if (i->second->hash != r.hash)
          add_difference(report, options_, row_difference::kind::different,
                         show_key(sql, r.key));
        on_target.erase(i);
      }
      for (auto& r : *dst_rows)
        if (on_target.count(encode_key(r.key)))
          add_difference(report, options_, row_difference::kind::extra_on_target,
                         show_key(sql, r.key));
    }
    if (!hi)
      break;
    lo = std::move(hi);
  }
  return report;
}

mysql_expected<verify_report> verifier::run() {
  for (auto* conn : {&source_, &target_})
    if (auto ok = conn->exec("SET SESSION time_zone = '+00:00'"); !ok)
      return ok.error();
  const std::string list =
      "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES "
      "WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') "
      "ORDER BY TABLE_SCHEMA, TABLE_NAME";
  auto src_tables = source_.query(list);
  if (!src_tables)
    return src_tables.error();
  auto dst_tables = target_.query(list);
  if (!dst_tables)
    return dst_tables.error();
  std::set<std::pair<std::string, std::string>> on_target;
  for (auto& row : dst_tables->rows)
    on_target.emplace(row[0].value_or(""), row[1].value_or(""));

  verify_report report;
  std::set<std::pair<std::string, std::string>> mapped;
  std::set<std::string> source_dbs;
  std::set<std::pair<std::string, std::string>> on_source;
  for (auto& row : src_tables->rows) {
    auto db = row[0].value_or("");
    auto table = row[1].value_or("");
    source_dbs.insert(db);
    on_source.emplace(db, table);
    if (!filter_.selected(db, table))
      continue;
    auto target = filter_.target_of(db, table);
    mapped.insert(target);
    if (!on_target.count(target)) {
      table_report t;
      t.source_database = db;
      t.source_table = table;
      std::tie(t.target_database, t.target_table) = target;
      t.status = table_report::state::missing_on_target;
      auto n = source_.scalar("SELECT COUNT(*) FROM " + qualified(db, table));
      if (!n)
        return n.error();
      t.source_rows = std::stoull(n->value_or("0"));
      report.tables.push_back(std::move(t));
      continue;
    }
    auto t = compare_table(db, table);
    if (!t)
      return t.error();
    report.tables.push_back(std::move(*t));
  }

  for (auto& [tdb, ttable] : on_target) {
    if (mapped.count({tdb, ttable}))
      continue;
    auto candidates = source_dbs;
    candidates.insert(tdb);
    for (auto& sdb : candidates) {
      if (filter_.target_database_of(sdb) != tdb || !filter_.selected(sdb, ttable) ||
          filter_.target_of(sdb, ttable) != std::make_pair(tdb, ttable) ||
          on_source.count({sdb, ttable}))
        continue;
      table_report t;
      t.source_database = sdb;
      t.source_table = ttable;
      t.target_database = tdb;
      t.target_table = ttable;
      t.status = table_report::state::missing_on_source;
      auto n = target_.scalar("SELECT COUNT(*) FROM " + qualified(tdb, ttable));
      if (!n)
        return n.error();
      t.target_rows = std::stoull(n->value_or("0"));
      report.tables.push_back(std::move(t));
      break;
    }
  }
  return report;
}

} // namespace shoal::binlog
