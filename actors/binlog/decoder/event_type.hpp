// The numeric codes of the binlog: event types (MySQL and MariaDB) and column
// types as they appear in TABLE_MAP events.
#pragma once

#include <cstdint>
#include <string_view>

namespace shoal::binlog {

/// Event type byte of the v4 event header.
enum class event_type : uint8_t {
  unknown = 0,
  start_v3 = 1,
  query = 2,
  stop = 3,
  rotate = 4,
  intvar = 5,
  load = 6,
  slave = 7,
  create_file = 8,
  append_block = 9,
  exec_load = 10,
  delete_file = 11,
  new_load = 12,
  rand = 13,
  user_var = 14,
  format_description = 15,
  xid = 16,
  begin_load_query = 17,
  execute_load_query = 18,
  table_map = 19,
  pre_ga_write_rows = 20,
  pre_ga_update_rows = 21,
  pre_ga_delete_rows = 22,
  write_rows_v1 = 23,
  update_rows_v1 = 24,
  delete_rows_v1 = 25,
  incident = 26,
  heartbeat = 27,
  ignorable = 28,
  rows_query = 29,
  write_rows_v2 = 30,
  update_rows_v2 = 31,
  delete_rows_v2 = 32,
  mysql_gtid = 33,
  mysql_anonymous_gtid = 34,
  mysql_previous_gtids = 35,
  mysql_transaction_context = 36,
  mysql_view_change = 37,
  mysql_xa_prepare = 38,
  mysql_partial_update_rows = 39,
  mysql_transaction_payload = 40,
  mysql_heartbeat_v2 = 41,
  mysql_gtid_tagged = 42,
  mariadb_annotate_rows = 160,
  mariadb_binlog_checkpoint = 161,
  mariadb_gtid = 162,
  mariadb_gtid_list = 163,
  mariadb_start_encryption = 164,
  mariadb_query_compressed = 165,
  mariadb_write_rows_compressed = 166,
  mariadb_update_rows_compressed = 167,
  mariadb_delete_rows_compressed = 168,
  mariadb_write_rows_compressed_v1 = 169,
  mariadb_update_rows_compressed_v1 = 170,
  mariadb_delete_rows_compressed_v1 = 171,
};

/// Upper-case name of an event type byte ("WRITE_ROWS_V1"), or "UNKNOWN(n)".
std::string_view event_type_name(uint8_t type);

/// Column type byte of a TABLE_MAP event (MYSQL_TYPE_* in mysql_com.h).
enum class column_type : uint8_t {
  decimal = 0, // pre-5.0 DECIMAL, never written in row events by a current server
  tiny = 1,
  short_ = 2,
  long_ = 3,
  float_ = 4,
  double_ = 5,
  null = 6,
  timestamp = 7,
  longlong = 8,
  int24 = 9,
  date = 10,
  time = 11,
  datetime = 12,
  year = 13,
  newdate = 14,
  varchar = 15,
  bit = 16,
  timestamp2 = 17,
  datetime2 = 18,
  time2 = 19,
  json = 245,
  newdecimal = 246,
  enum_ = 247,
  set = 248,
  tiny_blob = 249,
  medium_blob = 250,
  long_blob = 251,
  blob = 252,
  var_string = 253,
  string = 254,
  geometry = 255,
};

/// Upper-case name of a column type byte ("VARCHAR"), or "TYPE(n)".
std::string_view column_type_name(uint8_t type);

} // namespace shoal::binlog
