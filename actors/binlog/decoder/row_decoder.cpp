#include "actors/binlog/decoder/row_decoder.hpp"

#include <cstring>

#include "actors/binlog/decoder/compressed_payload.hpp"
#include "actors/binlog/decoder/event_type.hpp"
#include "actors/binlog/decoder/json_binary.hpp"
#include "actors/binlog/decoder/json_diff.hpp"
#include "actors/binlog/decoder/packed_value.hpp"

namespace shoal::binlog {

namespace {

decode_error fail(std::string what) {
  decode_error err;
  err.what = std::move(what);
  return err;
}

decode_result<column_value> truncated(const column_def& col) {
  return fail("truncated " + std::string{column_type_name(col.real_type)} + " value");
}

column_value integer(uint64_t raw, size_t bytes, bool is_unsigned) {
  if (is_unsigned)
    return raw;
  size_t shift = 64 - 8 * bytes;
  return static_cast<int64_t>(raw << shift) >> shift;
}

// Fractional seconds of TIMESTAMP2 and DATETIME2 in microseconds.
int64_t read_fraction(byte_reader& in, uint32_t fsp) {
  switch (fsp) {
  case 1:
  case 2:
    return static_cast<int8_t>(in.u8()) * int64_t{10000};
  case 3:
  case 4:
    return static_cast<int16_t>(in.uint_be(2)) * int64_t{100};
  case 5:
  case 6: {
    auto v = static_cast<int64_t>(in.uint_be(3));
    return v >= 0x800000 ? v - 0x1000000 : v;
  }
  default:
    return 0;
  }
}

int64_t read_time2(byte_reader& in, uint32_t fsp) {
  constexpr int64_t int_offset = 0x800000;
  switch (fsp) {
  case 1:
  case 2: {
    int64_t intpart = static_cast<int64_t>(in.uint_be(3)) - int_offset;
    int64_t frac = in.u8();
    if (intpart < 0 && frac != 0) {
      ++intpart;
      frac -= 0x100;
    }
    return intpart * (int64_t{1} << 24) + frac * 10000;
  }
  case 3:
  case 4: {
    int64_t intpart = static_cast<int64_t>(in.uint_be(3)) - int_offset;
    int64_t frac = static_cast<int64_t>(in.uint_be(2));
    if (intpart < 0 && frac != 0) {
      ++intpart;
      frac -= 0x10000;
    }
    return intpart * (int64_t{1} << 24) + frac * 100;
  }
  case 5:
  case 6:
    return static_cast<int64_t>(in.uint_be(6)) - int64_t{0x800000000000};
  default:
    return (static_cast<int64_t>(in.uint_be(3)) - int_offset) * (int64_t{1} << 24);
  }
}

decode_result<column_value> read_bytes(byte_reader& in, const column_def& col,
                                       size_t prefix_width) {
  auto len = in.uint_le(prefix_width);
  auto bytes = in.bytes(len);
  if (!in.ok())
    return truncated(col);
  return column_value{bytes_value{std::string{bytes}}};
}

size_t blob_prefix_width(const column_def& col) {
  switch (static_cast<column_type>(col.type)) {
  case column_type::tiny_blob:
    return 1;
  case column_type::medium_blob:
    return 3;
  case column_type::long_blob:
    return 4;
  default:
    return col.length;
  }
}

} // namespace

decode_result<column_value> decode_column(byte_reader& in, const column_def& col,
                                          bool is_unsigned) {
  auto type = static_cast<column_type>(col.real_type);
  auto checked = [&](column_value v) -> decode_result<column_value> {
    if (!in.ok())
      return truncated(col);
    return v;
  };
  switch (type) {
  case column_type::tiny:
    return checked(integer(in.uint_le(1), 1, is_unsigned));
  case column_type::short_:
    return checked(integer(in.uint_le(2), 2, is_unsigned));
  case column_type::int24:
    return checked(integer(in.uint_le(3), 3, is_unsigned));
  case column_type::long_:
    return checked(integer(in.uint_le(4), 4, is_unsigned));
  case column_type::longlong:
    return checked(integer(in.uint_le(8), 8, is_unsigned));
  case column_type::float_: {
    auto bits = static_cast<uint32_t>(in.u32());
    float f;
    std::memcpy(&f, &bits, sizeof(f));
    return checked(f);
  }
  case column_type::double_: {
    auto bits = in.u64();
    double d;
    std::memcpy(&d, &bits, sizeof(d));
    return checked(d);
  }
  case column_type::null:
    return column_value{null_value{}};
  case column_type::timestamp:
    return checked(timestamp_value{in.u32(), 0});
  case column_type::date:
  case column_type::newdate: {
    auto v = in.u24();
    date_value d;
    d.day = static_cast<uint8_t>(v & 31);
    d.month = static_cast<uint8_t>((v >> 5) & 15);
    d.year = static_cast<uint16_t>(v >> 9);
    return checked(d);
  }
  case column_type::time: {
    auto raw = static_cast<int64_t>(in.uint_le(3));
    if (raw >= 0x800000)
      raw -= 0x1000000;
    time_value t;
    t.negative = raw < 0;
    auto abs = raw < 0 ? -raw : raw;
    t.hours = static_cast<uint32_t>(abs / 10000);
    t.minutes = static_cast<uint8_t>(abs / 100 % 100);
    t.seconds = static_cast<uint8_t>(abs % 100);
    return checked(t);
  }
  case column_type::datetime: {
    auto v = in.u64();
    datetime_value d;
    auto date = v / 1000000;
    auto time = v % 1000000;
    d.year = static_cast<uint16_t>(date / 10000 % 10000);
    d.month = static_cast<uint8_t>(date / 100 % 100);
    d.day = static_cast<uint8_t>(date % 100);
    d.hours = static_cast<uint8_t>(time / 10000);
    d.minutes = static_cast<uint8_t>(time / 100 % 100);
    d.seconds = static_cast<uint8_t>(time % 100);
    if (date / 10000 > 9999)
      return fail("DATETIME value " + std::to_string(v) + " out of range");
    return checked(d);
  }
  case column_type::year: {
    auto v = in.u8();
    return checked(year_value{static_cast<uint16_t>(v == 0 ? 0 : 1900 + v)});
  }
  case column_type::varchar:
  case column_type::var_string:
    return read_bytes(in, col, col.length < 256 ? 1 : 2);
  case column_type::bit: {
    auto v = in.uint_be((col.precision + 7u) / 8u);
    return checked(bit_value{v, col.precision});
  }
  case column_type::timestamp2: {
    timestamp_value t;
    t.seconds = static_cast<uint32_t>(in.uint_be(4));
    auto frac = read_fraction(in, col.length);
    if (frac < 0 || frac > 999999)
      return fail("TIMESTAMP2 fraction out of range");
    t.micros = static_cast<uint32_t>(frac);
    return checked(t);
  }
  case column_type::datetime2: {
    auto intpart = static_cast<int64_t>(in.uint_be(5)) - int64_t{0x8000000000};
    auto frac = read_fraction(in, col.length);
    if (!in.ok())
      return truncated(col);
    auto packed = static_cast<int64_t>((static_cast<uint64_t>(intpart) << 24) +
                                       static_cast<uint64_t>(frac));
    auto d = unpack_datetime(packed);
    if (d.micros > 999999 || d.month > 12 || d.hours > 23 || d.minutes > 59 ||
        d.seconds > 59)
      return fail("DATETIME2 value out of range");
    return column_value{d};
  }
  case column_type::time2: {
    auto t = unpack_time(read_time2(in, col.length));
    if (!in.ok())
      return truncated(col);
    if (t.micros > 999999 || t.minutes > 59 || t.seconds > 59)
      return fail("TIME2 value out of range");
    return column_value{t};
  }
  case column_type::newdecimal: {
    auto bytes = in.bytes(decimal_binary_size(col.precision, col.scale));
    if (!in.ok())
      return truncated(col);
    auto text = decimal_to_string(bytes, col.precision, col.scale);
    if (!text)
      return fail("DECIMAL digit group out of range");
    return column_value{decimal_value{std::move(*text)}};
  }
  case column_type::enum_: {
    if (col.length != 1 && col.length != 2)
      return fail("ENUM pack length " + std::to_string(col.length) + " is not 1 or 2");
    return checked(enum_value{static_cast<uint16_t>(in.uint_le(col.length))});
  }
  case column_type::set: {
    if (col.length < 1 || col.length > 8)
      return fail("SET pack length " + std::to_string(col.length) + " is not 1..8");
    return checked(set_value{in.uint_le(col.length)});
  }
  case column_type::tiny_blob:
  case column_type::medium_blob:
  case column_type::long_blob:
  case column_type::blob:
  case column_type::geometry: {
    auto width = blob_prefix_width(col);
    if (width < 1 || width > 4)
      return fail("blob length width " + std::to_string(width) + " is not 1..4");
    return read_bytes(in, col, width);
  }
  case column_type::json: {
    if (col.length < 1 || col.length > 4)
      return fail("JSON length width " + std::to_string(col.length) + " is not 1..4");
    auto len = in.uint_le(col.length);
    auto doc = in.bytes(len);
    if (!in.ok())
      return truncated(col);
    auto text = json_binary_to_text(doc);
    if (!text)
      return fail("invalid binary JSON: " + text.error().what);
    return column_value{json_value{std::move(*text)}};
  }
  case column_type::string:
    return read_bytes(in, col, col.length > 255 ? 2 : 1);
  case column_type::decimal:
    return fail("pre-5.0 DECIMAL columns are not supported");
  }
  return fail("unsupported column type " + std::string{column_type_name(col.real_type)});
}

std::optional<uint64_t> rows_table_id(std::string_view body, uint8_t post_header_length) {
  byte_reader in{body};
  auto id = in.uint_le(post_header_length == 6 ? 4 : 6);
  if (!in.ok())
    return std::nullopt;
  return id;
}

namespace {

/// binlog_row_value_options bit of a PARTIAL_UPDATE_ROWS after image: JSON columns
/// flagged in the bitmap that follows hold diffs (json_diff.hpp), not documents.
constexpr uint64_t partial_json_updates = 1;

std::vector<bool> read_bitmap(byte_reader& in, uint64_t width) {
  auto bytes = in.bytes((width + 7) / 8);
  std::vector<bool> bits(in.ok() ? width : 0);
  for (size_t i = 0; i < bits.size(); ++i)
    bits[i] = (static_cast<uint8_t>(bytes[i / 8]) >> (i % 8)) & 1;
  return bits;
}

bool flag(const std::vector<bool>& flags, size_t i) {
  return i < flags.size() && flags[i];
}

// Gives a BINARY value back the trailing 0x00 bytes the server strips from it.
void pad_fixed_binary(column_value& value, const column_def& col) {
  auto* v = std::get_if<bytes_value>(&value);
  if (v && v->bytes.size() < col.length)
    v->bytes.resize(col.length, '\0');
}

/// Reads one partial JSON value (a diff vector behind the column's length prefix)
/// and applies it to the document the before image holds.
decode_result<column_value> read_partial_json(byte_reader& in, const column_def& col,
                                              const row_image* before, uint32_t i) {
  if (col.length < 1 || col.length > 4)
    return fail("JSON length width " + std::to_string(col.length) + " is not 1..4");
  auto len = in.uint_le(col.length);
  auto bytes = in.bytes(len);
  if (!in.ok())
    return fail("truncated partial JSON value");
  auto diffs = read_json_diffs(bytes);
  if (!diffs)
    return std::move(diffs).error();
  const json_value* doc = nullptr;
  if (before && i < before->values.size() && before->present[i])
    doc = std::get_if<json_value>(&before->values[i]);
  if (!doc)
    return fail("a partial JSON update (binlog_row_value_options=PARTIAL_JSON) whose "
                "before image does not hold the document, so the new document cannot "
                "be built: set binlog_row_image=FULL on the source, or "
                "binlog_row_value_options=''");
  auto after = apply_json_diffs(doc->text, *diffs);
  if (!after)
    return std::move(after).error();
  return column_value{json_value{std::move(*after)}};
}

/// Reads one row image. `partial[i]`: column i holds a partial JSON update of the
/// document in `before` (a PARTIAL_UPDATE_ROWS after image).
decode_result<row_image> read_image(byte_reader& in, const std::vector<bool>& present,
                                    const table_map& table, const column_hints& columns,
                                    const std::vector<bool>& partial = {},
                                    const row_image* before = nullptr) {
  size_t count = 0;
  for (bool p : present)
    count += p;
  auto nulls = in.bytes((count + 7) / 8);
  if (!in.ok())
    return fail("truncated NULL bitmap of a row");
  row_image image;
  image.present = present;
  image.values.resize(present.size());
  size_t nth = 0;
  for (uint32_t i = 0; i < present.size(); ++i) {
    if (!present[i])
      continue;
    bool is_null = (static_cast<uint8_t>(nulls[nth / 8]) >> (nth % 8)) & 1;
    ++nth;
    if (is_null)
      continue;
    const auto& col = table.columns[i];
    auto value = flag(partial, i) ? read_partial_json(in, col, before, i)
                                  : decode_column(in, col, flag(columns.is_unsigned, i));
    if (!value) {
      auto err = std::move(value).error();
      err.column = i;
      return err;
    }
    if (col.real_type == static_cast<uint8_t>(column_type::string) &&
        flag(columns.fixed_binary, i))
      pad_fixed_binary(*value, col);
    image.values[i] = std::move(*value);
  }
  return image;
}

} // namespace

decode_result<rows_event> decode_rows(std::string_view body, uint8_t type,
                                      uint8_t post_header_length,
                                      std::shared_ptr<const table_map> table,
                                      const column_hints& columns) {
  rows_event ev;
  auto t = static_cast<event_type>(type);
  bool v2 = false;
  switch (t) {
  case event_type::write_rows_v2:
  case event_type::mariadb_write_rows_compressed:
    v2 = true;
    [[fallthrough]];
  case event_type::write_rows_v1:
  case event_type::mariadb_write_rows_compressed_v1:
    ev.kind = row_kind::write;
    break;
  case event_type::update_rows_v2:
  case event_type::mysql_partial_update_rows:
  case event_type::mariadb_update_rows_compressed:
    v2 = true;
    [[fallthrough]];
  case event_type::update_rows_v1:
  case event_type::mariadb_update_rows_compressed_v1:
    ev.kind = row_kind::update;
    break;
  case event_type::delete_rows_v2:
  case event_type::mariadb_delete_rows_compressed:
    v2 = true;
    [[fallthrough]];
  case event_type::delete_rows_v1:
  case event_type::mariadb_delete_rows_compressed_v1:
    ev.kind = row_kind::delete_;
    break;
  default:
    return fail("not a rows event");
  }
  byte_reader in{body};
  ev.table_id = in.uint_le(post_header_length == 6 ? 4 : 6);
  ev.flags = in.u16();
  if (v2) {
    auto extra_len = in.u16();
    if (post_header_length > 10)
      in.skip(post_header_length - 10u);
    if (extra_len < 2)
      return fail("rows event extra data length " + std::to_string(extra_len) + " < 2");
    in.skip(extra_len - 2u);
  } else if (post_header_length > 8) {
    in.skip(post_header_length - 8u);
  }
  auto width = in.packed_int();
  if (!in.ok())
    return fail("truncated rows event header");
  if (!table)
    return fail("rows event without a TABLE_MAP");
  if (width != table->columns.size())
    return fail("rows event has " + std::to_string(width) + " columns, TABLE_MAP " +
                std::to_string(table->columns.size()));
  auto before_cols = read_bitmap(in, width);
  auto after_cols = ev.kind == row_kind::update ? read_bitmap(in, width) : before_cols;
  if (!in.ok())
    return fail("truncated columns-present bitmap");
  ev.table = table;
  std::string inflated;
  if (type >= static_cast<uint8_t>(event_type::mariadb_write_rows_compressed) &&
      type <= static_cast<uint8_t>(event_type::mariadb_delete_rows_compressed_v1)) {
    auto rows = uncompress_payload(in.rest());
    if (!rows)
      return std::move(rows).error();
    inflated = std::move(*rows);
    in = byte_reader{inflated};
  }
  while (!in.at_end()) {
    auto row_start = in.position();
    row_change change;
    if (ev.kind != row_kind::write) {
      auto image = read_image(in, before_cols, *table, columns);
      if (!image)
        return std::move(image).error();
      change.before = std::move(*image);
    }
    if (ev.kind != row_kind::delete_) {
      std::vector<bool> partial;
      if (t == event_type::mysql_partial_update_rows) {
        auto options = in.packed_int();
        if (!in.ok())
          return fail("truncated value options of a partial update's after image");
        if (options & partial_json_updates) {
          // One bit per JSON column of the table, present in the image or not.
          size_t json_columns = 0;
          for (auto& col : table->columns)
            json_columns += col.real_type == static_cast<uint8_t>(column_type::json);
          auto bits = read_bitmap(in, json_columns);
          if (!in.ok())
            return fail("truncated partial JSON bitmap");
          partial.resize(width);
          for (size_t i = 0, nth = 0; i < width; ++i)
            if (table->columns[i].real_type == static_cast<uint8_t>(column_type::json))
              partial[i] = bits[nth++] && after_cols[i];
        }
      }
      auto image = read_image(in, after_cols, *table, columns, partial, &change.before);
      if (!image)
        return std::move(image).error();
      change.after = std::move(*image);
    }
    if (in.position() == row_start)
      return fail("row image with no columns present");
    ev.rows.push_back(std::move(change));
  }
  return ev;
}

} // namespace shoal::binlog
