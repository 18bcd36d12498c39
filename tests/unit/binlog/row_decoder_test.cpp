// Column values decoded from hand-made bytes, one test per type family, at the edges.
#include "actors/binlog/decoder/row_decoder.hpp"

#include <cstring>
#include <limits>

#include <gtest/gtest.h>

#include "actors/binlog/decoder/event_type.hpp"

namespace shoal::binlog {
namespace {

using bytes = std::vector<uint8_t>;

column_def col(column_type type, uint32_t length = 0) {
  column_def c;
  c.type = c.real_type = static_cast<uint8_t>(type);
  c.length = length;
  return c;
}

column_value decode(const column_def& c, const bytes& in, bool is_unsigned = false) {
  byte_reader r{in.data(), in.size()};
  auto v = decode_column(r, c, is_unsigned);
  EXPECT_TRUE(v) << (v ? "" : v.error().what);
  EXPECT_TRUE(r.at_end()) << "left " << r.remaining() << " bytes";
  return v ? *v : column_value{null_value{}};
}

std::string fails(const column_def& c, const bytes& in) {
  byte_reader r{in.data(), in.size()};
  auto v = decode_column(r, c, false);
  return v ? "decoded" : v.error().what;
}

template <class T> T as(const column_value& v) {
  EXPECT_TRUE(std::holds_alternative<T>(v)) << "holds index " << v.index();
  return std::holds_alternative<T>(v) ? std::get<T>(v) : T{};
}

TEST(column_decoding, integers_at_their_limits) {
  EXPECT_EQ(as<int64_t>(decode(col(column_type::tiny), {0x80})), -128);
  EXPECT_EQ(as<int64_t>(decode(col(column_type::tiny), {0x7f})), 127);
  EXPECT_EQ(as<uint64_t>(decode(col(column_type::tiny), {0xff}, true)), 255u);
  EXPECT_EQ(as<int64_t>(decode(col(column_type::short_), {0x00, 0x80})), -32768);
  EXPECT_EQ(as<uint64_t>(decode(col(column_type::short_), {0xff, 0xff}, true)), 65535u);
  EXPECT_EQ(as<int64_t>(decode(col(column_type::int24), {0x00, 0x00, 0x80})), -8388608);
  EXPECT_EQ(as<int64_t>(decode(col(column_type::int24), {0xff, 0xff, 0xff})), -1);
  EXPECT_EQ(as<uint64_t>(decode(col(column_type::int24), {0xff, 0xff, 0xff}, true)),
            16777215u);
  EXPECT_EQ(as<int64_t>(decode(col(column_type::long_), {0, 0, 0, 0x80})),
            std::numeric_limits<int32_t>::min());
  EXPECT_EQ(as<uint64_t>(decode(col(column_type::long_), {0xff, 0xff, 0xff, 0xff}, true)),
            4294967295u);
  EXPECT_EQ(as<int64_t>(decode(col(column_type::longlong), {0, 0, 0, 0, 0, 0, 0, 0x80})),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(as<int64_t>(decode(col(column_type::longlong),
                               {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(as<uint64_t>(decode(col(column_type::longlong), bytes(8, 0xff), true)),
            std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(fails(col(column_type::long_), {1, 2, 3}), "truncated LONG value");
}

TEST(column_decoding, decimals_are_exact_strings) {
  auto dec = [](uint8_t p, uint8_t s) {
    auto c = col(column_type::newdecimal);
    c.precision = p;
    c.scale = s;
    return c;
  };
  // 1234.5600 in DECIMAL(10,4): 6 integer digits in 3 bytes, 4 fraction digits in 2.
  EXPECT_EQ(as<decimal_value>(decode(dec(10, 4), {0x80, 0x04, 0xd2, 0x15, 0xe0})).text,
            "1234.5600");
  // Negative: every byte inverted.
  EXPECT_EQ(as<decimal_value>(decode(dec(10, 4), {0x7f, 0xfb, 0x2d, 0xea, 0x1f})).text,
            "-1234.5600");
  EXPECT_EQ(as<decimal_value>(decode(dec(4, 2), {0x7f, 0xcd})).text, "-0.50");
  EXPECT_EQ(as<decimal_value>(decode(dec(4, 2), {0x80, 0x00})).text, "0.00");
  // DECIMAL(20,10): a 1-digit leading group, a full 9-digit group on each side.
  EXPECT_EQ(as<decimal_value>(decode(dec(20, 10), {0x81, 0x0d, 0xfb, 0x38, 0xd2, 0x00,
                                                   0x00, 0x00, 0x00, 0x01}))
                .text,
            "1234567890.0000000001");
  // DECIMAL(65,0) of all nines, the widest there is.
  bytes nines{0x80 | 0x63}; // 65 = 2 + 7 * 9 digits; the leading 99 takes one byte
  for (int i = 0; i < 7; ++i)
    nines.insert(nines.end(), {0x3b, 0x9a, 0xc9, 0xff}); // 999999999
  EXPECT_EQ(as<decimal_value>(decode(dec(65, 0), nines)).text, std::string(65, '9'));
  // A group of 9 digits holding 10^9 is corrupt.
  EXPECT_EQ(fails(dec(9, 0), {0xbb, 0x9a, 0xca, 0x00}),
            "DECIMAL digit group out of range");
}

TEST(column_decoding, floats) {
  float f = -1.5f;
  double d = 1e300;
  bytes fb(4), db(8);
  std::memcpy(fb.data(), &f, 4);
  std::memcpy(db.data(), &d, 8);
  EXPECT_EQ(as<float>(decode(col(column_type::float_, 4), fb)), -1.5f);
  EXPECT_EQ(as<double>(decode(col(column_type::double_, 8), db)), 1e300);
}

TEST(column_decoding, dates_and_years) {
  auto zero = as<date_value>(decode(col(column_type::date), {0, 0, 0}));
  EXPECT_EQ(zero.year, 0);
  EXPECT_EQ(zero.month, 0);
  EXPECT_EQ(zero.day, 0);
  // 2024-02-29 = 2024 << 9 | 2 << 5 | 29 = 0x0fd05d
  auto leap = as<date_value>(decode(col(column_type::date), {0x5d, 0xd0, 0x0f}));
  EXPECT_EQ(to_string(column_value{leap}), "'2024-02-29'");
  EXPECT_EQ(as<year_value>(decode(col(column_type::year), {0})).year, 0);
  EXPECT_EQ(as<year_value>(decode(col(column_type::year), {255})).year, 2155);
  EXPECT_EQ(as<year_value>(decode(col(column_type::year), {1})).year, 1901);
}

TEST(column_decoding, time2_negative_with_fractions) {
  // -00:00:01.5 with 1 fractional digit: integer part -2, fraction byte -50 (0xce).
  auto t = as<time_value>(decode(col(column_type::time2, 1), {0x7f, 0xff, 0xfe, 0xce}));
  EXPECT_EQ(to_string(column_value{t}), "'-00:00:01.500000'");
  // -838:59:59, the minimum, without fraction.
  auto min = as<time_value>(decode(col(column_type::time2, 0), {0x4b, 0x91, 0x05}));
  EXPECT_EQ(to_string(column_value{min}), "'-838:59:59'");
  // -00:00:00.000001 with 6 digits: 48-bit value 0x800000000000 - 1.
  auto tiny = as<time_value>(
      decode(col(column_type::time2, 6), {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(to_string(column_value{tiny}), "'-00:00:00.000001'");
  // 12:34:56.789012 with 6 digits.
  uint64_t hms = (12 << 12) | (34 << 6) | 56;
  uint64_t stored = (hms << 24) + 789012 + 0x800000000000ull;
  bytes b;
  for (int i = 5; i >= 0; --i)
    b.push_back(static_cast<uint8_t>(stored >> (8 * i)));
  EXPECT_EQ(to_string(decode(col(column_type::time2, 6), b)), "'12:34:56.789012'");
  // -01:00:00.25 with 2 digits: integer part -(1h)-1, fraction 100-25 = 75 -> -25.
  int64_t neg_int = -static_cast<int64_t>(1 << 12) - 1 + 0x800000;
  auto t2 =
      decode(col(column_type::time2, 2),
             {static_cast<uint8_t>(neg_int >> 16), static_cast<uint8_t>(neg_int >> 8),
              static_cast<uint8_t>(neg_int), static_cast<uint8_t>(256 - 25)});
  EXPECT_EQ(to_string(t2), "'-01:00:00.250000'");
  // -00:00:01.5 with 4 digits: fraction 2 bytes, -5000 -> 0x10000 - 5000.
  auto t4 = decode(col(column_type::time2, 4),
                   {0x7f, 0xff, 0xfe, static_cast<uint8_t>((0x10000 - 5000) >> 8),
                    static_cast<uint8_t>(0x10000 - 5000)});
  EXPECT_EQ(to_string(t4), "'-00:00:01.500000'");
}

TEST(column_decoding, old_time_and_datetime) {
  // TIME: -12:34:56 stored as the 3-byte integer -123456.
  int32_t v = -123456;
  auto t = decode(col(column_type::time),
                  {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8),
                   static_cast<uint8_t>(v >> 16)});
  EXPECT_EQ(to_string(t), "'-12:34:56'");
  uint64_t dt = 20240229131415ull;
  bytes b;
  for (int i = 0; i < 8; ++i)
    b.push_back(static_cast<uint8_t>(dt >> (8 * i)));
  EXPECT_EQ(to_string(decode(col(column_type::datetime), b)), "'2024-02-29 13:14:15'");
}

bytes datetime2_bytes(uint64_t y, uint64_t mo, uint64_t d, uint64_t h, uint64_t mi,
                      uint64_t s) {
  uint64_t ymd = ((y * 13 + mo) << 5) | d;
  uint64_t hms = (h << 12) | (mi << 6) | s;
  uint64_t stored = ((ymd << 17) | hms) + 0x8000000000ull;
  bytes b;
  for (int i = 4; i >= 0; --i)
    b.push_back(static_cast<uint8_t>(stored >> (8 * i)));
  return b;
}

TEST(column_decoding, datetime2_and_timestamp2_with_every_precision) {
  EXPECT_EQ(to_string(decode(col(column_type::datetime2, 0), {0x80, 0, 0, 0, 0})),
            "'0000-00-00 00:00:00'");
  EXPECT_EQ(to_string(decode(col(column_type::datetime2, 0),
                             datetime2_bytes(9999, 12, 31, 23, 59, 59))),
            "'9999-12-31 23:59:59'");
  auto b = datetime2_bytes(2024, 2, 29, 13, 14, 15);
  b.insert(b.end(), {0x04, 0xce}); // .123 with 3 digits: 1230 hundreds of micros
  EXPECT_EQ(to_string(decode(col(column_type::datetime2, 3), b)),
            "'2024-02-29 13:14:15.123000'");
  auto b1 = datetime2_bytes(2024, 2, 29, 13, 14, 15);
  b1.push_back(50); // .5 with 1 digit
  EXPECT_EQ(to_string(decode(col(column_type::datetime2, 1), b1)),
            "'2024-02-29 13:14:15.500000'");
  auto b6 = datetime2_bytes(2024, 2, 29, 13, 14, 15);
  b6.insert(b6.end(), {0x0f, 0x42, 0x3f}); // 999999
  EXPECT_EQ(to_string(decode(col(column_type::datetime2, 6), b6)),
            "'2024-02-29 13:14:15.999999'");
  for (uint32_t fsp = 0; fsp <= 6; ++fsp) {
    bytes t{0x7f, 0xff, 0xff, 0xff}; // 2038-01-19 03:14:07 UTC
    for (uint32_t i = 0; i < (fsp + 1) / 2; ++i)
      t.push_back(0);
    auto v = as<timestamp_value>(decode(col(column_type::timestamp2, fsp), t));
    EXPECT_EQ(v.seconds, 2147483647u) << fsp;
    EXPECT_EQ(v.micros, 0u);
  }
  auto frac = as<timestamp_value>(
      decode(col(column_type::timestamp2, 6), {0, 0, 0, 1, 0x0f, 0x42, 0x3f}));
  EXPECT_EQ(frac.seconds, 1u);
  EXPECT_EQ(frac.micros, 999999u);
  EXPECT_EQ(
      as<timestamp_value>(decode(col(column_type::timestamp), {0, 0, 0, 0})).seconds, 0u);
}

TEST(column_decoding, strings_keep_their_bytes) {
  // VARCHAR(100) utf8mb4: 400 bytes max, so a 2-byte length prefix; a 4-byte character.
  auto v = as<bytes_value>(
      decode(col(column_type::varchar, 400), {4, 0, 0xf0, 0x9f, 0x98, 0x80}));
  EXPECT_EQ(v.bytes, "\xf0\x9f\x98\x80");
  EXPECT_EQ(as<bytes_value>(decode(col(column_type::varchar, 255), {0})).bytes, "");
  // BINARY keeps zero bytes.
  auto bin = as<bytes_value>(decode(col(column_type::string, 4), {3, 0, 'a', 0}));
  EXPECT_EQ(bin.bytes, std::string("\0a\0", 3));
  // CHAR longer than 255 bytes uses a 2-byte length.
  bytes long_char{0x2c, 0x01};
  long_char.insert(long_char.end(), 300, 'x');
  EXPECT_EQ(as<bytes_value>(decode(col(column_type::string, 400), long_char)).bytes,
            std::string(300, 'x'));
  EXPECT_EQ(fails(col(column_type::varchar, 10), {5, 'a'}), "truncated VARCHAR value");
}

TEST(column_decoding, blobs_of_every_size) {
  for (uint32_t width = 1; width <= 4; ++width) {
    bytes b(width, 0);
    b[0] = 3;
    b.insert(b.end(), {'a', 0, 'c'});
    EXPECT_EQ(as<bytes_value>(decode(col(column_type::blob, width), b)).bytes,
              std::string("a\0c", 3));
  }
  EXPECT_EQ(fails(col(column_type::blob, 4), {0xff, 0xff, 0xff, 0xff, 'a'}),
            "truncated BLOB value");
  auto geo = as<bytes_value>(decode(col(column_type::geometry, 4), {2, 0, 0, 0, 1, 2}));
  EXPECT_EQ(geo.bytes, "\x01\x02");
}

TEST(column_decoding, enum_set_and_bit) {
  auto e = col(column_type::string, 2);
  e.real_type = static_cast<uint8_t>(column_type::enum_);
  EXPECT_EQ(as<enum_value>(decode(e, {0x01, 0x01})).index, 257);
  auto s = col(column_type::string, 8);
  s.real_type = static_cast<uint8_t>(column_type::set);
  EXPECT_EQ(as<set_value>(decode(s, bytes(8, 0xff))).bits,
            std::numeric_limits<uint64_t>::max());
  auto bit64 = col(column_type::bit);
  bit64.precision = 64;
  auto b = as<bit_value>(decode(bit64, bytes(8, 0xff)));
  EXPECT_EQ(b.bits, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(b.width, 64);
  auto bit1 = col(column_type::bit);
  bit1.precision = 1;
  EXPECT_EQ(to_string(decode(bit1, {1})), "b'1'");
  auto bit10 = col(column_type::bit);
  bit10.precision = 10;
  EXPECT_EQ(to_string(decode(bit10, {0x02, 0x01})), "b'1000000001'"); // big-endian
}

TEST(column_decoding, mysql_json_becomes_text) {
  auto j = col(column_type::json, 4);
  // A literal true document: type 0x04, value 0x01.
  EXPECT_EQ(as<json_value>(decode(j, {2, 0, 0, 0, 0x04, 0x01})).text, "true");
  EXPECT_EQ(as<json_value>(decode(j, {0, 0, 0, 0})).text, "null");
  EXPECT_NE(fails(j, {2, 0, 0, 0, 0x00, 0x01}).find("invalid binary JSON"),
            std::string::npos);
}

TEST(column_decoding, unsupported_types_fail_with_their_name) {
  EXPECT_EQ(fails(col(column_type::decimal), {0}),
            "pre-5.0 DECIMAL columns are not supported");
  column_def vector;
  vector.type = vector.real_type = 242;
  EXPECT_EQ(fails(vector, {0}), "unsupported column type TYPE(242)");
}

// -- whole rows events ----------------------------------------------------------

std::shared_ptr<const table_map> two_column_table() {
  auto map = std::make_shared<table_map>();
  map->table_id = 7;
  map->schema = "db";
  map->table = "t";
  map->columns = {col(column_type::long_), col(column_type::varchar, 20)};
  map->columns[1].nullable = true;
  return map;
}

TEST(rows_decoding, minimal_update_image_marks_absent_columns) {
  // UPDATE_ROWS_EVENT_V1: table id 7, flags STMT_END_F, width 2, before image has
  // column 0 only (the key), after image column 1 only (what changed).
  bytes body{7,    0,    0,    0,    0,  0, 1, 0,
             2,    0b01, 0b10, 0x00, 42, 0, 0, 0, // before: no NULLs, id = 42
             0x00, 2,    'h',  'i',               // after: no NULLs, name = "hi"
             0x00, 43,   0,    0,    0,           // second row: id = 43
             0x01};                               // after: name is NULL
  auto ev = decode_rows({reinterpret_cast<const char*>(body.data()), body.size()},
                        static_cast<uint8_t>(event_type::update_rows_v1), 8,
                        two_column_table(), {{false, false}, {}});
  ASSERT_TRUE(ev) << ev.error().what;
  EXPECT_EQ(ev->kind, row_kind::update);
  EXPECT_TRUE(ev->end_of_statement());
  ASSERT_EQ(ev->rows.size(), 2u);
  auto& first = ev->rows[0];
  EXPECT_EQ(first.before.present, (std::vector<bool>{true, false}));
  EXPECT_EQ(first.after.present, (std::vector<bool>{false, true}));
  EXPECT_EQ(as<int64_t>(first.before.values[0]), 42);
  EXPECT_EQ(as<bytes_value>(first.after.values[1]).bytes, "hi");
  EXPECT_TRUE(std::holds_alternative<null_value>(ev->rows[1].after.values[1]));
  EXPECT_TRUE(ev->rows[1].after.present[1]);
}

TEST(rows_decoding, v2_write_with_extra_data_and_a_failing_column) {
  // WRITE_ROWS_EVENT (v2): extra data length 4 (2 bytes of payload), width 2.
  bytes body{7,    0, 0,    0,    0,    0,    1,    0,    4, 0,  0xaa,
             0xbb, 2, 0b11, 0x00, 0xff, 0xff, 0xff, 0xff, 1, 'x'};
  auto ev = decode_rows({reinterpret_cast<const char*>(body.data()), body.size()},
                        static_cast<uint8_t>(event_type::write_rows_v2), 10,
                        two_column_table(), {{true, false}, {}});
  ASSERT_TRUE(ev) << ev.error().what;
  ASSERT_EQ(ev->rows.size(), 1u);
  EXPECT_EQ(as<uint64_t>(ev->rows[0].after.values[0]), 4294967295u);
  EXPECT_EQ(as<bytes_value>(ev->rows[0].after.values[1]).bytes, "x");
  // Cut inside column 1's value: the error names column 1.
  body.pop_back();
  auto cut = decode_rows({reinterpret_cast<const char*>(body.data()), body.size()},
                         static_cast<uint8_t>(event_type::write_rows_v2), 10,
                         two_column_table(), {{true, false}, {}});
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().column, std::optional<uint32_t>{1});
}

TEST(rows_decoding, fixed_binary_strings_get_their_trailing_zero_bytes_back) {
  // BINARY(4), CHAR(4) and VARBINARY(4), each holding "a" as the server writes it
  // (BINARY 'a\0\0\0' and CHAR 'a   ' lose their trailing pad).
  auto map = std::make_shared<table_map>();
  map->table_id = 7;
  map->columns = {col(column_type::string, 4), col(column_type::string, 4),
                  col(column_type::varchar, 4)};
  bytes body{7, 0, 0, 0, 0, 0, 1, 0, 3, 0b111, 0x00, 1, 'a', 1, 'a', 1, 'a'};
  std::string_view view{reinterpret_cast<const char*>(body.data()), body.size()};
  auto type = static_cast<uint8_t>(event_type::write_rows_v1);
  column_hints hints;
  hints.fixed_binary = {true, false, true}; // only read for STRING columns
  auto ev = decode_rows(view, type, 8, map, hints);
  ASSERT_TRUE(ev) << ev.error().what;
  auto& values = ev->rows.at(0).after.values;
  EXPECT_EQ(as<bytes_value>(values[0]).bytes, std::string("a\0\0\0", 4));
  EXPECT_EQ(as<bytes_value>(values[1]).bytes, "a");
  EXPECT_EQ(as<bytes_value>(values[2]).bytes, "a");
  // Unknown (no entry): written as is.
  auto unknown = decode_rows(view, type, 8, map, {});
  ASSERT_TRUE(unknown) << unknown.error().what;
  EXPECT_EQ(as<bytes_value>(unknown->rows.at(0).after.values[0]).bytes, "a");
}

TEST(rows_decoding, more_columns_than_the_table_map_is_an_error) {
  bytes body{7, 0, 0, 0, 0, 0, 1, 0, 3, 0b111, 0};
  auto ev = decode_rows({reinterpret_cast<const char*>(body.data()), body.size()},
                        static_cast<uint8_t>(event_type::write_rows_v1), 8,
                        two_column_table(), {});
  ASSERT_FALSE(ev);
  EXPECT_EQ(ev.error().what, "rows event has 3 columns, TABLE_MAP 2");
}

TEST(rows_decoding, fewer_columns_than_the_table_map_is_an_error) {
  // Width 1 against a 2-column TABLE_MAP: images would hold one value where readers
  // of the row index two.
  bytes body{7, 0, 0, 0, 0, 0, 1, 0, 1, 0b1, 0x00, 42, 0, 0, 0};
  auto ev = decode_rows({reinterpret_cast<const char*>(body.data()), body.size()},
                        static_cast<uint8_t>(event_type::write_rows_v1), 8,
                        two_column_table(), {});
  ASSERT_FALSE(ev);
  EXPECT_EQ(ev.error().what, "rows event has 1 columns, TABLE_MAP 2");
}

} // namespace
} // namespace shoal::binlog
