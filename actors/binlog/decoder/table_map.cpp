#include "actors/binlog/decoder/table_map.hpp"

#include "actors/binlog/decoder/byte_reader.hpp"
#include "actors/binlog/decoder/event_type.hpp"

namespace shoal::binlog {

namespace {

enum optional_field : uint8_t {
  signedness = 1,
  default_charset = 2,
  column_charset = 3,
  column_name = 4,
  set_str_value = 5,
  enum_str_value = 6,
  geometry_type = 7,
  simple_primary_key = 8,
  primary_key_with_prefix = 9,
  enum_and_set_default_charset = 10,
  enum_and_set_column_charset = 11,
  column_visibility = 12,
};

decode_error fail(std::string what) {
  decode_error err;
  err.what = std::move(what);
  err.event_type = static_cast<uint8_t>(event_type::table_map);
  return err;
}

decode_error fail_column(std::string what, uint32_t column) {
  auto err = fail(std::move(what));
  err.column = column;
  return err;
}

bool is_character_column(const column_def& col) {
  switch (static_cast<column_type>(col.real_type)) {
  case column_type::string:
  case column_type::varchar:
  case column_type::var_string:
  case column_type::tiny_blob:
  case column_type::medium_blob:
  case column_type::long_blob:
  case column_type::blob:
    return true;
  default:
    return false;
  }
}

bool is_enum_or_set_column(const column_def& col) {
  return col.real_type == static_cast<uint8_t>(column_type::enum_) ||
         col.real_type == static_cast<uint8_t>(column_type::set);
}

// Reads the per-column metadata; returns an error message or an empty string.
std::string read_column_meta(byte_reader& in, column_def& col) {
  switch (static_cast<column_type>(col.type)) {
  case column_type::float_:
  case column_type::double_:
  case column_type::tiny_blob:
  case column_type::medium_blob:
  case column_type::long_blob:
  case column_type::blob:
  case column_type::geometry:
  case column_type::json:
    col.length = in.u8();
    break;
  case column_type::varchar:
  case column_type::var_string:
    col.length = in.u16();
    break;
  case column_type::bit: {
    auto bits = in.u8();
    auto bytes = in.u8();
    if (bits > 7 || bytes * 8 + bits > 64 || bytes * 8 + bits == 0)
      return "invalid BIT metadata";
    col.precision = static_cast<uint8_t>(bytes * 8 + bits);
    break;
  }
  case column_type::newdecimal:
    col.precision = in.u8();
    col.scale = in.u8();
    if (in.ok() && (col.precision == 0 || col.precision > 65 || col.scale > 38 ||
                    col.scale > col.precision))
      return "invalid DECIMAL(" + std::to_string(col.precision) + "," +
             std::to_string(col.scale) + ") metadata";
    break;
  case column_type::string:
  case column_type::enum_:
  case column_type::set: {
    uint8_t real = in.u8();
    uint8_t len = in.u8();
    col.length = len;
    col.real_type = real;
    if ((real & 0x30) != 0x30) {
      col.length = len | ((uint32_t{real & 0x30u} ^ 0x30u) << 4);
      col.real_type = real | 0x30;
    }
    break;
  }
  case column_type::time2:
  case column_type::datetime2:
  case column_type::timestamp2:
    col.length = in.u8();
    if (col.length > 6)
      return "fractional digits " + std::to_string(col.length) + " > 6";
    break;
  default:
    break;
  }
  return {};
}

// Reads one length-prefixed string of optional metadata.
std::string read_lenenc_string(byte_reader& in) {
  auto len = in.packed_int();
  return std::string{in.bytes(len)};
}

std::string read_optional_metadata(byte_reader& in, table_map& map) {
  std::vector<column_def*> numeric, character, enum_set, sets, enums;
  for (auto& col : map.columns) {
    if (is_numeric_type(col.type))
      numeric.push_back(&col);
    if (is_character_column(col))
      character.push_back(&col);
    if (is_enum_or_set_column(col))
      enum_set.push_back(&col);
    if (col.real_type == static_cast<uint8_t>(column_type::set))
      sets.push_back(&col);
    if (col.real_type == static_cast<uint8_t>(column_type::enum_))
      enums.push_back(&col);
  }
  while (in.ok() && !in.at_end()) {
    map.has_optional_metadata = true;
    auto field = in.u8();
    auto len = in.packed_int();
    byte_reader value{in.bytes(len)};
    if (!in.ok())
      return "optional metadata field " + std::to_string(field) + " overruns the event";
    switch (field) {
    case signedness: {
      uint8_t bits = 0;
      for (size_t i = 0; i < numeric.size(); ++i) {
        if (i % 8 == 0 && value.at_end())
          return "SIGNEDNESS bitmap shorter than the numeric columns";
        if (i % 8 == 0)
          bits = value.u8();
        numeric[i]->is_unsigned = (bits & (0x80 >> (i % 8))) != 0;
      }
      break;
    }
    case default_charset:
    case enum_and_set_default_charset: {
      auto& targets = field == default_charset ? character : enum_set;
      auto def = static_cast<uint32_t>(value.packed_int());
      for (auto* col : targets)
        col->charset = def;
      while (value.ok() && !value.at_end()) {
        auto index = value.packed_int();
        auto charset = static_cast<uint32_t>(value.packed_int());
        if (index >= targets.size())
          return "charset for column index " + std::to_string(index) + " out of range";
        targets[index]->charset = charset;
      }
      break;
    }
    case column_charset:
    case enum_and_set_column_charset: {
      auto& targets = field == column_charset ? character : enum_set;
      for (auto* col : targets)
        col->charset = static_cast<uint32_t>(value.packed_int());
      break;
    }
    case column_name:
      for (auto& col : map.columns)
        col.name = read_lenenc_string(value);
      break;
    case set_str_value:
    case enum_str_value:
      for (auto* col : field == set_str_value ? sets : enums) {
        auto count = value.packed_int();
        if (count > value.remaining())
          return "ENUM/SET value count " + std::to_string(count) + " overruns the field";
        col->enum_values.clear();
        for (uint64_t i = 0; i < count && value.ok(); ++i)
          col->enum_values.push_back(read_lenenc_string(value));
      }
      break;
    case simple_primary_key:
      while (value.ok() && !value.at_end())
        map.primary_key.emplace_back(static_cast<uint32_t>(value.packed_int()), 0);
      break;
    case primary_key_with_prefix:
      while (value.ok() && !value.at_end()) {
        auto index = static_cast<uint32_t>(value.packed_int());
        auto prefix = static_cast<uint32_t>(value.packed_int());
        map.primary_key.emplace_back(index, prefix);
      }
      break;
    default: // geometry types, column visibility and future fields carry no data we use
      break;
    }
    if (!value.ok())
      return "optional metadata field " + std::to_string(field) + " is truncated";
  }
  for (auto& [index, prefix] : map.primary_key)
    if (index >= map.columns.size())
      return "primary key column " + std::to_string(index) + " out of range";
  return {};
}

} // namespace

bool is_numeric_type(uint8_t type) {
  switch (static_cast<column_type>(type)) {
  case column_type::tiny:
  case column_type::short_:
  case column_type::int24:
  case column_type::long_:
  case column_type::longlong:
  case column_type::newdecimal:
  case column_type::float_:
  case column_type::double_:
    return true;
  default:
    return false;
  }
}

decode_result<table_map> decode_table_map(std::string_view body,
                                          uint8_t post_header_length) {
  byte_reader in{body};
  table_map map;
  map.table_id = in.uint_le(post_header_length == 6 ? 4 : 6);
  map.flags = in.u16();
  if (post_header_length > 8)
    in.skip(post_header_length - 8u);
  auto db_len = in.u8();
  map.schema = std::string{in.bytes(db_len)};
  if (in.u8() != 0 && in.ok())
    return fail("schema name is not NUL-terminated");
  auto table_len = in.u8();
  map.table = std::string{in.bytes(table_len)};
  if (in.u8() != 0 && in.ok())
    return fail("table name is not NUL-terminated");
  auto count = in.packed_int();
  if (!in.ok())
    return fail("truncated before the column list");
  if (count == 0 || count > in.remaining())
    return fail("column count " + std::to_string(count) + " does not fit the event");
  map.columns.resize(count);
  for (auto& col : map.columns) {
    col.type = in.u8();
    col.real_type = col.type;
  }
  auto meta_len = in.packed_int();
  byte_reader meta{in.bytes(meta_len)};
  if (!in.ok())
    return fail("truncated column metadata");
  for (uint32_t i = 0; i < map.columns.size(); ++i) {
    auto msg = read_column_meta(meta, map.columns[i]);
    if (!msg.empty())
      return fail_column(msg, i);
    if (!meta.ok())
      return fail_column("column metadata is shorter than the column types need", i);
  }
  if (!meta.at_end())
    return fail("column metadata has " + std::to_string(meta.remaining()) +
                " bytes more than the column types need");
  auto nulls = in.bytes((count + 7) / 8);
  if (!in.ok())
    return fail("truncated NULL bitmap");
  for (size_t i = 0; i < count; ++i)
    map.columns[i].nullable = (static_cast<uint8_t>(nulls[i / 8]) >> (i % 8)) & 1;
  auto msg = read_optional_metadata(in, map);
  if (!msg.empty())
    return fail(msg);
  return map;
}

} // namespace shoal::binlog
