#include "tests/integration/binlog/random_workload.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string_view>

#include "tests/integration/binlog/column_values.hpp"

namespace shoal::test {

namespace {

constexpr uint64_t max_u64 = ~uint64_t{0};
constexpr uint64_t two_63 = uint64_t{1} << 63;

std::string ident(const std::string& name) {
  return "`" + name + "`";
}

/// How a table's primary key values are made (unique by construction).
enum class key_style {
  none,
  /// `id INT`: +-counter.
  number,
  /// `(grp TINYINT UNSIGNED, seq BIGINT UNSIGNED)`.
  group_and_sequence,
  /// `(day DATE, n INT)`.
  day_and_number,
  /// A case-insensitive `name VARCHAR`.
  name,
  /// `id BIGINT UNSIGNED`, often above the signed maximum.
  big_unsigned,
  /// `h BINARY(16)`, often ending in zero bytes.
  binary,
};

struct table_model {
  std::string name;
  std::vector<column_spec> columns;
  key_style style = key_style::none;
  /// Primary key columns (leading columns of `columns`).
  size_t key_columns = 0;
  /// A secondary UNIQUE column (UUID NOT NULL), or empty.
  std::string unique;
  std::string options = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
  /// Literals of the key columns of every row (committed, or staged by the
  /// open transaction).
  std::vector<std::vector<std::string>> keys;
  /// The unique column's literal per row of `keys`, when known (not UUID()).
  std::vector<std::optional<std::string>> unique_of;
  /// Literals of key values to use before counter-made ones.
  std::vector<std::vector<std::string>> special_keys;
};

// -- the generator --------------------------------------------------------------

class generator {
public:
  explicit generator(const workload_options& options)
      : opts_(options), rnd_(options.seed), db_(ident(options.database)),
        values_(rnd_, options.strict) {}

  workload run();

private:
  using step = workload_step;

  std::string qualified(const table_model& t) const { return db_ + "." + ident(t.name); }

  // -- values -------------------------------------------------------------------

  bool written(const std::string& table) const {
    return opts_.tables.empty() || std::find(opts_.tables.begin(), opts_.tables.end(),
                                             table) != opts_.tables.end();
  }

  // -- keys -----------------------------------------------------------------------

  std::string unsigned_key(uint64_t c) {
    switch (rnd_.below(3)) {
    case 0:
      return std::to_string(c);
    case 1:
      return std::to_string(two_63 + c);
    default:
      return std::to_string(max_u64 - c);
    }
  }

  std::string recased(const std::string& text) {
    std::string out;
    for (char ch : text) {
      if (ch >= 'a' && ch <= 'z' && rnd_.percent(50))
        ch = static_cast<char>(ch - 'a' + 'A');
      else if (ch >= 'A' && ch <= 'Z' && rnd_.percent(50))
        ch = static_cast<char>(ch - 'A' + 'a');
      out += ch;
    }
    return out;
  }

  std::vector<std::string> new_key(table_model& t) {
    if (!t.special_keys.empty()) {
      auto key = t.special_keys.back();
      t.special_keys.pop_back();
      return key;
    }
    auto c = ++counter_;
    switch (t.style) {
    case key_style::number:
      return {t.name == "ints" && rnd_.percent(50) ? "-" + std::to_string(c)
                                                   : std::to_string(c)};
    case key_style::group_and_sequence:
      return {std::to_string(rnd_.below(256)), unsigned_key(c)};
    case key_style::day_and_number:
      return {values_.date(false), std::to_string(c)};
    case key_style::name: {
      static const std::vector<std::string> suffixes{"", "-\xc3\xbc", "-\xf0\x9f\x98\x80",
                                                     "-\xc3\x84"};
      auto name = recased("key-" + std::to_string(c)) + rnd_.pick(suffixes) +
                  std::string(rnd_.below(3), ' ');
      return {"'" + name + "'"};
    }
    case key_style::big_unsigned:
      return {unsigned_key(c)};
    case key_style::binary: {
      std::string bytes;
      for (int i = 7; i >= 0; --i)
        bytes += static_cast<char>((c >> (8 * i)) & 0xff);
      bytes += values_.random_bytes(8);
      if (rnd_.percent(50)) {
        auto zeros = static_cast<size_t>(rnd_.between(1, 8));
        bytes.replace(16 - zeros, zeros, zeros, '\0');
      }
      return {bytes_literal(bytes)};
    }
    case key_style::none:
      break;
    }
    return {};
  }

  std::string where_key(const table_model& t, const std::vector<std::string>& key) {
    std::string out;
    for (size_t i = 0; i < t.key_columns; ++i)
      out += (i ? " AND " : "") + ident(t.columns[i].name) + " = " + key[i];
    return out;
  }

  // -- statements -------------------------------------------------------------------

  std::vector<std::string> row_values(table_model& t, const std::vector<std::string>& key,
                                      const std::optional<std::string>& unique,
                                      const std::vector<size_t>& columns) {
    std::vector<std::string> out;
    for (auto i : columns) {
      auto& c = t.columns[i];
      if (i < t.key_columns)
        out.push_back(key[i]);
      else if (c.name == t.unique)
        out.push_back(unique.value_or("UUID()"));
      else
        out.push_back(values_.of(c));
    }
    return out;
  }

  std::string insert(table_model& t, size_t rows, bool partial) {
    std::vector<size_t> columns;
    for (size_t i = 0; i < t.columns.size(); ++i)
      if (!t.columns[i].server_set() &&
          (!partial || i < t.key_columns || t.columns[i].name == t.unique ||
           rnd_.percent(50)))
        columns.push_back(i);
    std::string sql = "INSERT INTO " + qualified(t) + " (";
    for (size_t i = 0; i < columns.size(); ++i)
      sql += (i ? "," : "") + ident(t.columns[columns[i]].name);
    sql += ") VALUES ";
    for (size_t r = 0; r < rows; ++r) {
      std::vector<std::string> key;
      std::optional<std::string> unique;
      if (t.style == key_style::none) {
        key = {};
      } else {
        key = new_key(t);
      }
      if (!t.unique.empty() && !rnd_.percent(10))
        unique = values_.unique_uuid(++counter_);
      auto values = row_values(t, key, unique, columns);
      sql += r ? ",(" : "(";
      for (size_t i = 0; i < values.size(); ++i)
        sql += (i ? "," : "") + values[i];
      sql += ")";
      if (t.style != key_style::none) {
        t.keys.push_back(key);
        t.unique_of.push_back(unique);
      }
    }
    return sql;
  }

  /// `SET a = v, ...` over 1..4 random non-key columns (never the unique one).
  std::string assignments(table_model& t) {
    std::vector<size_t> candidates;
    for (size_t i = t.key_columns; i < t.columns.size(); ++i)
      if (t.columns[i].name != t.unique && !t.columns[i].server_set())
        candidates.push_back(i);
    std::string out;
    auto n = std::min<size_t>(candidates.size(), rnd_.between(1, 4));
    for (size_t k = 0; k < n; ++k) {
      auto at = rnd_.below(candidates.size());
      auto i = candidates[at];
      candidates.erase(candidates.begin() + static_cast<std::ptrdiff_t>(at));
      out +=
          (k ? ", " : "") + ident(t.columns[i].name) + " = " + values_.of(t.columns[i]);
    }
    return out;
  }

  std::string keyed_op(table_model& t, std::vector<std::string>& out) {
    if (t.keys.size() < 4 || rnd_.percent(30)) {
      bool partial = rnd_.percent(15);
      return insert(t, rnd_.percent(25) ? rnd_.between(2, 12) : 1, partial);
    }
    auto at = rnd_.below(t.keys.size());
    auto key = t.keys[at];
    auto r = rnd_.below(100);
    if (r < 35)
      return "UPDATE " + qualified(t) + " SET " + assignments(t) + " WHERE " +
             where_key(t, key);
    if (r < 45) {
      std::string where;
      for (int i = 0, n = static_cast<int>(rnd_.between(2, 8)); i < n; ++i)
        where += (i ? " OR (" : "(") + where_key(t, rnd_.pick(t.keys)) + ")";
      return "UPDATE " + qualified(t) + " SET " + assignments(t) + " WHERE " + where;
    }
    if (r < 58) {
      std::vector<std::string> moved;
      if (t.style == key_style::name && rnd_.percent(40))
        moved = {recased(key[0])};
      else
        moved = new_key(t);
      std::string set;
      for (size_t i = 0; i < t.key_columns; ++i)
        set += (i ? ", " : "") + ident(t.columns[i].name) + " = " + moved[i];
      if (rnd_.percent(50))
        set += ", " + assignments(t);
      t.keys[at] = moved;
      return "UPDATE " + qualified(t) + " SET " + set + " WHERE " + where_key(t, key);
    }
    if (r < 64 && !t.unique.empty())
      return unique_shuffle(t, at, out);
    if (r < 70 &&
        (t.style == key_style::number || t.style == key_style::big_unsigned ||
         t.style == key_style::group_and_sequence || t.style == key_style::binary)) {
      std::vector<size_t> all;
      for (size_t i = 0; i < t.columns.size(); ++i)
        if (!t.columns[i].server_set())
          all.push_back(i);
      auto values = row_values(t, key, t.unique_of[at], all);
      std::string cols;
      std::string vals;
      for (size_t i = 0; i < all.size(); ++i) {
        cols += (i ? "," : "") + ident(t.columns[all[i]].name);
        vals += (i ? "," : "") + values[i];
      }
      if (t.unique.empty() && rnd_.percent(50))
        return "REPLACE INTO " + qualified(t) + " (" + cols + ") VALUES (" + vals + ")";
      std::string update;
      for (auto i : all)
        if (i >= t.key_columns && t.columns[i].name != t.unique && rnd_.percent(50))
          update += (update.empty() ? "" : ", ") + ident(t.columns[i].name) +
                    " = VALUES(" + ident(t.columns[i].name) + ")";
      if (update.empty())
        update =
            ident(t.columns[all.back()].name) + " = " + ident(t.columns[all.back()].name);
      return "INSERT INTO " + qualified(t) + " (" + cols + ") VALUES (" + vals +
             ") ON DUPLICATE KEY UPDATE " + update;
    }
    if (r < 90) {
      t.keys.erase(t.keys.begin() + static_cast<std::ptrdiff_t>(at));
      t.unique_of.erase(t.unique_of.begin() + static_cast<std::ptrdiff_t>(at));
      return "DELETE FROM " + qualified(t) + " WHERE " + where_key(t, key);
    }
    std::string where;
    for (int i = 0, n = static_cast<int>(rnd_.between(2, 5)); i < n && !t.keys.empty();
         ++i) {
      auto k = rnd_.below(t.keys.size());
      where += (i ? " OR (" : "(") + where_key(t, t.keys[k]) + ")";
      t.keys.erase(t.keys.begin() + static_cast<std::ptrdiff_t>(k));
      t.unique_of.erase(t.unique_of.begin() + static_cast<std::ptrdiff_t>(k));
    }
    return "DELETE FROM " + qualified(t) + " WHERE " + where;
  }

  /// Row `at` takes a new unique value and another row takes its old one, in
  /// that order: applied out of order, the second would collide.
  std::string unique_shuffle(table_model& t, size_t at, std::vector<std::string>& out) {
    auto fresh = values_.unique_uuid(++counter_);
    auto old = t.unique_of[at];
    out.push_back("UPDATE " + qualified(t) + " SET " + ident(t.unique) + " = " + fresh +
                  " WHERE " + where_key(t, t.keys[at]));
    t.unique_of[at] = fresh;
    auto other = rnd_.below(t.keys.size());
    if (!old || other == at)
      return "UPDATE " + qualified(t) + " SET " + assignments(t) + " WHERE " +
             where_key(t, t.keys[at]);
    t.unique_of[other] = old;
    return "UPDATE " + qualified(t) + " SET " + ident(t.unique) + " = " + *old +
           " WHERE " + where_key(t, t.keys[other]);
  }

  std::string keyless_op(table_model& t) {
    auto r = rnd_.below(100);
    auto tag = std::to_string(rnd_.below(40));
    if (r < 45) {
      std::vector<std::string> rows;
      auto n = rnd_.percent(30) ? rnd_.between(2, 10) : 1;
      std::string cols;
      for (size_t i = 0; i < t.columns.size(); ++i)
        cols += (i ? "," : "") + ident(t.columns[i].name);
      std::string sql = "INSERT INTO " + qualified(t) + " (" + cols + ") VALUES ";
      for (int64_t k = 0; k < n; ++k) {
        sql += k ? ",(" : "(";
        for (size_t i = 0; i < t.columns.size(); ++i)
          sql += (i ? "," : "") + (t.columns[i].name == "tag"
                                       ? std::to_string(rnd_.below(40))
                                       : values_.of(t.columns[i]));
        sql += ")";
      }
      return sql;
    }
    if (r < 80)
      return "UPDATE " + qualified(t) + " SET " + assignments(t) +
             " WHERE `tag` = " + tag + (rnd_.percent(50) ? " LIMIT 1" : "");
    return "DELETE FROM " + qualified(t) + " WHERE `tag` = " + tag +
           (rnd_.percent(60) ? " LIMIT 1" : "");
  }

  void operation(std::vector<std::string>& out) {
    std::vector<std::string> names;
    for (auto& [name, t] : tables_) {
      static const std::map<std::string, int> weights{
          {"ints", 3}, {"misc", 2}, {"nums", 2},  {"times", 2},
          {"strs", 2}, {"bins", 2}, {"nokey", 2}, {"blobs", 1}};
      if (name == "bulk" || !written(name))
        continue;
      auto w = weights.count(name) ? weights.at(name) : 1;
      for (int i = 0; i < w; ++i)
        names.push_back(name);
    }
    if (names.empty())
      return;
    auto& t = tables_.at(rnd_.pick(names));
    if (t.style == key_style::none)
      out.push_back(keyless_op(t));
    else
      out.push_back(keyed_op(t, out));
  }

  step transaction(size_t operations, bool may_roll_back) {
    auto before = tables_;
    step s;
    auto r = rnd_.below(100);
    s.end = may_roll_back && r < 8 ? step::ending::rollback : step::ending::commit;
    bool savepoint = may_roll_back && r >= 8 && r < 14 && operations >= 2;
    size_t savepoint_at = operations / 2;
    std::optional<std::map<std::string, table_model>> at_savepoint;
    for (size_t i = 0; i < operations; ++i) {
      if (savepoint && i == savepoint_at) {
        s.statements.push_back("SAVEPOINT sp");
        at_savepoint = tables_;
      }
      operation(s.statements);
    }
    if (at_savepoint) {
      s.statements.push_back("ROLLBACK TO SAVEPOINT sp");
      tables_ = std::move(*at_savepoint);
      operation(s.statements);
    }
    if (s.end == step::ending::rollback)
      tables_ = std::move(before);
    s.label = std::string(s.end == step::ending::rollback ? "rolled-back" : "committed") +
              (savepoint ? " (savepoint)" : "") + " transaction of " +
              std::to_string(s.statements.size()) + " statements";
    return s;
  }

  // -- large transactions -------------------------------------------------------------

  static constexpr uint64_t bulk_rows = 3000;

  uint64_t bulk_high(uint64_t batch) const { return max_u64 - (batch << 20) - 1; }
  uint64_t bulk_low(uint64_t batch) const { return max_u64 - (batch << 20) - bulk_rows; }

  step bulk_insert(uint64_t batch, uint64_t rows, bool roll_back) {
    step s;
    s.end = roll_back ? step::ending::rollback : step::ending::commit;
    s.statements.push_back(
        "INSERT INTO " + db_ + ".`bulk` (id, v, s, d, u) SELECT " +
        std::to_string(max_u64 - (batch << 20)) +
        " - seq, (seq * 2654435761) % 4294967296, CONCAT('row-', seq, REPEAT(_utf8mb4 "
        "X'C3A9', seq % 5), IF(seq % 7 = 0, '  ', '')), TIMESTAMP'2024-01-01 00:00:00' + "
        "INTERVAL seq SECOND + INTERVAL (seq * 7919) % 1000000 MICROSECOND, "
        "CONCAT(LPAD(HEX(seq), 8, '0'), '-0000-', IF(seq % 2 = 0, '4', '1'), "
        "'000-8000-', "
        "LPAD(HEX(" +
        std::to_string(batch) +
        "), 4, '0'), LPAD(HEX(seq), 6, '0'), IF(seq % 3 = 0, '00', "
        "'ab')) FROM " +
        db_ + ".seq_1_to_" + std::to_string(rows));
    s.label = std::string(roll_back ? "rolled-back " : "") + "bulk insert of " +
              std::to_string(rows) + " rows (batch " + std::to_string(batch) + ")";
    return s;
  }

  step bulk_churn(uint64_t batch) {
    auto range = " WHERE id BETWEEN " + std::to_string(bulk_low(batch)) + " AND " +
                 std::to_string(bulk_high(batch));
    step s;
    s.end = step::ending::commit;
    s.statements = {"UPDATE " + db_ +
                        ".`bulk` SET v = v ^ 2147483648, s = CONCAT(s, '!')" + range +
                        " AND id % 3 = 0",
                    "DELETE FROM " + db_ + ".`bulk`" + range + " AND id % 5 = 1",
                    "UPDATE " + db_ + ".`bulk` SET id = id - 1099511627776" + range +
                        " AND id % 7 = 2",
                    "UPDATE " + db_ +
                        ".`bulk` SET u = CONCAT(LEFT(u, 34), '00'), d = d + INTERVAL 1 " +
                        "SECOND" + range + " AND id % 4 = 0"};
    s.label =
        "bulk updates, deletes and key changes (batch " + std::to_string(batch) + ")";
    return s;
  }

  step wide_insert(const std::string& table, size_t rows) {
    step s;
    s.end = step::ending::commit;
    s.statements.push_back(insert(tables_.at(table), rows, false));
    s.label = "one INSERT of " + std::to_string(rows) + " rows into " + table;
    return s;
  }

  // -- DDL ------------------------------------------------------------------------------

  std::string create_statement(const table_model& t) const {
    std::string sql = "CREATE TABLE " + qualified(t) + " (";
    for (auto& c : t.columns)
      sql += ident(c.name) + " " + c.type + ", ";
    if (t.key_columns > 0) {
      sql += "PRIMARY KEY (";
      for (size_t i = 0; i < t.key_columns; ++i)
        sql += (i ? ", " : "") + ident(t.columns[i].name);
      sql += "), ";
    }
    if (!t.unique.empty())
      sql += "UNIQUE KEY " + ident(t.unique + "_unique") + " (" + ident(t.unique) + "), ";
    sql.resize(sql.size() - 2);
    return sql + ")" + t.options;
  }

  step ddl(std::string sql) {
    step s;
    s.label = "DDL: " + sql;
    s.statements.push_back(std::move(sql));
    return s;
  }

  step create(table_model t) {
    auto sql = create_statement(t);
    tables_[t.name] = std::move(t);
    return ddl(sql);
  }

  void define_tables();

  const workload_options& opts_;
  seeded_random rnd_;
  std::string db_;
  std::map<std::string, table_model> tables_;
  column_values values_;
  // Makes keys and unique values unique; only grows.
  uint64_t counter_ = 0;
};

void generator::define_tables() {
  auto add = [&](table_model t) { tables_[t.name] = std::move(t); };
  {
    table_model t;
    t.name = "ints";
    t.style = key_style::number;
    t.key_columns = 1;
    t.columns = {column("id", "INT NOT NULL", column_kind::integer, 32),
                 column("ti", "TINYINT", column_kind::integer, 8),
                 column("tu", "TINYINT UNSIGNED", column_kind::integer, 8),
                 column("si", "SMALLINT", column_kind::integer, 16),
                 column("su", "SMALLINT UNSIGNED", column_kind::integer, 16),
                 column("mi", "MEDIUMINT", column_kind::integer, 24),
                 column("mu", "MEDIUMINT UNSIGNED", column_kind::integer, 24),
                 column("i", "INT", column_kind::integer, 32),
                 column("iu", "INT UNSIGNED", column_kind::integer, 32),
                 column("bi", "BIGINT", column_kind::integer, 64),
                 column("bu", "BIGINT UNSIGNED", column_kind::integer, 64),
                 column("z", "INT(8) UNSIGNED ZEROFILL", column_kind::integer, 32),
                 column("flag", "BOOLEAN", column_kind::integer, 8)};
    t.special_keys = {{"2147483647"}, {"-2147483648"}, {"0"}};
    add(std::move(t));
  }
  {
    table_model t;
    t.name = "nums";
    t.style = key_style::group_and_sequence;
    t.key_columns = 2;
    t.columns = {column("grp", "TINYINT UNSIGNED NOT NULL", column_kind::integer, 8),
                 column("seq", "BIGINT UNSIGNED NOT NULL", column_kind::integer, 64),
                 column("d65", "DECIMAL(65,30)", column_kind::decimal, 65, 30),
                 column("d65i", "DECIMAL(65,0)", column_kind::decimal, 65, 0),
                 column("d10", "DECIMAL(10,2)", column_kind::decimal, 10, 2),
                 column("d5u", "DECIMAL(5,0) UNSIGNED", column_kind::decimal, 5, 0),
                 column("d44", "DECIMAL(4,4)", column_kind::decimal, 4, 4),
                 column("d189", "DECIMAL(18,9)", column_kind::decimal, 18, 9),
                 column("d1", "DECIMAL(1,0)", column_kind::decimal, 1, 0),
                 column("f", "FLOAT", column_kind::floating),
                 column("f73", "FLOAT(7,3)", column_kind::floating, 7, 3),
                 column("db", "DOUBLE", column_kind::real),
                 column("d154", "DOUBLE(15,4)", column_kind::real, 15, 4)};
    t.special_keys = {{"255", "18446744073709551615"}, {"0", "9223372036854775808"}};
    add(std::move(t));
  }
  {
    table_model t;
    t.name = "times";
    t.style = key_style::day_and_number;
    t.key_columns = 2;
    t.columns = {column("day", "DATE NOT NULL", column_kind::date),
                 column("n", "INT NOT NULL", column_kind::integer, 32)};
    for (int f = 0; f <= 6; ++f)
      t.columns.push_back(column("t" + std::to_string(f),
                                 "TIME(" + std::to_string(f) + ")", column_kind::time,
                                 f));
    for (int f = 0; f <= 6; ++f)
      t.columns.push_back(column("dt" + std::to_string(f),
                                 "DATETIME(" + std::to_string(f) + ")",
                                 column_kind::datetime, f));
    for (int f = 0; f <= 6; ++f)
      t.columns.push_back(column("ts" + std::to_string(f),
                                 "TIMESTAMP(" + std::to_string(f) + ") NULL DEFAULT NULL",
                                 column_kind::timestamp, f));
    t.columns.push_back(column("y", "YEAR", column_kind::year));
    t.columns.push_back(column("d", "DATE", column_kind::date));
    t.special_keys = {{"'0000-00-00'", "0"}};
    add(std::move(t));
  }
  {
    table_model t;
    t.name = "strs";
    t.style = key_style::name;
    t.key_columns = 1;
    t.columns = {
        column("name",
               "VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL",
               column_kind::chars, 40),
        column("c_l1", "CHAR(10) CHARACTER SET latin1", column_kind::chars, 10),
        column("v", "VARCHAR(40) CHARACTER SET utf8mb4", column_kind::chars, 40),
        column("v_l1", "VARCHAR(300) CHARACTER SET latin1", column_kind::chars, 300),
        column("c_mb", "CHAR(8) CHARACTER SET utf8mb4", column_kind::chars, 8),
        column("v_bin", "VARCHAR(30) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
               column_kind::chars, 30),
        column("c_bin", "CHAR(6) CHARACTER SET binary", column_kind::bytes, 6),
        column("v16", "VARCHAR(20) CHARACTER SET utf16", column_kind::chars, 20),
        column("ca", "CHAR(3) CHARACTER SET ascii", column_kind::chars, 3),
        column("tt", "TINYTEXT CHARACTER SET latin1", column_kind::chars, 255),
        column("tx", "TEXT CHARACTER SET utf8mb4", column_kind::chars, 16000),
        column(
            "e",
            "ENUM('small','medium','large','x-large','\xc3\xbc') CHARACTER SET utf8mb4",
            column_kind::enumeration),
        column("st", "SET('a','b','c','d','e','f','g','h','i')",
               column_kind::set_of_nine),
        column(
            "s64",
            [] {
              std::string members;
              for (int i = 0; i < 64; ++i)
                members += (i ? ",'m" : "'m") + std::to_string(i) + "'";
              return "SET(" + members + ")";
            }(),
            column_kind::set_of_64)};
    add(std::move(t));
  }
  {
    table_model t;
    t.name = "bins";
    t.columns = {column("tag", "INT", column_kind::integer, 32),
                 column("b8", "BINARY(8)", column_kind::bytes, 8),
                 column("b1", "BINARY(1)", column_kind::bytes, 1),
                 column("vb", "VARBINARY(64)", column_kind::bytes, 64),
                 column("vb300", "VARBINARY(300)", column_kind::bytes, 300),
                 column("tb", "TINYBLOB", column_kind::bytes, 255),
                 column("bl", "BLOB", column_kind::bytes, 1000)};
    for (int n : {1, 7, 8, 17, 33, 63, 64})
      t.columns.push_back(column("bit" + std::to_string(n),
                                 "BIT(" + std::to_string(n) + ")", column_kind::bit, n));
    add(std::move(t));
  }
  {
    table_model t;
    t.name = "blobs";
    t.style = key_style::big_unsigned;
    t.key_columns = 1;
    t.columns = {column("id", "BIGINT UNSIGNED NOT NULL", column_kind::integer, 64),
                 column("small", "INT", column_kind::integer, 32),
                 column("tb", "TINYBLOB", column_kind::bytes, 255),
                 column("bl", "BLOB", column_kind::bytes, 65535),
                 column("mb", "MEDIUMBLOB", column_kind::bytes, 16000000, 0, true),
                 column("lb", "LONGBLOB", column_kind::bytes, 16000000, 0, true),
                 column("tt", "TINYTEXT CHARACTER SET utf8mb4", column_kind::chars, 63),
                 column("tx", "TEXT CHARACTER SET utf8mb4", column_kind::chars, 16000),
                 column("mt", "MEDIUMTEXT CHARACTER SET utf8mb4", column_kind::chars,
                        4000000, 0, true),
                 column("lt", "LONGTEXT CHARACTER SET utf8mb4", column_kind::chars,
                        4000000, 0, true),
                 column("j", "JSON", column_kind::json)};
    t.special_keys = {{"0"}, {"9223372036854775808"}, {"18446744073709551615"}};
    add(std::move(t));
  }
  {
    table_model t;
    t.name = "misc";
    t.style = key_style::number;
    t.key_columns = 1;
    t.unique = "u";
    t.columns = {column("id", "INT NOT NULL", column_kind::integer, 32),
                 column("u", "UUID NOT NULL", column_kind::uuid),
                 column("u2", "UUID", column_kind::uuid),
                 column("e", "ENUM('small','medium','large','x-large','\xc3\xbc')",
                        column_kind::enumeration),
                 column("st", "SET('a','b','c','d','e','f','g','h','i')",
                        column_kind::set_of_nine),
                 column("j", "JSON", column_kind::json),
                 column("g", "GEOMETRY", column_kind::geometry),
                 column("p", "POINT", column_kind::point),
                 column("poly", "POLYGON", column_kind::polygon),
                 column("ip4", "INET4", column_kind::inet4),
                 column("ip6", "INET6", column_kind::inet6),
                 column("yr", "YEAR", column_kind::year)};
    add(std::move(t));
  }
  {
    table_model t;
    t.name = "nokey";
    t.columns = {
        column("tag", "INT", column_kind::integer, 32),
        column("d", "DOUBLE", column_kind::real),
        column("f", "FLOAT", column_kind::floating),
        column("dec", "DECIMAL(20,6)", column_kind::decimal, 20, 6),
        column("v", "VARCHAR(20) CHARACTER SET latin1", column_kind::chars, 20),
        column("dt", "DATETIME(3)", column_kind::datetime, 3),
        column("ts", "TIMESTAMP(6) NULL DEFAULT NULL", column_kind::timestamp, 6),
        column("ip6", "INET6", column_kind::inet6),
        column("u", "UUID", column_kind::uuid),
        column("bu", "BIGINT UNSIGNED", column_kind::integer, 64),
        column("e", "ENUM('small','medium','large','x-large','\xc3\xbc')",
               column_kind::enumeration),
        column("bits", "BIT(10)", column_kind::bit, 10)};
    add(std::move(t));
  }
  {
    table_model t;
    t.name = "hashes";
    t.style = key_style::binary;
    t.key_columns = 1;
    t.columns = {
        column("h", "BINARY(16) NOT NULL", column_kind::bytes, 16),
        column("n", "INT", column_kind::integer, 32),
        column("note", "VARCHAR(20) CHARACTER SET utf8mb4", column_kind::chars, 20),
        column("raw", "BINARY(4)", column_kind::bytes, 4)};
    add(std::move(t));
  }
  {
    // Columns the server computes: generated (virtual and stored) and a
    // timestamp that ON UPDATE sets.
    table_model t;
    t.name = "derived";
    t.style = key_style::number;
    t.key_columns = 1;
    t.columns = {column("id", "INT NOT NULL", column_kind::integer, 32),
                 column("a", "INT", column_kind::integer, 32),
                 column("b", "DOUBLE", column_kind::real),
                 column("v", "BIGINT AS (`a` * 2) VIRTUAL", column_kind::integer, 64),
                 column("s",
                        "VARCHAR(40) AS (CONCAT(`id`, ':', IFNULL(`a`, 'none'))) STORED",
                        column_kind::chars, 40),
                 column("touched",
                        "TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE "
                        "CURRENT_TIMESTAMP(6)",
                        column_kind::timestamp, 6)};
    add(std::move(t));
  }
  {
    table_model t;
    t.name = "bulk";
    t.style = key_style::big_unsigned;
    t.key_columns = 1;
    t.columns = {column("id", "BIGINT UNSIGNED NOT NULL", column_kind::integer, 64),
                 column("v", "INT UNSIGNED", column_kind::integer, 32),
                 column("s", "VARCHAR(64) CHARACTER SET utf8mb4", column_kind::chars, 64),
                 column("d", "DATETIME(6)", column_kind::datetime, 6),
                 column("u", "UUID", column_kind::uuid)};
    add(std::move(t));
  }
}

workload generator::run() {
  workload w;
  define_tables();
  {
    step setup;
    setup.label = "setup: database and tables";
    setup.statements.push_back("CREATE DATABASE " + db_ +
                               " DEFAULT CHARACTER SET latin1");
    for (auto& [name, t] : tables_)
      setup.statements.push_back(create_statement(t));
    w.steps.push_back(std::move(setup));
  }
  // The first insert into `blobs` carries values of a few hundred KB.
  if (written("blobs")) {
    values_.force_big(true);
    step s;
    s.end = step::ending::commit;
    s.statements.push_back(insert(tables_.at("blobs"), 2, false));
    s.label = "blobs of a few hundred KB";
    values_.force_big(false);
    w.steps.push_back(std::move(s));
  }
  auto n = opts_.transactions;
  auto at = [&](size_t i, double fraction) {
    return i == static_cast<size_t>(static_cast<double>(n) * fraction);
  };
  for (size_t i = 0; i < n; ++i) {
    if (at(i, 0.15)) {
      w.steps.push_back(ddl("ALTER TABLE " + db_ +
                            ".`ints` ADD COLUMN `added` BIGINT UNSIGNED NOT NULL DEFAULT "
                            "18446744073709551615"));
      tables_.at("ints").columns.push_back(
          column("added", "BIGINT UNSIGNED NOT NULL DEFAULT 18446744073709551615",
                 column_kind::integer, 64));
    }
    bool bulk = written("bulk");
    if (at(i, 0.20) && bulk)
      w.steps.push_back(bulk_insert(0, bulk_rows, false));
    if (at(i, 0.30)) {
      // No character set in the statement: the database's default (latin1)
      // applies, so the model writes only latin1 characters into it.
      w.steps.push_back(
          ddl("CREATE TABLE " + db_ +
              ".`late` (`id` INT NOT NULL, `note` VARCHAR(30), `big` BIGINT "
              "UNSIGNED, `u` UUID, `t` TEXT, PRIMARY KEY (`id`))"));
      table_model t;
      t.name = "late";
      t.style = key_style::number;
      t.key_columns = 1;
      t.columns = {
          column("id", "INT NOT NULL", column_kind::integer, 32),
          column("note", "VARCHAR(30) CHARACTER SET latin1", column_kind::chars, 30),
          column("big", "BIGINT UNSIGNED", column_kind::integer, 64),
          column("u", "UUID", column_kind::uuid),
          column("t", "TEXT CHARACTER SET latin1", column_kind::chars, 2000)};
      tables_[t.name] = std::move(t);
    }
    if (at(i, 0.32)) {
      table_model t;
      t.name = "doomed";
      t.style = key_style::number;
      t.key_columns = 1;
      t.columns = {
          column("id", "INT NOT NULL", column_kind::integer, 32),
          column("v", "VARCHAR(10) CHARACTER SET utf8mb4", column_kind::chars, 10)};
      w.steps.push_back(create(std::move(t)));
    }
    if (at(i, 0.40)) {
      w.snapshot_split = w.steps.size();
      if (bulk)
        w.steps.push_back(bulk_insert(9, 2000, true));
    }
    if (at(i, 0.45) && bulk)
      w.steps.push_back(bulk_insert(1, bulk_rows, false));
    if (at(i, 0.50)) {
      w.steps.push_back(
          ddl("ALTER TABLE " + db_ +
              ".`strs` MODIFY COLUMN `v` VARCHAR(120) CHARACTER SET utf8mb4"));
      auto& v = tables_.at("strs").columns[2];
      v.type = "VARCHAR(120) CHARACTER SET utf8mb4";
      v.size = 120;
    }
    if (at(i, 0.55)) {
      w.steps.push_back(
          ddl("ALTER TABLE " + db_ + ".`ints` MODIFY COLUMN `mu` INT UNSIGNED"));
      auto& mu = tables_.at("ints").columns[6];
      mu.type = "INT UNSIGNED";
      mu.size = 32;
    }
    if (at(i, 0.60)) {
      w.steps.push_back(
          ddl("ALTER TABLE " + db_ + ".`nokey` ADD COLUMN `mid` INET6 AFTER `tag`"));
      auto& cols = tables_.at("nokey").columns;
      cols.insert(cols.begin() + 1, column("mid", "INET6", column_kind::inet6));
    }
    if (at(i, 0.65) && bulk)
      w.steps.push_back(bulk_churn(0));
    if (at(i, 0.70)) {
      auto big = transaction(1200, false);
      big.label = "large " + big.label;
      w.steps.push_back(std::move(big));
    }
    if (at(i, 0.75) && written("misc"))
      w.steps.push_back(wide_insert("misc", 400));
    if (at(i, 0.80)) {
      w.steps.push_back(ddl("DROP TABLE " + db_ + ".`doomed`"));
      tables_.erase("doomed");
    }
    if (at(i, 0.85)) {
      table_model t;
      t.name = "kept";
      t.style = key_style::big_unsigned;
      t.key_columns = 1;
      t.columns = {
          column("id", "BIGINT UNSIGNED NOT NULL", column_kind::integer, 64),
          column("u", "UUID", column_kind::uuid),
          column("i6", "INET6", column_kind::inet6),
          column("v", "VARCHAR(10) CHARACTER SET utf8mb4", column_kind::chars, 10),
          column("b", "BIT(64)", column_kind::bit, 64)};
      w.steps.push_back(create(std::move(t)));
    }
    if (at(i, 0.88)) {
      w.steps.push_back(
          ddl("ALTER TABLE " + db_ +
              ".`bins` ADD COLUMN `first_col` SMALLINT UNSIGNED DEFAULT 65535 "
              "FIRST"));
      auto& cols = tables_.at("bins").columns;
      cols.insert(cols.begin(), column("first_col", "SMALLINT UNSIGNED DEFAULT 65535",
                                       column_kind::integer, 16));
    }
    if (at(i, 0.90) && bulk) {
      step s;
      s.end = step::ending::commit;
      s.statements.push_back(
          "UPDATE " + db_ +
          ".`bulk` SET u = CONCAT(LEFT(u, 34), '00'), v = v + 1 WHERE id "
          "BETWEEN " +
          std::to_string(bulk_low(1)) + " AND " + std::to_string(bulk_high(1)) +
          " AND v < 4294967295");
      s.label = "bulk update of batch 1: UUIDs ending in a zero byte";
      w.steps.push_back(std::move(s));
    }
    auto ops = rnd_.percent(10) ? rnd_.between(8, 20) : rnd_.between(1, 6);
    auto t = transaction(static_cast<size_t>(ops), true);
    t.label = "txn " + std::to_string(i) + ": " + t.label;
    w.steps.push_back(std::move(t));
  }
  return w;
}

} // namespace

workload generate_workload(const workload_options& options) {
  return generator{options}.run();
}

uint64_t fingerprint(const workload& w) {
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&](std::string_view bytes) {
    for (unsigned char c : bytes)
      h = (h ^ c) * 0x100000001b3ull;
  };
  for (auto& step : w.steps) {
    for (auto& sql : step.statements) {
      mix(sql);
      mix(";");
    }
    mix(std::to_string(static_cast<int>(step.end)));
  }
  return h;
}

} // namespace shoal::test
