#include "tests/integration/binlog/random_workload.hpp"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <random>

namespace shoal::test {

namespace {

constexpr uint64_t max_u64 = ~uint64_t{0};
constexpr uint64_t two_63 = uint64_t{1} << 63;

// mt19937_64's output is fixed by the standard; the distributions are not, so
// every draw below is made from its raw output.
class seeded_random {
public:
  explicit seeded_random(uint64_t seed) : engine_(seed) {}

  uint64_t bits() { return engine_(); }

  /// In [0, n); 0 for n == 0.
  uint64_t below(uint64_t n) { return n == 0 ? 0 : engine_() % n; }

  /// In [lo, hi].
  int64_t between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
  }

  bool percent(unsigned p) { return below(100) < p; }

  template <class T> const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

private:
  std::mt19937_64 engine_;
};

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

/// A UTF-8 text as a literal the connection (utf8mb4) reads byte-exact and the
/// server converts to the column's character set.
std::string text_literal(const std::string& utf8) {
  return "_utf8mb4 X'" + hex_of(utf8) + "'";
}

std::string bytes_literal(const std::string& bytes) {
  return "X'" + hex_of(bytes) + "'";
}

std::string ident(const std::string& name) {
  return "`" + name + "`";
}

// -- the model ------------------------------------------------------------------

enum class kind {
  integer,
  decimal,
  floating,
  real,
  bit,
  date,
  time,
  datetime,
  timestamp,
  year,
  chars,
  bytes,
  enumeration,
  set_of_nine,
  set_of_64,
  json,
  geometry,
  point,
  polygon,
  inet4,
  inet6,
  uuid,
};

struct column_spec {
  std::string name;
  /// As in CREATE TABLE after the name.
  std::string type;
  kind k = kind::integer;
  /// integer, bit: bits; decimal and FLOAT(m,d)/DOUBLE(m,d): digits; temporal:
  /// fractional digits; chars: characters; bytes: bytes.
  int size = 0;
  /// Digits after the point of decimal and FLOAT(m,d)/DOUBLE(m,d).
  int scale = 0;
  /// May hold values of a few hundred KB.
  bool big = false;

  bool is_unsigned() const { return type.find("UNSIGNED") != std::string::npos; }
  bool nullable() const { return type.find("NOT NULL") == std::string::npos; }
  std::string charset() const {
    auto at = type.find("CHARACTER SET ");
    if (at == std::string::npos)
      return "utf8mb4";
    auto start = at + std::strlen("CHARACTER SET ");
    return type.substr(start, type.find_first_of(" ,)", start) - start);
  }
};

column_spec col(std::string name, std::string type, kind k, int size = 0, int scale = 0,
                bool big = false) {
  return column_spec{std::move(name), std::move(type), k, size, scale, big};
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
      : opts_(options), rnd_(options.seed), db_(ident(options.database)) {}

  workload run();

private:
  using step = workload_step;

  std::string qualified(const table_model& t) const { return db_ + "." + ident(t.name); }

  // -- values -------------------------------------------------------------------

  bool written(const std::string& table) const {
    return opts_.tables.empty() || std::find(opts_.tables.begin(), opts_.tables.end(),
                                             table) != opts_.tables.end();
  }

  bool sloppy() { return !opts_.strict && rnd_.percent(8); }

  std::string value(const column_spec& c) {
    if (c.nullable() && rnd_.percent(6))
      return "NULL";
    switch (c.k) {
    case kind::integer:
      return integer_value(c);
    case kind::decimal:
      return decimal_value(c.size, c.scale, c.is_unsigned());
    case kind::floating:
      return float_value(c);
    case kind::real:
      return double_value(c);
    case kind::bit:
      return bit_value(c);
    case kind::date:
      return date_value(sloppy());
    case kind::time:
      return time_value(c.size);
    case kind::datetime:
      return datetime_value(c.size);
    case kind::timestamp:
      return timestamp_value(c.size);
    case kind::year:
      return year_value();
    case kind::chars:
      return chars_value(c);
    case kind::bytes:
      return bytes_value(c);
    case kind::enumeration:
      return enum_value();
    case kind::set_of_nine:
      return set9_value();
    case kind::set_of_64:
      return set64_value();
    case kind::json:
      return text_literal(json_value(0));
    case kind::geometry:
      return geometry_value();
    case kind::point:
      return "ST_PointFromText('POINT(" + coordinate() + " " + coordinate() + ")')";
    case kind::polygon:
      return "ST_PolygonFromText('" + polygon_text() + "')";
    case kind::inet4:
      return inet4_value();
    case kind::inet6:
      return inet6_value();
    case kind::uuid:
      return uuid_value();
    }
    return "NULL";
  }

  std::string integer_value(const column_spec& c) {
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

  std::string digits(size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i)
      out += static_cast<char>('0' + rnd_.below(10));
    return out;
  }

  std::string decimal_value(int precision, int scale, bool is_unsigned) {
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

  std::string float_value(const column_spec& c) {
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

  std::string double_value(const column_spec& c) {
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

  std::string bit_value(const column_spec& c) {
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

  std::string fraction(int fsp) {
    return fsp > 0 ? "." + digits(static_cast<size_t>(fsp)) : "";
  }

  static std::string nines(int fsp) {
    return fsp > 0 ? "." + std::string(static_cast<size_t>(fsp), '9') : "";
  }

  static std::string smallest(int fsp) {
    return fsp > 0 ? "." + std::string(static_cast<size_t>(fsp) - 1, '0') + "1" : "";
  }

  std::string random_date() {
    return format("%04d-%02d-%02d", static_cast<int>(rnd_.between(1, 9999)),
                  static_cast<int>(rnd_.between(1, 12)),
                  static_cast<int>(rnd_.between(1, 28)));
  }

  std::string date_value(bool invalid) {
    if (invalid)
      return rnd_.percent(50) ? "'2023-02-30'" : "'2023-13-01'";
    static const std::vector<std::string> edges{
        "'0000-00-00'", "'2024-00-00'", "'2024-02-00'", "'1000-01-01'",
        "'9999-12-31'", "'0001-01-01'", "'2024-02-29'"};
    if (rnd_.percent(40))
      return rnd_.pick(edges);
    return "'" + random_date() + "'";
  }

  std::string time_value(int fsp) {
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

  std::string clock() {
    return format("%02d:%02d:%02d", static_cast<int>(rnd_.between(0, 23)),
                  static_cast<int>(rnd_.between(0, 59)),
                  static_cast<int>(rnd_.between(0, 59)));
  }

  std::string datetime_value(int fsp) {
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

  // The source session's time zone is not UTC: FROM_UNIXTIME names an instant
  // in it, which the server stores as UTC.
  std::string timestamp_value(int fsp) {
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

  std::string year_value() {
    if (sloppy())
      return rnd_.percent(50) ? "1900" : "2156";
    static const std::vector<std::string> edges{"0",    "'0'", "'00'", "1901", "2155",
                                                "2000", "69",  "70",   "'99'"};
    if (rnd_.percent(50))
      return rnd_.pick(edges);
    return std::to_string(rnd_.between(1901, 2155));
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

  /// A length for a value of at most `max` units; long columns get mostly short
  /// values, and now and then (within the workload's budget) a big one.
  size_t length_for(size_t max, bool big, size_t big_from, size_t big_to) {
    if (big && big_budget_ > 0 && (force_big_ || rnd_.percent(3))) {
      --big_budget_;
      return std::min(max,
                      static_cast<size_t>(rnd_.between(static_cast<int64_t>(big_from),
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

  std::string chars_value(const column_spec& c) {
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

  std::string random_bytes(size_t n) {
    std::string out;
    out.reserve(n + 8);
    while (out.size() < n) {
      auto v = rnd_.bits();
      for (int i = 0; i < 8 && out.size() < n; ++i)
        out += static_cast<char>((v >> (8 * i)) & 0xff);
    }
    return out;
  }

  std::string bytes_value(const column_spec& c) {
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

  std::string enum_value() {
    if (sloppy())
      return "'nope'";
    static const std::vector<std::string> members{"small", "medium", "large", "x-large",
                                                  "\xc3\xbc"};
    if (rnd_.percent(25))
      return std::to_string(rnd_.between(1, 5));
    return text_literal(rnd_.pick(members));
  }

  std::string set9_value() {
    if (sloppy())
      return "'a,zz'";
    if (rnd_.percent(20))
      return std::to_string(rnd_.below(512));
    std::string out;
    for (int i = 0, n = static_cast<int>(rnd_.below(5)); i < n; ++i)
      out += std::string(out.empty() ? "" : ",") + static_cast<char>('a' + rnd_.below(9));
    return "'" + out + "'";
  }

  std::string set64_value() {
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

  std::string json_string() {
    static const std::vector<std::string> letters{
        "a",   "Z",       " ", "\\\"", "\\\\", "\xc3\xbc", "\xf0\x9f\x98\x80",
        "\\n", "\\u00e9", "/"};
    std::string out = "\"";
    for (int i = 0, n = static_cast<int>(rnd_.below(12)); i < n; ++i)
      out += rnd_.pick(letters);
    return out + "\"";
  }

  std::string json_value(int depth) {
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

  std::string coordinate() {
    static const std::vector<std::string> edges{"0", "-0.5", "10000000000", "-180",
                                                "90.25"};
    if (rnd_.percent(20))
      return rnd_.pick(edges);
    return format("%.17g", static_cast<double>(rnd_.between(-1000000, 1000000)) / 1024.0);
  }

  std::string polygon_text() {
    auto x = static_cast<double>(rnd_.between(-1000, 1000));
    auto y = static_cast<double>(rnd_.between(-1000, 1000));
    auto w = static_cast<double>(rnd_.between(4, 100));
    auto ring = format("(%g %g,%g %g,%g %g,%g %g,%g %g)", x, y, x + w, y, x + w, y + w, x,
                       y + w, x, y);
    if (rnd_.percent(40))
      ring += format(",(%g %g,%g %g,%g %g,%g %g)", x + 1, y + 1, x + 2, y + 1, x + 2,
                     y + 2, x + 1, y + 1);
    return "POLYGON(" + ring + ")";
  }

  std::string geometry_value() {
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

  std::string inet4_value() {
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

  std::string inet6_value() {
    static const std::vector<std::string> edges{
        "'::'",
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

  /// A UUID's text; version 1 (time-based, which MariaDB stores with its time
  /// fields swapped), 4, or 0 (stored as given); `last_zero`: the last byte is 0.
  std::string uuid_text(uint32_t time_low, uint64_t node, bool last_zero) {
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

  std::string uuid_value() {
    static const std::vector<std::string> edges{"'00000000-0000-0000-0000-000000000000'",
                                                "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
                                                "'123e4567-e89b-42d3-a456-426614174000'",
                                                "'12345600-e89b-12d3-a456-426614174001'",
                                                "UUID()"};
    if (rnd_.percent(30))
      return rnd_.pick(edges);
    auto time_low = static_cast<uint32_t>(rnd_.bits());
    if (rnd_.percent(25))
      time_low &= ~uint32_t{0xff};
    return "'" + uuid_text(time_low, rnd_.bits(), rnd_.percent(40)) + "'";
  }

  /// A UUID no other row has: the counter sits in the node field.
  std::string unique_uuid() {
    auto c = ++counter_;
    auto time_low = static_cast<uint32_t>(rnd_.bits());
    if (rnd_.percent(25))
      time_low &= ~uint32_t{0xff};
    return "'" + uuid_text(time_low, (c << 8) | (1 + rnd_.below(255)), rnd_.percent(50)) +
           "'";
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
      return {date_value(false), std::to_string(c)};
    case key_style::name: {
      static const std::vector<std::string> suffixes{"", "-\xc3\xbc", "-\xf0\x9f\x98\x80",
                                                     "-\xc3\x84"};
      auto name = recased("key-" + std::to_string(c)) + rnd_.pick(suffixes) +
                  std::string(rnd_.below(3), ' ');
      return {"'" + name + "'"};
    }
    case key_style::big_unsigned:
      return {unsigned_key(c)};
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
        out.push_back(value(c));
    }
    return out;
  }

  std::string insert(table_model& t, size_t rows, bool partial) {
    std::vector<size_t> columns;
    for (size_t i = 0; i < t.columns.size(); ++i)
      if (!partial || i < t.key_columns || t.columns[i].name == t.unique ||
          rnd_.percent(50))
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
        unique = unique_uuid();
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
      if (t.columns[i].name != t.unique)
        candidates.push_back(i);
    std::string out;
    auto n = std::min<size_t>(candidates.size(), rnd_.between(1, 4));
    for (size_t k = 0; k < n; ++k) {
      auto at = rnd_.below(candidates.size());
      auto i = candidates[at];
      candidates.erase(candidates.begin() + static_cast<std::ptrdiff_t>(at));
      out += (k ? ", " : "") + ident(t.columns[i].name) + " = " + value(t.columns[i]);
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
    if (r < 70 && (t.style == key_style::number || t.style == key_style::big_unsigned ||
                   t.style == key_style::group_and_sequence)) {
      std::vector<size_t> all;
      for (size_t i = 0; i < t.columns.size(); ++i)
        all.push_back(i);
      auto values = row_values(t, key, t.unique_of[at], all);
      std::string cols;
      std::string vals;
      for (size_t i = 0; i < all.size(); ++i) {
        cols += (i ? "," : "") + ident(t.columns[i].name);
        vals += (i ? "," : "") + values[i];
      }
      if (t.unique.empty() && rnd_.percent(50))
        return "REPLACE INTO " + qualified(t) + " (" + cols + ") VALUES (" + vals + ")";
      std::string update;
      for (size_t i = t.key_columns; i < t.columns.size(); ++i)
        if (t.columns[i].name != t.unique && rnd_.percent(50))
          update += (update.empty() ? "" : ", ") + ident(t.columns[i].name) +
                    " = VALUES(" + ident(t.columns[i].name) + ")";
      if (update.empty())
        update = ident(t.columns.back().name) + " = " + ident(t.columns.back().name);
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
    auto fresh = unique_uuid();
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
                                       : value(t.columns[i]));
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
  uint64_t counter_ = 0;
  // Values of a few hundred KB still allowed; the first insert into `blobs`
  // takes some at once (force_big_), so that every workload has them.
  int big_budget_ = 8;
  bool force_big_ = false;
};

void generator::define_tables() {
  auto add = [&](table_model t) { tables_[t.name] = std::move(t); };
  {
    table_model t;
    t.name = "ints";
    t.style = key_style::number;
    t.key_columns = 1;
    t.columns = {col("id", "INT NOT NULL", kind::integer, 32),
                 col("ti", "TINYINT", kind::integer, 8),
                 col("tu", "TINYINT UNSIGNED", kind::integer, 8),
                 col("si", "SMALLINT", kind::integer, 16),
                 col("su", "SMALLINT UNSIGNED", kind::integer, 16),
                 col("mi", "MEDIUMINT", kind::integer, 24),
                 col("mu", "MEDIUMINT UNSIGNED", kind::integer, 24),
                 col("i", "INT", kind::integer, 32),
                 col("iu", "INT UNSIGNED", kind::integer, 32),
                 col("bi", "BIGINT", kind::integer, 64),
                 col("bu", "BIGINT UNSIGNED", kind::integer, 64),
                 col("z", "INT(8) UNSIGNED ZEROFILL", kind::integer, 32),
                 col("flag", "BOOLEAN", kind::integer, 8)};
    t.special_keys = {{"2147483647"}, {"-2147483648"}, {"0"}};
    add(std::move(t));
  }
  {
    table_model t;
    t.name = "nums";
    t.style = key_style::group_and_sequence;
    t.key_columns = 2;
    t.columns = {col("grp", "TINYINT UNSIGNED NOT NULL", kind::integer, 8),
                 col("seq", "BIGINT UNSIGNED NOT NULL", kind::integer, 64),
                 col("d65", "DECIMAL(65,30)", kind::decimal, 65, 30),
                 col("d65i", "DECIMAL(65,0)", kind::decimal, 65, 0),
                 col("d10", "DECIMAL(10,2)", kind::decimal, 10, 2),
                 col("d5u", "DECIMAL(5,0) UNSIGNED", kind::decimal, 5, 0),
                 col("d44", "DECIMAL(4,4)", kind::decimal, 4, 4),
                 col("d189", "DECIMAL(18,9)", kind::decimal, 18, 9),
                 col("d1", "DECIMAL(1,0)", kind::decimal, 1, 0),
                 col("f", "FLOAT", kind::floating),
                 col("f73", "FLOAT(7,3)", kind::floating, 7, 3),
                 col("db", "DOUBLE", kind::real),
                 col("d154", "DOUBLE(15,4)", kind::real, 15, 4)};
    t.special_keys = {{"255", "18446744073709551615"}, {"0", "9223372036854775808"}};
    add(std::move(t));
  }
  {
    table_model t;
    t.name = "times";
    t.style = key_style::day_and_number;
    t.key_columns = 2;
    t.columns = {col("day", "DATE NOT NULL", kind::date),
                 col("n", "INT NOT NULL", kind::integer, 32)};
    for (int f = 0; f <= 6; ++f)
      t.columns.push_back(
          col("t" + std::to_string(f), "TIME(" + std::to_string(f) + ")", kind::time, f));
    for (int f = 0; f <= 6; ++f)
      t.columns.push_back(col("dt" + std::to_string(f),
                              "DATETIME(" + std::to_string(f) + ")", kind::datetime, f));
    for (int f = 0; f <= 6; ++f)
      t.columns.push_back(col("ts" + std::to_string(f),
                              "TIMESTAMP(" + std::to_string(f) + ") NULL DEFAULT NULL",
                              kind::timestamp, f));
    t.columns.push_back(col("y", "YEAR", kind::year));
    t.columns.push_back(col("d", "DATE", kind::date));
    t.special_keys = {{"'0000-00-00'", "0"}};
    add(std::move(t));
  }
  {
    table_model t;
    t.name = "strs";
    t.style = key_style::name;
    t.key_columns = 1;
    t.columns = {
        col("name",
            "VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL",
            kind::chars, 40),
        col("c_l1", "CHAR(10) CHARACTER SET latin1", kind::chars, 10),
        col("v", "VARCHAR(40) CHARACTER SET utf8mb4", kind::chars, 40),
        col("v_l1", "VARCHAR(300) CHARACTER SET latin1", kind::chars, 300),
        col("c_mb", "CHAR(8) CHARACTER SET utf8mb4", kind::chars, 8),
        col("v_bin", "VARCHAR(30) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", kind::chars,
            30),
        col("c_bin", "CHAR(6) CHARACTER SET binary", kind::bytes, 6),
        col("v16", "VARCHAR(20) CHARACTER SET utf16", kind::chars, 20),
        col("ca", "CHAR(3) CHARACTER SET ascii", kind::chars, 3),
        col("tt", "TINYTEXT CHARACTER SET latin1", kind::chars, 255),
        col("tx", "TEXT CHARACTER SET utf8mb4", kind::chars, 16000),
        col("e",
            "ENUM('small','medium','large','x-large','\xc3\xbc') CHARACTER SET utf8mb4",
            kind::enumeration),
        col("st", "SET('a','b','c','d','e','f','g','h','i')", kind::set_of_nine),
        col(
            "s64",
            [] {
              std::string members;
              for (int i = 0; i < 64; ++i)
                members += (i ? ",'m" : "'m") + std::to_string(i) + "'";
              return "SET(" + members + ")";
            }(),
            kind::set_of_64)};
    add(std::move(t));
  }
  {
    table_model t;
    t.name = "bins";
    t.columns = {col("tag", "INT", kind::integer, 32),
                 col("b8", "BINARY(8)", kind::bytes, 8),
                 col("b1", "BINARY(1)", kind::bytes, 1),
                 col("vb", "VARBINARY(64)", kind::bytes, 64),
                 col("vb300", "VARBINARY(300)", kind::bytes, 300),
                 col("tb", "TINYBLOB", kind::bytes, 255),
                 col("bl", "BLOB", kind::bytes, 1000)};
    for (int n : {1, 7, 8, 17, 33, 63, 64})
      t.columns.push_back(
          col("bit" + std::to_string(n), "BIT(" + std::to_string(n) + ")", kind::bit, n));
    add(std::move(t));
  }
  {
    table_model t;
    t.name = "blobs";
    t.style = key_style::big_unsigned;
    t.key_columns = 1;
    t.columns = {
        col("id", "BIGINT UNSIGNED NOT NULL", kind::integer, 64),
        col("small", "INT", kind::integer, 32),
        col("tb", "TINYBLOB", kind::bytes, 255),
        col("bl", "BLOB", kind::bytes, 65535),
        col("mb", "MEDIUMBLOB", kind::bytes, 16000000, 0, true),
        col("lb", "LONGBLOB", kind::bytes, 16000000, 0, true),
        col("tt", "TINYTEXT CHARACTER SET utf8mb4", kind::chars, 63),
        col("tx", "TEXT CHARACTER SET utf8mb4", kind::chars, 16000),
        col("mt", "MEDIUMTEXT CHARACTER SET utf8mb4", kind::chars, 4000000, 0, true),
        col("lt", "LONGTEXT CHARACTER SET utf8mb4", kind::chars, 4000000, 0, true),
        col("j", "JSON", kind::json)};
    t.special_keys = {{"0"}, {"9223372036854775808"}, {"18446744073709551615"}};
    add(std::move(t));
  }
  {
    table_model t;
    t.name = "misc";
    t.style = key_style::number;
    t.key_columns = 1;
    t.unique = "u";
    t.columns = {col("id", "INT NOT NULL", kind::integer, 32),
                 col("u", "UUID NOT NULL", kind::uuid),
                 col("u2", "UUID", kind::uuid),
                 col("e", "ENUM('small','medium','large','x-large','\xc3\xbc')",
                     kind::enumeration),
                 col("st", "SET('a','b','c','d','e','f','g','h','i')", kind::set_of_nine),
                 col("j", "JSON", kind::json),
                 col("g", "GEOMETRY", kind::geometry),
                 col("p", "POINT", kind::point),
                 col("poly", "POLYGON", kind::polygon),
                 col("ip4", "INET4", kind::inet4),
                 col("ip6", "INET6", kind::inet6),
                 col("yr", "YEAR", kind::year)};
    add(std::move(t));
  }
  {
    table_model t;
    t.name = "nokey";
    t.columns = {col("tag", "INT", kind::integer, 32),
                 col("d", "DOUBLE", kind::real),
                 col("f", "FLOAT", kind::floating),
                 col("dec", "DECIMAL(20,6)", kind::decimal, 20, 6),
                 col("v", "VARCHAR(20) CHARACTER SET latin1", kind::chars, 20),
                 col("dt", "DATETIME(3)", kind::datetime, 3),
                 col("ts", "TIMESTAMP(6) NULL DEFAULT NULL", kind::timestamp, 6),
                 col("ip6", "INET6", kind::inet6),
                 col("u", "UUID", kind::uuid),
                 col("bu", "BIGINT UNSIGNED", kind::integer, 64),
                 col("e", "ENUM('small','medium','large','x-large','\xc3\xbc')",
                     kind::enumeration),
                 col("bits", "BIT(10)", kind::bit, 10)};
    add(std::move(t));
  }
  {
    table_model t;
    t.name = "bulk";
    t.style = key_style::big_unsigned;
    t.key_columns = 1;
    t.columns = {col("id", "BIGINT UNSIGNED NOT NULL", kind::integer, 64),
                 col("v", "INT UNSIGNED", kind::integer, 32),
                 col("s", "VARCHAR(64) CHARACTER SET utf8mb4", kind::chars, 64),
                 col("d", "DATETIME(6)", kind::datetime, 6),
                 col("u", "UUID", kind::uuid)};
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
    force_big_ = true;
    step s;
    s.end = step::ending::commit;
    s.statements.push_back(insert(tables_.at("blobs"), 2, false));
    s.label = "blobs of a few hundred KB";
    force_big_ = false;
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
          col("added", "BIGINT UNSIGNED NOT NULL DEFAULT 18446744073709551615",
              kind::integer, 64));
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
      t.columns = {col("id", "INT NOT NULL", kind::integer, 32),
                   col("note", "VARCHAR(30) CHARACTER SET latin1", kind::chars, 30),
                   col("big", "BIGINT UNSIGNED", kind::integer, 64),
                   col("u", "UUID", kind::uuid),
                   col("t", "TEXT CHARACTER SET latin1", kind::chars, 2000)};
      tables_[t.name] = std::move(t);
    }
    if (at(i, 0.32)) {
      table_model t;
      t.name = "doomed";
      t.style = key_style::number;
      t.key_columns = 1;
      t.columns = {col("id", "INT NOT NULL", kind::integer, 32),
                   col("v", "VARCHAR(10) CHARACTER SET utf8mb4", kind::chars, 10)};
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
      cols.insert(cols.begin() + 1, col("mid", "INET6", kind::inet6));
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
      t.columns = {col("id", "BIGINT UNSIGNED NOT NULL", kind::integer, 64),
                   col("u", "UUID", kind::uuid), col("i6", "INET6", kind::inet6),
                   col("v", "VARCHAR(10) CHARACTER SET utf8mb4", kind::chars, 10),
                   col("b", "BIT(64)", kind::bit, 64)};
      w.steps.push_back(create(std::move(t)));
    }
    if (at(i, 0.88)) {
      w.steps.push_back(
          ddl("ALTER TABLE " + db_ +
              ".`bins` ADD COLUMN `first_col` SMALLINT UNSIGNED DEFAULT 65535 "
              "FIRST"));
      auto& cols = tables_.at("bins").columns;
      cols.insert(cols.begin(),
                  col("first_col", "SMALLINT UNSIGNED DEFAULT 65535", kind::integer, 16));
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
  for (auto& [name, t] : tables_)
    w.tables.push_back(name);
  return w;
}

} // namespace

workload generate_workload(const workload_options& options) {
  return generator{options}.run();
}

} // namespace shoal::test
