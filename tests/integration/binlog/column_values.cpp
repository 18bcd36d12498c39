#include "tests/integration/binlog/column_values.hpp"

#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace shoal::test {

namespace {

constexpr uint64_t max_u64 = ~uint64_t{0};

std::string hex_of(const std::string& bytes) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  char buf[256];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}

std::string nines(int fsp) {
  return fsp > 0 ? "." + std::string(static_cast<size_t>(fsp), '9') : "";
}

std::string smallest(int fsp) {
  return fsp > 0 ? "." + std::string(static_cast<size_t>(fsp) - 1, '0') + "1" : "";
}

const std::vector<std::string>& alphabet(const std::string& charset) {
  static const std::vector<std::string> latin1{
      "a",        "b", "Z", "0",  "\xc3\xa9", "\xc3\xbf", "\xc3\x9f",
      "\xc3\x84", " ", "'", "\\", "\"",       "%",        "_"};
  static const std::vector<std::string> ascii{"a", "b", "x", "Y", "0", " ", "'", "\\"};
  static const std::vector<std::string> unicode{"a",
                                                "z",
                                                "Q",
                                                "7",
                                                " ",
                                                "\xc3\xbc",
                                                "'",
                                                "\xe2\x82\xac",
                                                "\xe4\xb8\xad",
                                                "\\",
                                                "\xf0\x9f\x98\x80",
                                                "\xf0\x9d\x84\x9e",
                                                "\"",
                                                "\xc3\x9f",
                                                "\xc2\xa0",
                                                "\xf0\x9f\x90\x9f"};
  if (charset == "latin1")
    return latin1;
  if (charset == "ascii")
    return ascii;
  return unicode;
}

} // namespace

std::string text_literal(const std::string& utf8) {
  return "_utf8mb4 X'" + hex_of(utf8) + "'";
}

std::string bytes_literal(const std::string& bytes) {
  return "X'" + hex_of(bytes) + "'";
}

std::string column_values::of(const column_spec& c) {
  if (c.nullable() && rnd_.percent(6))
    return "NULL";
  switch (c.kind) {
  case column_kind::integer:
    return integer_value(c);
  case column_kind::decimal:
    return decimal_value(c.size, c.scale, c.is_unsigned());
  case column_kind::floating:
    return float_value(c);
  case column_kind::real:
    return double_value(c);
  case column_kind::bit:
    return bit_value(c);
  case column_kind::date:
    return date(sloppy());
  case column_kind::time:
    return time_value(c.size);
  case column_kind::datetime:
    return datetime_value(c.size);
  case column_kind::timestamp:
    return timestamp_value(c.size);
  case column_kind::year:
    return year_value();
  case column_kind::chars:
    return chars_value(c);
  case column_kind::bytes:
    return bytes_value(c);
  case column_kind::enumeration:
    return enum_value();
  case column_kind::set_of_nine:
    return set9_value();
  case column_kind::set_of_64:
    return set64_value();
  case column_kind::json:
    return text_literal(json_value(0));
  case column_kind::geometry:
    return geometry_value();
  case column_kind::point:
    return "ST_PointFromText('POINT(" + coordinate() + " " + coordinate() + ")')";
  case column_kind::polygon:
    return "ST_PolygonFromText('" + polygon_text() + "')";
  case column_kind::inet4:
    return inet4_value();
  case column_kind::inet6:
    return inet6_value();
  case column_kind::uuid:
    return uuid_value();
  }
  return "NULL";
}

std::string column_values::integer_value(const column_spec& c) {
  int bits = c.size;
  if (c.is_unsigned()) {
    uint64_t max = bits == 64 ? max_u64 : (uint64_t{1} << bits) - 1;
    uint64_t half = uint64_t{1} << (bits - 1);
    if (sloppy())
      return rnd_.percent(50)
                 ? "-1"
                 : (bits == 64 ? "18446744073709551616" : std::to_string(max + 1));
    switch (rnd_.below(9)) {
    case 0:
      return "0";
    case 1:
      return std::to_string(max);
    case 2:
      return std::to_string(half);
    case 3:
      return std::to_string(half - 1);
    case 4:
      return std::to_string(half + 1);
    case 5:
      return std::to_string(max - 1);
    case 6:
    case 7:
      return std::to_string(half + rnd_.bits() % half);
    default:
      return std::to_string(rnd_.bits() & max);
    }
  }
  int64_t max = bits == 64 ? INT64_MAX : (int64_t{1} << (bits - 1)) - 1;
  int64_t min = -max - 1;
  if (sloppy()) {
    if (bits == 64)
      return rnd_.percent(50) ? "9223372036854775808" : "-9223372036854775809";
    return std::to_string(rnd_.percent(50) ? max + 1 : min - 1);
  }
  switch (rnd_.below(8)) {
  case 0:
    return "0";
  case 1:
    return std::to_string(max);
  case 2:
    return std::to_string(min);
  case 3:
    return "-1";
  case 4:
    return "1";
  case 5:
    return std::to_string(min + 1);
  default: {
    auto v = static_cast<int64_t>(rnd_.bits() & static_cast<uint64_t>(max));
    return std::to_string(rnd_.percent(50) ? -v - 1 : v);
  }
  }
}

std::string column_values::digits(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i)
    out += static_cast<char>('0' + rnd_.below(10));
  return out;
}

std::string column_values::decimal_value(int precision, int scale, bool is_unsigned) {
  auto whole_digits = static_cast<size_t>(precision - scale);
  auto frac_digits = static_cast<size_t>(scale);
  bool negative = !is_unsigned && rnd_.percent(40);
  std::string whole;
  std::string frac;
  switch (rnd_.below(6)) {
  case 0:
    whole = "0";
    break;
  case 1:
    whole = std::string(whole_digits, '9');
    frac = std::string(frac_digits, '9');
    break;
  case 2:
    if (frac_digits > 0)
      frac = std::string(frac_digits - 1, '0') + "1";
    else
      whole = "1";
    break;
  default:
    whole = digits(rnd_.below(whole_digits + 1));
    frac = digits(rnd_.below(frac_digits + 1));
  }
  if (sloppy()) {
    if (rnd_.percent(50))
      frac += "5";
    else
      whole = "1" + std::string(whole_digits, '0');
    negative = negative || rnd_.percent(30);
  }
  if (whole.empty())
    whole = "0";
  return (negative ? "-" : "") + whole + (frac.empty() ? "" : "." + frac);
}

std::string column_values::float_value(const column_spec& c) {
  if (c.size > 0)
    return decimal_value(c.size, c.scale, c.is_unsigned());
  if (sloppy())
    return rnd_.percent(50) ? "3.5e38" : "-1e39";
  static const std::vector<std::string> edges{"0",
                                              "-0e0",
                                              "3.4028234e38",
                                              "-3.4028234e38",
                                              "1.17549435e-38",
                                              "1.4e-45",
                                              "-1.17549435e-38",
                                              "16777217",
                                              "0.1e0",
                                              "1e10"};
  if (rnd_.percent(40))
    return rnd_.pick(edges);
  auto mantissa = static_cast<double>(rnd_.bits() & 0xffffff);
  auto v = std::ldexp(mantissa, static_cast<int>(rnd_.between(-149, 104)));
  return format("%.9e", rnd_.percent(50) ? -v : v);
}

std::string column_values::double_value(const column_spec& c) {
  if (c.size > 0)
    return decimal_value(c.size, c.scale, c.is_unsigned());
  static const std::vector<std::string> edges{"0",
                                              "-0e0",
                                              "1.7976931348623157e308",
                                              "-1.7976931348623157e308",
                                              "2.2250738585072014e-308",
                                              "4.9406564584124654e-324",
                                              "-4.9406564584124654e-324",
                                              "0.1e0",
                                              "0.30000000000000004e0",
                                              "123456789.123456789e0",
                                              "9007199254740993e0"};
  if (rnd_.percent(40))
    return rnd_.pick(edges);
  for (;;) {
    auto raw = rnd_.bits();
    double v;
    std::memcpy(&v, &raw, sizeof v);
    if (std::isfinite(v))
      return format("%.17e", v);
  }
}

std::string column_values::bit_value(const column_spec& c) {
  int n = c.size;
  uint64_t mask = n == 64 ? max_u64 : (uint64_t{1} << n) - 1;
  if (n < 64 && sloppy())
    return std::to_string(mask + 1 + (rnd_.bits() & mask));
  uint64_t v = 0;
  switch (rnd_.below(5)) {
  case 0:
    v = 0;
    break;
  case 1:
    v = mask;
    break;
  case 2:
    v = uint64_t{1} << (n - 1);
    break;
  default:
    v = rnd_.bits() & mask;
  }
  if (rnd_.percent(50))
    return std::to_string(v);
  std::string binary;
  for (int i = n - 1; i >= 0; --i)
    binary += (v >> i) & 1 ? '1' : '0';
  return "b'" + binary + "'";
}

std::string column_values::fraction(int fsp) {
  return fsp > 0 ? "." + digits(static_cast<size_t>(fsp)) : "";
}

std::string column_values::random_date() {
  return format("%04d-%02d-%02d", static_cast<int>(rnd_.between(1, 9999)),
                static_cast<int>(rnd_.between(1, 12)),
                static_cast<int>(rnd_.between(1, 28)));
}

std::string column_values::date(bool invalid) {
  if (invalid)
    return rnd_.percent(50) ? "'2023-02-30'" : "'2023-13-01'";
  static const std::vector<std::string> edges{
      "'0000-00-00'", "'2024-00-00'", "'2024-02-00'", "'1000-01-01'",
      "'9999-12-31'", "'0001-01-01'", "'2024-02-29'"};
  if (rnd_.percent(40))
    return rnd_.pick(edges);
  return "'" + random_date() + "'";
}

std::string column_values::time_value(int fsp) {
  if (sloppy())
    return rnd_.percent(50) ? "'839:00:00'" : "'12:00:00" + fraction(fsp + 2) + "'";
  switch (rnd_.below(6)) {
  case 0:
    return "'-838:59:59" + nines(fsp) + "'";
  case 1:
    return "'838:59:59" + nines(fsp) + "'";
  case 2:
    return "'00:00:00'";
  case 3:
    return "'-00:00:00" + (fsp > 0 ? smallest(fsp) : ".0") + "'";
  default:
    return format("'%s%d:%02d:%02d", rnd_.percent(30) ? "-" : "",
                  static_cast<int>(rnd_.between(0, 838)),
                  static_cast<int>(rnd_.between(0, 59)),
                  static_cast<int>(rnd_.between(0, 59))) +
           fraction(fsp) + "'";
  }
}

std::string column_values::clock() {
  return format("%02d:%02d:%02d", static_cast<int>(rnd_.between(0, 23)),
                static_cast<int>(rnd_.between(0, 59)),
                static_cast<int>(rnd_.between(0, 59)));
}

std::string column_values::datetime_value(int fsp) {
  if (sloppy())
    return "'2023-02-30 10:00:00'";
  switch (rnd_.below(7)) {
  case 0:
    return "'0000-00-00 00:00:00'";
  case 1:
    return "'1000-01-01 00:00:00" + smallest(fsp) + "'";
  case 2:
    return "'9999-12-31 23:59:59" + nines(fsp) + "'";
  case 3:
    return "'0001-01-01 00:00:00'";
  case 4:
    return "'2024-00-00 " + clock() + fraction(fsp) + "'";
  default:
    return "'" + random_date() + " " + clock() + fraction(fsp) + "'";
  }
}

// FROM_UNIXTIME names an instant in the session's time zone (not UTC in the
// test), which the server stores as UTC.
std::string column_values::timestamp_value(int fsp) {
  if (sloppy())
    return "'1969-06-01 00:00:00'";
  switch (rnd_.below(5)) {
  case 0:
    return "'0000-00-00 00:00:00'";
  case 1:
    return "FROM_UNIXTIME(1" + smallest(fsp) + ")";
  case 2:
    return "FROM_UNIXTIME(2147483647" + nines(fsp) + ")";
  default:
    return "FROM_UNIXTIME(" + std::to_string(rnd_.between(1, 2147483646)) +
           fraction(fsp) + ")";
  }
}

std::string column_values::year_value() {
  if (sloppy())
    return rnd_.percent(50) ? "1900" : "2156";
  static const std::vector<std::string> edges{"0",    "'0'", "'00'", "1901", "2155",
                                              "2000", "69",  "70",   "'99'"};
  if (rnd_.percent(50))
    return rnd_.pick(edges);
  return std::to_string(rnd_.between(1901, 2155));
}

size_t column_values::length_for(size_t max, bool big, size_t big_from, size_t big_to) {
  if (big && big_budget_ > 0 && (force_big_ || rnd_.percent(3))) {
    --big_budget_;
    return std::min(max, static_cast<size_t>(rnd_.between(static_cast<int64_t>(big_from),
                                                          static_cast<int64_t>(big_to))));
  }
  if (max <= 300)
    return rnd_.below(max + 1);
  auto r = rnd_.below(100);
  if (r < 10)
    return 0;
  if (r < 70)
    return rnd_.below(60);
  return rnd_.below(std::min<size_t>(max, 3000));
}

std::string column_values::chars_value(const column_spec& c) {
  auto max = static_cast<size_t>(c.size);
  auto n = length_for(max, c.big, 20000, 80000);
  bool too_long = max <= 300 && sloppy();
  if (too_long)
    n = max + static_cast<size_t>(rnd_.between(1, 5));
  auto& letters = alphabet(c.charset());
  std::string text;
  for (size_t i = 0; i < n; ++i)
    text += rnd_.pick(letters);
  if (!too_long && rnd_.percent(30)) {
    auto spaces = std::min<size_t>(max - std::min(max, n), rnd_.between(1, 3));
    text += std::string(spaces, ' ');
  }
  return text_literal(text);
}

std::string column_values::random_bytes(size_t n) {
  std::string out;
  out.reserve(n + 8);
  while (out.size() < n) {
    auto v = rnd_.bits();
    for (int i = 0; i < 8 && out.size() < n; ++i)
      out += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  return out;
}

std::string column_values::bytes_value(const column_spec& c) {
  auto max = static_cast<size_t>(c.size);
  auto n = length_for(max, c.big, 100000, 400000);
  bool too_long = max <= 300 && sloppy();
  if (too_long)
    n = max + static_cast<size_t>(rnd_.between(1, 3));
  auto bytes = random_bytes(n);
  if (!too_long && n < max && rnd_.percent(40)) {
    auto tail = std::min<size_t>(max - n, rnd_.between(1, 3));
    bytes += std::string(tail, rnd_.percent(75) ? '\0' : ' ');
  }
  return bytes_literal(bytes);
}

std::string column_values::enum_value() {
  if (sloppy())
    return "'nope'";
  static const std::vector<std::string> members{"small", "medium", "large", "x-large",
                                                "\xc3\xbc"};
  if (rnd_.percent(25))
    return std::to_string(rnd_.between(1, 5));
  return text_literal(rnd_.pick(members));
}

std::string column_values::set9_value() {
  if (sloppy())
    return "'a,zz'";
  if (rnd_.percent(20))
    return std::to_string(rnd_.below(512));
  std::string out;
  for (int i = 0, n = static_cast<int>(rnd_.below(5)); i < n; ++i)
    out += std::string(out.empty() ? "" : ",") + static_cast<char>('a' + rnd_.below(9));
  return "'" + out + "'";
}

std::string column_values::set64_value() {
  switch (rnd_.below(4)) {
  case 0:
    return "18446744073709551615";
  case 1:
    return std::to_string(rnd_.bits());
  default: {
    std::string out;
    for (int i = 0, n = static_cast<int>(rnd_.below(6)); i < n; ++i)
      out += (out.empty() ? "m" : ",m") + std::to_string(rnd_.below(64));
    return "'" + out + "'";
  }
  }
}

std::string column_values::json_string() {
  static const std::vector<std::string> letters{
      "a",   "Z",       " ", "\\\"", "\\\\", "\xc3\xbc", "\xf0\x9f\x98\x80",
      "\\n", "\\u00e9", "/"};
  std::string out = "\"";
  for (int i = 0, n = static_cast<int>(rnd_.below(12)); i < n; ++i)
    out += rnd_.pick(letters);
  return out + "\"";
}

std::string column_values::json_value(int depth) {
  static const std::vector<std::string> scalars{"null",
                                                "true",
                                                "false",
                                                "0",
                                                "-0",
                                                "1.5e300",
                                                "18446744073709551615",
                                                "-9223372036854775808",
                                                "3.14159",
                                                "-1e-300",
                                                "12345678901234567890123"};
  auto r = rnd_.below(depth >= 3 ? 2 : 4);
  if (r == 0)
    return rnd_.pick(scalars);
  if (r == 1)
    return json_string();
  std::string out = r == 2 ? "[" : "{";
  for (int i = 0, n = static_cast<int>(rnd_.below(4)); i < n; ++i) {
    if (i)
      out += ", ";
    if (r == 3)
      out += "\"k" + std::to_string(i) + "\": ";
    out += json_value(depth + 1);
  }
  return out + (r == 2 ? "]" : "}");
}

std::string column_values::coordinate() {
  static const std::vector<std::string> edges{"0", "-0.5", "10000000000", "-180",
                                              "90.25"};
  if (rnd_.percent(20))
    return rnd_.pick(edges);
  return format("%.17g", static_cast<double>(rnd_.between(-1000000, 1000000)) / 1024.0);
}

std::string column_values::polygon_text() {
  auto x = static_cast<double>(rnd_.between(-1000, 1000));
  auto y = static_cast<double>(rnd_.between(-1000, 1000));
  auto w = static_cast<double>(rnd_.between(4, 100));
  auto ring = format("(%g %g,%g %g,%g %g,%g %g,%g %g)", x, y, x + w, y, x + w, y + w, x,
                     y + w, x, y);
  if (rnd_.percent(40))
    ring += format(",(%g %g,%g %g,%g %g,%g %g)", x + 1, y + 1, x + 2, y + 1, x + 2, y + 2,
                   x + 1, y + 1);
  return "POLYGON(" + ring + ")";
}

std::string column_values::geometry_value() {
  std::string wkt;
  switch (rnd_.below(5)) {
  case 0:
    wkt = "POINT(" + coordinate() + " " + coordinate() + ")";
    break;
  case 1:
    wkt = "LINESTRING(" + coordinate() + " " + coordinate() + "," + coordinate() + " " +
          coordinate() + ",0 0)";
    break;
  case 2:
    wkt = polygon_text();
    break;
  case 3:
    wkt = "MULTIPOINT(" + coordinate() + " " + coordinate() + ",1 1)";
    break;
  default:
    wkt = "GEOMETRYCOLLECTION(POINT(3 3),LINESTRING(0 0," + coordinate() + " 5))";
  }
  return "ST_GeomFromText('" + wkt + "'" + (rnd_.percent(20) ? ", 4326" : "") + ")";
}

std::string column_values::inet4_value() {
  static const std::vector<std::string> edges{"'0.0.0.0'", "'255.255.255.255'",
                                              "'10.0.0.0'", "'127.0.0.1'", "'1.2.3.0'"};
  if (rnd_.percent(40))
    return rnd_.pick(edges);
  auto v = rnd_.bits();
  return format("'%u.%u.%u.%u'", static_cast<unsigned>(v & 255),
                static_cast<unsigned>((v >> 8) & 255),
                static_cast<unsigned>((v >> 16) & 255),
                static_cast<unsigned>((v >> 24) & 255));
}

std::string column_values::inet6_value() {
  static const std::vector<std::string> edges{"'::'",
                                              "'::1'",
                                              "'1::'",
                                              "'fe80::'",
                                              "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'",
                                              "'::ffff:10.0.0.0'",
                                              "'2001:db8::ff00:42:8300'"};
  if (rnd_.percent(40))
    return rnd_.pick(edges);
  std::string out;
  auto zeros_from = rnd_.percent(40) ? rnd_.between(4, 7) : 8;
  for (int64_t i = 0; i < 8; ++i)
    out += format(i ? ":%x" : "%x",
                  i >= zeros_from ? 0u : static_cast<unsigned>(rnd_.below(65536)));
  return "'" + out + "'";
}

std::string column_values::uuid_text(uint32_t time_low, uint64_t node, bool last_zero) {
  static const std::vector<unsigned> versions{1, 4, 0};
  auto version = rnd_.pick(versions);
  auto variant = version == 0 ? static_cast<unsigned>(rnd_.below(8))
                              : 8 + static_cast<unsigned>(rnd_.below(4));
  if (last_zero)
    node &= ~uint64_t{0xff};
  return format("%08x-%04x-%x%03x-%x%03x-%012llx", time_low,
                static_cast<unsigned>(rnd_.below(65536)), version,
                static_cast<unsigned>(rnd_.below(4096)), variant,
                static_cast<unsigned>(rnd_.below(4096)),
                static_cast<unsigned long long>(node & 0xffffffffffffull));
}

std::string column_values::uuid_value() {
  static const std::vector<std::string> edges{
      "'00000000-0000-0000-0000-000000000000'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
      "'123e4567-e89b-42d3-a456-426614174000'", "'12345600-e89b-12d3-a456-426614174001'",
      "UUID()"};
  if (rnd_.percent(30))
    return rnd_.pick(edges);
  auto time_low = static_cast<uint32_t>(rnd_.bits());
  if (rnd_.percent(25))
    time_low &= ~uint32_t{0xff};
  return "'" + uuid_text(time_low, rnd_.bits(), rnd_.percent(40)) + "'";
}

std::string column_values::unique_uuid(uint64_t unique) {
  auto c = unique;
  auto time_low = static_cast<uint32_t>(rnd_.bits());
  if (rnd_.percent(25))
    time_low &= ~uint32_t{0xff};
  return "'" + uuid_text(time_low, (c << 8) | (1 + rnd_.below(255)), rnd_.percent(50)) +
         "'";
}

} // namespace shoal::test
