#include "actors/binlog/sync/snapshot.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include "actors/binlog/sync/sql_builder.hpp"

namespace shoal::binlog {

namespace {

// What follows the name in SHOW CREATE DATABASE's statement: its options,
// e.g. " /*!40100 DEFAULT CHARACTER SET latin1 COLLATE latin1_swedish_ci */".
std::string database_options(const std::string& create) {
  auto open = create.find('`');
  if (open == std::string::npos)
    return {};
  for (auto i = open + 1; i < create.size(); ++i) {
    if (create[i] != '`')
      continue;
    if (i + 1 < create.size() && create[i + 1] == '`') {
      ++i;
      continue;
    }
    return create.substr(i + 1);
  }
  return {};
}

struct failure {
  std::string what;
  /// A server went away (see is_connection_lost): a new copy may succeed.
  bool connection_lost = false;
};

template <class T> T must(mysql_expected<T> r, const std::string& what) {
  if (!r)
    throw failure{what + ": " + r.error().to_string(), is_connection_lost(r.error())};
  return std::move(*r);
}

// SHOW CREATE TABLE's statement for the target name.
std::string create_statement(std::string ddl, const std::string& source_table,
                             const std::string& target_table) {
  auto head = "CREATE TABLE " + sql_identifier(source_table);
  if (ddl.compare(0, head.size(), head) == 0)
    ddl = "CREATE TABLE " + sql_identifier(target_table) + ddl.substr(head.size());
  return ddl;
}

// Which row of which table `row` is, for messages: its primary key, or its
// first columns (abbreviated) when the table has none.
std::string row_name(mysql_connection& source, const std::vector<std::string>& names,
                     const std::vector<size_t>& key_at, const mysql_row& row,
                     const std::string& qualified_src, const std::string& qualified_dst) {
  std::string columns;
  auto add = [&](size_t i) {
    auto value = row.at(i) ? source.quote(*row[i]) : "NULL";
    if (value.size() > 40)
      value = value.substr(0, 32) + "...";
    columns += (columns.empty() ? "" : ", ") + sql_identifier(names.at(i)) + "=" + value;
  };
  if (!key_at.empty()) {
    for (auto i : key_at)
      add(i);
  } else {
    for (size_t i = 0; i < row.size() && i < 4; ++i)
      add(i);
    columns = "without a key (" + columns + ")";
  }
  auto name = "row " + columns + " of " + qualified_src;
  if (qualified_dst != qualified_src)
    name += " (" + qualified_dst + " on the target)";
  return name;
}

} // namespace

snapshot_result
copy_snapshot(mysql_connection& source, mysql_connection& target,
              const table_filter& filter, size_t chunk_rows,
              const std::function<bool(uint64_t copied, uint64_t expected)>& progress) {
  snapshot_result result;
  try {
    auto packet =
        must(target.scalar("SELECT @@max_allowed_packet"), "target max_allowed_packet");
    auto budget = statement_budget(std::stoull(packet.value_or("0")));
    must(source.exec("SET SESSION time_zone='+00:00'"), "source session");
    must(source.exec("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"),
         "source session");
    must(source.exec("START TRANSACTION WITH CONSISTENT SNAPSHOT"), "source snapshot");
    auto vars = must(source.query("SHOW SESSION STATUS LIKE 'binlog_snapshot_%'"),
                     "binlog_snapshot_file/position");
    for (auto& row : vars.rows) {
      if (row[0] == std::optional<std::string>{"Binlog_snapshot_file"})
        result.position.file = row[1].value_or("");
      else if (row[0] == std::optional<std::string>{"Binlog_snapshot_position"})
        result.position.pos = std::stoull(row[1].value_or("4"));
    }
    if (result.position.empty()) {
      auto version = source.scalar("SELECT @@version");
      auto text = version ? version->value_or("") : std::string{};
      if (version && text.find("MariaDB") == std::string::npos)
        throw failure{
            "a snapshot start needs the binlog position of a consistent snapshot, "
            "which MySQL " +
            text +
            " does not report (Binlog_snapshot_file is MariaDB's and Percona "
            "Server's). Copy the tables yourself and start from the position the "
            "copy names: mysqldump --single-transaction --source-data=2 "
            "(--master-data=2 before 8.0.26) writes the binlog file and position in "
            "a comment; load the dump into the target, then set \"start\": "
            "{\"file\": ..., \"position\": ...}"};
      throw failure{
          "the source reports no binlog_snapshot_file (is it MariaDB with log_bin?)"};
    }
    auto tables =
        must(source.query("SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_ROWS FROM "
                          "information_schema.TABLES WHERE TABLE_TYPE='BASE TABLE' "
                          "ORDER BY TABLE_SCHEMA, TABLE_NAME"),
             "listing tables");
    // InnoDB's row estimates: enough for a progress figure.
    uint64_t expected = 0;
    for (auto& row : tables.rows)
      if (!filter.is_internal(row[0].value_or("")) &&
          filter.selected(row[0].value_or(""), row[1].value_or("")))
        expected += std::stoull(row[2].value_or("0"));
    if (progress && !progress(0, expected))
      throw failure{"stopped"};
    for (auto& row : tables.rows) {
      auto db = row[0].value_or("");
      auto table = row[1].value_or("");
      if (filter.is_internal(db) || !filter.selected(db, table))
        continue;
      auto [tdb, ttable] = filter.target_of(db, table);
      auto qualified_src = sql_identifier(db) + "." + sql_identifier(table);
      auto qualified_dst = sql_identifier(tdb) + "." + sql_identifier(ttable);
      auto create =
          must(source.query("SHOW CREATE TABLE " + qualified_src), "SHOW CREATE TABLE");
      auto ddl = create_statement(create.rows.at(0).at(1).value_or(""), table, ttable);
      // With the source database's options (default character set, collation):
      // tables created later without their own take them.
      auto created = must(source.query("SHOW CREATE DATABASE " + sql_identifier(db)),
                          "SHOW CREATE DATABASE");
      auto db_options = database_options(created.rows.at(0).at(1).value_or(""));
      must(target.exec("CREATE DATABASE IF NOT EXISTS " + sql_identifier(tdb) +
                       db_options),
           "target");
      if (!db_options.empty())
        must(target.exec("ALTER DATABASE " + sql_identifier(tdb) + db_options), "target");
      must(target.exec("USE " + sql_identifier(tdb)), "target");
      must(target.exec("DROP TABLE IF EXISTS " + qualified_dst), "target");
      must(target.exec(ddl), "creating " + qualified_dst);
      // FLOAT leaves the text protocol with 6 significant digits (16777216 as
      // 16777200): read it as DOUBLE, exact, which the target rounds back.
      // Generated columns are computed by the target; writing them is an error.
      auto columns =
          must(source.query("SELECT COLUMN_NAME, DATA_TYPE FROM "
                            "information_schema.COLUMNS WHERE TABLE_SCHEMA=" +
                            source.quote(db) + " AND TABLE_NAME=" + source.quote(table) +
                            " AND IS_GENERATED='NEVER' ORDER BY ORDINAL_POSITION"),
               "reading the columns of " + qualified_src);
      std::string select;
      std::vector<std::string> names;
      // ENUM's empty error value, which a non-strict source holds, reads as ''
      // and only a non-strict session stores it: such tables are copied without
      // strictness (the values are the source's own text, not decoded).
      bool has_enum = false;
      for (auto& c : columns.rows) {
        auto name = c.at(0).value_or("");
        names.push_back(name);
        has_enum = has_enum || c.at(1) == std::optional<std::string>{"enum"};
        select += select.empty() ? "" : ",";
        select += c.at(1) == std::optional<std::string>{"float"}
                      ? "CAST(" + sql_identifier(name) + " AS DOUBLE)"
                      : sql_identifier(name);
      }
      auto keys = must(
          source.query("SHOW KEYS FROM " + qualified_src + " WHERE Key_name='PRIMARY'"),
          "SHOW KEYS");
      // Pages follow the primary key (each page starts after the last key read, so
      // a large table costs one index range scan per page, not a rescan from the
      // start); a table without one is read in its scan order with OFFSET.
      // A page holds at most chunk_rows rows and about one statement's bytes
      // (judged by the page before; the first is small), so that a table of
      // big rows does not take chunk_rows of them into memory at once.
      std::vector<size_t> key_at;
      std::string order;
      for (auto& k : keys.rows) {
        auto name = k.at(4).value_or("");
        key_at.push_back(static_cast<size_t>(std::find(names.begin(), names.end(), name) -
                                             names.begin()));
        order += (order.empty() ? " ORDER BY " : ",") + sql_identifier(name);
      }
      std::optional<mysql_row> last;
      auto page_rows = std::min<size_t>(chunk_rows, 16);
      for (uint64_t offset = 0;;) {
        std::string where;
        if (last && !key_at.empty()) {
          // (k1, k2) > (v1, v2) spelled out, so that the range uses the index.
          for (size_t i = 0; i < key_at.size(); ++i) {
            std::string term;
            for (size_t j = 0; j <= i; ++j) {
              auto& v = last->at(key_at[j]);
              term += (j ? " AND " : "") + sql_identifier(names[key_at[j]]) +
                      (j < i ? " = " : " > ") + (v ? source.quote(*v) : "NULL");
            }
            where += (i ? " OR (" : " WHERE (") + term + ")";
          }
        }
        auto paging = key_at.empty() ? " LIMIT " + std::to_string(page_rows) +
                                           " OFFSET " + std::to_string(offset)
                                     : " LIMIT " + std::to_string(page_rows);
        auto chunk = must(source.query("SELECT " + select + " FROM " + qualified_src +
                                       where + order + paging),
                          "reading " + qualified_src);
        if (chunk.rows.empty())
          break;
        // As many rows per INSERT as fit the target's packet.
        std::string column_list;
        for (auto& n : names)
          column_list += (column_list.empty() ? "" : ",") + sql_identifier(n);
        auto head = "INSERT INTO " + qualified_dst + " (" + column_list + ") VALUES ";
        std::string sql;
        size_t page_bytes = 0;
        for (auto& r : chunk.rows) {
          std::string tuple = "(";
          for (size_t c = 0; c < r.size(); ++c) {
            if (c)
              tuple += ',';
            tuple += r[c] ? target.quote(*r[c]) : "NULL";
          }
          tuple += ')';
          page_bytes += tuple.size();
          if (head.size() + tuple.size() > budget)
            throw failure{statement_too_long(
                row_name(source, names, key_at, r, qualified_src, qualified_dst),
                head.size() + tuple.size(), budget)};
          if (!sql.empty() && sql.size() + 1 + tuple.size() > budget) {
            must(target.exec(has_enum ? lenient(sql) : sql),
                 "copying into " + qualified_dst);
            sql.clear();
          }
          sql += sql.empty() ? head : ",";
          sql += tuple;
        }
        must(target.exec(has_enum ? lenient(sql) : sql), "copying into " + qualified_dst);
        result.rows += chunk.rows.size();
        offset += chunk.rows.size();
        last = chunk.rows.back();
        if (progress && !progress(result.rows, std::max(expected, result.rows)))
          throw failure{"stopped after " + std::to_string(result.rows) + " rows"};
        if (chunk.rows.size() < page_rows)
          break;
        page_rows =
            std::clamp<size_t>(budget * chunk.rows.size() / page_bytes, 1, chunk_rows);
      }
      ++result.tables;
    }
    must(source.exec("COMMIT"), "source");
  } catch (failure& f) {
    source.exec("ROLLBACK");
    result.error = f.what;
    result.connection_lost = f.connection_lost;
  }
  return result;
}

} // namespace shoal::binlog
