#include "actors/binlog/checkpoint.hpp"

#include "actors/binlog/sql_builder.hpp"

namespace shoal::binlog {

namespace {

std::string table_name(const std::string& database) {
  return sql_identifier(database) + ".`sync_checkpoint`";
}

std::string quote_text(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\')
      out += c;
    out += c;
  }
  return out + "'";
}

} // namespace

std::vector<std::string> checkpoint_schema_sql(const std::string& database) {
  return {"CREATE DATABASE IF NOT EXISTS " + sql_identifier(database),
          "CREATE TABLE IF NOT EXISTS " + table_name(database) +
              " (pipeline VARCHAR(128) NOT NULL, partition_id INT NOT NULL,"
              " file VARCHAR(255) NOT NULL, pos BIGINT UNSIGNED NOT NULL,"
              " idx BIGINT UNSIGNED NOT NULL,"
              " updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
              " ON UPDATE CURRENT_TIMESTAMP(6),"
              " PRIMARY KEY (pipeline, partition_id)) ENGINE=InnoDB"};
}

std::string checkpoint_store_sql(const std::string& database, const std::string& pipeline,
                                 uint32_t partition, const change_key& key) {
  return "INSERT INTO " + table_name(database) +
         " (pipeline, partition_id, file, pos, idx) VALUES (" + quote_text(pipeline) +
         "," + std::to_string(partition) + "," + quote_text(key.at.file) + "," +
         std::to_string(key.at.pos) + "," + std::to_string(key.index) +
         ") ON DUPLICATE KEY UPDATE file=VALUES(file), pos=VALUES(pos), idx=VALUES(idx)";
}

std::optional<change_key> lowest_key(const std::vector<std::optional<change_key>>& keys) {
  if (keys.empty())
    return std::nullopt;
  std::optional<change_key> low;
  for (auto& k : keys) {
    if (!k)
      return std::nullopt;
    if (!low || *k < *low)
      low = k;
  }
  return low;
}

std::optional<binlog_position>
resume_position(const std::vector<std::optional<change_key>>& keys) {
  auto low = lowest_key(keys);
  if (!low)
    return std::nullopt;
  return low->at;
}

mysql_expected<std::vector<std::optional<change_key>>>
load_checkpoints(mysql_connection& conn, const std::string& database,
                 const std::string& pipeline, uint32_t partitions) {
  auto rows =
      conn.query("SELECT partition_id, file, pos, idx FROM " + table_name(database) +
                 " WHERE pipeline=" + quote_text(pipeline));
  if (!rows)
    return rows.error();
  std::vector<std::optional<change_key>> keys(partitions);
  for (auto& row : rows->rows) {
    auto id = std::stol(row[0].value_or("0"));
    if (id < 0)
      continue; // the XA floor (load_xa_floor)
    auto p = static_cast<unsigned long>(id);
    if (p >= partitions) {
      mysql_error err;
      err.operation = "load checkpoint";
      err.endpoint = conn.endpoint();
      err.message = "the checkpoint of pipeline \"" + pipeline + "\" has partition " +
                    std::to_string(p) + " but the pipeline now has " +
                    std::to_string(partitions) +
                    " partitions; changing the partition count needs a fresh start "
                    "(delete its rows from " +
                    database + ".sync_checkpoint and resync)";
      return err;
    }
    change_key k;
    k.at.file = row[1].value_or("");
    k.at.pos = std::stoull(row[2].value_or("0"));
    k.index = std::stoull(row[3].value_or("0"));
    keys[p] = k;
  }
  return keys;
}

std::string xa_floor_store_sql(const std::string& database, const std::string& pipeline,
                               const binlog_position& at) {
  return "INSERT INTO " + table_name(database) +
         " (pipeline, partition_id, file, pos, idx) VALUES (" + quote_text(pipeline) + "," +
         std::to_string(xa_floor_partition) + "," + quote_text(at.file) + "," +
         std::to_string(at.pos) +
         ",0) ON DUPLICATE KEY UPDATE file=VALUES(file), pos=VALUES(pos), idx=0";
}

std::string xa_floor_clear_sql(const std::string& database, const std::string& pipeline) {
  return "DELETE FROM " + table_name(database) + " WHERE pipeline=" + quote_text(pipeline) +
         " AND partition_id=" + std::to_string(xa_floor_partition);
}

mysql_expected<std::optional<binlog_position>>
load_xa_floor(mysql_connection& conn, const std::string& database,
              const std::string& pipeline) {
  auto rows = conn.query("SELECT file, pos FROM " + table_name(database) +
                         " WHERE pipeline=" + quote_text(pipeline) +
                         " AND partition_id=" + std::to_string(xa_floor_partition));
  if (!rows)
    return rows.error();
  if (rows->rows.empty())
    return std::optional<binlog_position>{};
  return std::optional<binlog_position>{binlog_position{
      rows->rows[0][0].value_or(""), std::stoull(rows->rows[0][1].value_or("4"))}};
}

} // namespace shoal::binlog
