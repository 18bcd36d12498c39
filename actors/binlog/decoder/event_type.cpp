#include "actors/binlog/decoder/event_type.hpp"

#include <array>
#include <string>

namespace shoal::binlog {

namespace {

using name_table = std::array<std::string, 256>;

name_table make_names(const char* prefix) {
  name_table result;
  for (size_t i = 0; i < result.size(); ++i)
    result[i] = std::string{prefix} + "(" + std::to_string(i) + ")";
  return result;
}

} // namespace

std::string_view event_type_name(uint8_t type) {
  switch (static_cast<event_type>(type)) {
  case event_type::unknown:
    return "UNKNOWN_EVENT";
  case event_type::start_v3:
    return "START_EVENT_V3";
  case event_type::query:
    return "QUERY_EVENT";
  case event_type::stop:
    return "STOP_EVENT";
  case event_type::rotate:
    return "ROTATE_EVENT";
  case event_type::intvar:
    return "INTVAR_EVENT";
  case event_type::load:
    return "LOAD_EVENT";
  case event_type::slave:
    return "SLAVE_EVENT";
  case event_type::create_file:
    return "CREATE_FILE_EVENT";
  case event_type::append_block:
    return "APPEND_BLOCK_EVENT";
  case event_type::exec_load:
    return "EXEC_LOAD_EVENT";
  case event_type::delete_file:
    return "DELETE_FILE_EVENT";
  case event_type::new_load:
    return "NEW_LOAD_EVENT";
  case event_type::begin_load_query:
    return "BEGIN_LOAD_QUERY_EVENT";
  case event_type::execute_load_query:
    return "EXECUTE_LOAD_QUERY_EVENT";
  case event_type::rand:
    return "RAND_EVENT";
  case event_type::user_var:
    return "USER_VAR_EVENT";
  case event_type::format_description:
    return "FORMAT_DESCRIPTION_EVENT";
  case event_type::xid:
    return "XID_EVENT";
  case event_type::table_map:
    return "TABLE_MAP_EVENT";
  case event_type::pre_ga_write_rows:
    return "PRE_GA_WRITE_ROWS_EVENT";
  case event_type::pre_ga_update_rows:
    return "PRE_GA_UPDATE_ROWS_EVENT";
  case event_type::pre_ga_delete_rows:
    return "PRE_GA_DELETE_ROWS_EVENT";
  case event_type::write_rows_v1:
    return "WRITE_ROWS_EVENT_V1";
  case event_type::update_rows_v1:
    return "UPDATE_ROWS_EVENT_V1";
  case event_type::delete_rows_v1:
    return "DELETE_ROWS_EVENT_V1";
  case event_type::incident:
    return "INCIDENT_EVENT";
  case event_type::heartbeat:
    return "HEARTBEAT_LOG_EVENT";
  case event_type::ignorable:
    return "IGNORABLE_LOG_EVENT";
  case event_type::rows_query:
    return "ROWS_QUERY_LOG_EVENT";
  case event_type::write_rows_v2:
    return "WRITE_ROWS_EVENT";
  case event_type::update_rows_v2:
    return "UPDATE_ROWS_EVENT";
  case event_type::delete_rows_v2:
    return "DELETE_ROWS_EVENT";
  case event_type::mysql_gtid:
    return "GTID_LOG_EVENT";
  case event_type::mysql_anonymous_gtid:
    return "ANONYMOUS_GTID_LOG_EVENT";
  case event_type::mysql_previous_gtids:
    return "PREVIOUS_GTIDS_LOG_EVENT";
  case event_type::mysql_transaction_context:
    return "TRANSACTION_CONTEXT_EVENT";
  case event_type::mysql_view_change:
    return "VIEW_CHANGE_EVENT";
  case event_type::mysql_xa_prepare:
    return "XA_PREPARE_LOG_EVENT";
  case event_type::mysql_partial_update_rows:
    return "PARTIAL_UPDATE_ROWS_EVENT";
  case event_type::mysql_transaction_payload:
    return "TRANSACTION_PAYLOAD_EVENT";
  case event_type::mysql_heartbeat_v2:
    return "HEARTBEAT_LOG_EVENT_V2";
  case event_type::mysql_gtid_tagged:
    return "GTID_TAGGED_LOG_EVENT";
  case event_type::mariadb_annotate_rows:
    return "ANNOTATE_ROWS_EVENT";
  case event_type::mariadb_binlog_checkpoint:
    return "BINLOG_CHECKPOINT_EVENT";
  case event_type::mariadb_gtid:
    return "GTID_EVENT";
  case event_type::mariadb_gtid_list:
    return "GTID_LIST_EVENT";
  case event_type::mariadb_start_encryption:
    return "START_ENCRYPTION_EVENT";
  case event_type::mariadb_query_compressed:
    return "QUERY_COMPRESSED_EVENT";
  case event_type::mariadb_write_rows_compressed:
    return "WRITE_ROWS_COMPRESSED_EVENT";
  case event_type::mariadb_update_rows_compressed:
    return "UPDATE_ROWS_COMPRESSED_EVENT";
  case event_type::mariadb_delete_rows_compressed:
    return "DELETE_ROWS_COMPRESSED_EVENT";
  case event_type::mariadb_write_rows_compressed_v1:
    return "WRITE_ROWS_COMPRESSED_EVENT_V1";
  case event_type::mariadb_update_rows_compressed_v1:
    return "UPDATE_ROWS_COMPRESSED_EVENT_V1";
  case event_type::mariadb_delete_rows_compressed_v1:
    return "DELETE_ROWS_COMPRESSED_EVENT_V1";
  }
  static const name_table names = make_names("UNKNOWN_EVENT");
  return names[type];
}

std::string_view column_type_name(uint8_t type) {
  switch (static_cast<column_type>(type)) {
  case column_type::decimal:
    return "DECIMAL";
  case column_type::tiny:
    return "TINY";
  case column_type::short_:
    return "SHORT";
  case column_type::long_:
    return "LONG";
  case column_type::float_:
    return "FLOAT";
  case column_type::double_:
    return "DOUBLE";
  case column_type::null:
    return "NULL";
  case column_type::timestamp:
    return "TIMESTAMP";
  case column_type::longlong:
    return "LONGLONG";
  case column_type::int24:
    return "INT24";
  case column_type::date:
    return "DATE";
  case column_type::time:
    return "TIME";
  case column_type::datetime:
    return "DATETIME";
  case column_type::year:
    return "YEAR";
  case column_type::newdate:
    return "NEWDATE";
  case column_type::varchar:
    return "VARCHAR";
  case column_type::bit:
    return "BIT";
  case column_type::timestamp2:
    return "TIMESTAMP2";
  case column_type::datetime2:
    return "DATETIME2";
  case column_type::time2:
    return "TIME2";
  case column_type::json:
    return "JSON";
  case column_type::newdecimal:
    return "NEWDECIMAL";
  case column_type::enum_:
    return "ENUM";
  case column_type::set:
    return "SET";
  case column_type::tiny_blob:
    return "TINY_BLOB";
  case column_type::medium_blob:
    return "MEDIUM_BLOB";
  case column_type::long_blob:
    return "LONG_BLOB";
  case column_type::blob:
    return "BLOB";
  case column_type::var_string:
    return "VAR_STRING";
  case column_type::string:
    return "STRING";
  case column_type::geometry:
    return "GEOMETRY";
  }
  static const name_table names = make_names("TYPE");
  return names[type];
}

} // namespace shoal::binlog
