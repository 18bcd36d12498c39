#include "actors/binlog/snapshot.hpp"

#include "actors/binlog/sql_builder.hpp"

namespace shoal::binlog {

namespace {

struct failure {
  std::string what;
};

template <class T> T must(mysql_expected<T> r, const std::string& what) {
  if (!r)
    throw failure{what + ": " + r.error().to_string()};
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

} // namespace

snapshot_result copy_snapshot(mysql_connection& source, mysql_connection& target,
                              const table_filter& filter, size_t chunk_rows) {
  snapshot_result result;
  try {
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
    if (result.position.empty())
      throw failure{
          "the source reports no binlog_snapshot_file (is it MariaDB with log_bin?)"};
    auto tables =
        must(source.query("SELECT TABLE_SCHEMA, TABLE_NAME FROM "
                          "information_schema.TABLES WHERE TABLE_TYPE='BASE TABLE' "
                          "ORDER BY TABLE_SCHEMA, TABLE_NAME"),
             "listing tables");
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
      must(target.exec("CREATE DATABASE IF NOT EXISTS " + sql_identifier(tdb)), "target");
      must(target.exec("USE " + sql_identifier(tdb)), "target");
      must(target.exec("DROP TABLE IF EXISTS " + qualified_dst), "target");
      must(target.exec(ddl), "creating " + qualified_dst);
      auto keys = must(
          source.query("SHOW KEYS FROM " + qualified_src + " WHERE Key_name='PRIMARY'"),
          "SHOW KEYS");
      std::string order;
      for (auto& k : keys.rows)
        order +=
            (order.empty() ? " ORDER BY " : ",") + sql_identifier(k.at(4).value_or(""));
      for (uint64_t offset = 0;; offset += chunk_rows) {
        auto chunk = must(source.query("SELECT * FROM " + qualified_src + order +
                                       " LIMIT " + std::to_string(chunk_rows) +
                                       " OFFSET " + std::to_string(offset)),
                          "reading " + qualified_src);
        if (chunk.rows.empty())
          break;
        std::string sql = "INSERT INTO " + qualified_dst + " VALUES ";
        bool first_row = true;
        for (auto& r : chunk.rows) {
          sql += first_row ? "(" : ",(";
          first_row = false;
          for (size_t c = 0; c < r.size(); ++c) {
            if (c)
              sql += ',';
            sql += r[c] ? target.quote(*r[c]) : "NULL";
          }
          sql += ')';
        }
        must(target.exec(sql), "copying into " + qualified_dst);
        result.rows += chunk.rows.size();
        if (chunk.rows.size() < chunk_rows)
          break;
      }
      ++result.tables;
    }
    must(source.exec("COMMIT"), "source");
  } catch (failure& f) {
    source.exec("ROLLBACK");
    result.error = f.what;
  }
  return result;
}

} // namespace shoal::binlog
