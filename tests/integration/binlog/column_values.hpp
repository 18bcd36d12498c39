// column_values: random SQL literals for every MariaDB 10.11 column type, drawn
// at each type's edges, for the differential sync test's workload.
//
//   shoal::test::seeded_random rnd{42};
//   shoal::test::column_values values{rnd, /*strict=*/true};
//   auto bu = shoal::test::column("bu", "BIGINT UNSIGNED",
//   shoal::test::column_kind::integer, 64); conn.exec("INSERT INTO t (bu) VALUES (" +
//   values.of(bu) + ")");
//
// A literal is SQL text that the source evaluates: a number, a quoted or hex
// string, FROM_UNIXTIME(..), ST_GeomFromText(..), UUID(). Text goes as
// `_utf8mb4 X'..'` (no escaping, exact bytes) and the server converts it to the
// column's character set, so a column's alphabet must fit that set. The same
// seed gives the same literals. With strict = false, some literals are values
// the server clips or truncates (out of range, invalid dates, too long).
//
// Not thread-safe; one generator per seeded_random.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace shoal::test {

/// Random draws that depend on the seed only: mt19937_64's output is fixed by
/// the standard, its distributions are not, so every draw uses the raw output.
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

enum class column_kind {
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

/// One column: its SQL definition and what values it takes.
struct column_spec {
  std::string name;
  /// As in CREATE TABLE after the name.
  std::string type;
  column_kind kind = column_kind::integer;
  /// integer, bit: bits; decimal and FLOAT(m,d)/DOUBLE(m,d): digits; temporal:
  /// fractional digits; chars: characters; bytes: bytes.
  int size = 0;
  /// Digits after the point of decimal and FLOAT(m,d)/DOUBLE(m,d).
  int scale = 0;
  /// May hold values of a few hundred KB.
  bool big = false;

  bool is_unsigned() const { return type.find("UNSIGNED") != std::string::npos; }
  bool nullable() const { return type.find("NOT NULL") == std::string::npos; }
  /// Generated or ON UPDATE columns: the server sets them, statements never do.
  bool server_set() const {
    return type.find(" AS (") != std::string::npos ||
           type.find("ON UPDATE") != std::string::npos;
  }
  /// The character set its text is in (utf8mb4 unless the type names one).
  std::string charset() const {
    auto at = type.find("CHARACTER SET ");
    if (at == std::string::npos)
      return "utf8mb4";
    auto start = at + std::strlen("CHARACTER SET ");
    return type.substr(start, type.find_first_of(" ,)", start) - start);
  }
};

inline column_spec column(std::string name, std::string type, column_kind kind,
                          int size = 0, int scale = 0, bool big = false) {
  return column_spec{std::move(name), std::move(type), kind, size, scale, big};
}

/// UTF-8 text as a literal that reaches the server byte for byte.
std::string text_literal(const std::string& utf8);

/// Bytes as X'..'.
std::string bytes_literal(const std::string& bytes);

/// Literals for columns, drawn from `rnd`.
class column_values {
public:
  column_values(seeded_random& rnd, bool strict) : rnd_(rnd), strict_(strict) {}

  /// A literal for `c`: NULL now and then when it is nullable.
  std::string of(const column_spec& c);

  /// A DATE literal; `invalid`: one the server turns into a zero date.
  std::string date(bool invalid);

  /// A UUID literal no other call with another `unique` returns.
  std::string unique_uuid(uint64_t unique);

  /// `n` random bytes.
  std::string random_bytes(size_t n);

  /// While set, long columns take a big value (a few hundred KB) while the
  /// budget of big values lasts.
  void force_big(bool on) { force_big_ = on; }

private:
  bool sloppy() { return !strict_ && rnd_.percent(8); }
  std::string integer_value(const column_spec& c);
  std::string digits(size_t n);
  std::string decimal_value(int precision, int scale, bool is_unsigned);
  std::string float_value(const column_spec& c);
  std::string double_value(const column_spec& c);
  std::string bit_value(const column_spec& c);
  std::string fraction(int fsp);
  std::string random_date();
  std::string time_value(int fsp);
  std::string clock();
  std::string datetime_value(int fsp);
  std::string timestamp_value(int fsp);
  std::string year_value();
  /// A length for a value of at most `max` units; long columns get mostly short
  /// values, and now and then (within the workload's budget) a big one.
  size_t length_for(size_t max, bool big, size_t big_from, size_t big_to);
  std::string chars_value(const column_spec& c);
  std::string bytes_value(const column_spec& c);
  std::string enum_value();
  std::string set9_value();
  std::string set64_value();
  std::string json_string();
  std::string json_value(int depth);
  std::string coordinate();
  std::string polygon_text();
  std::string geometry_value();
  std::string inet4_value();
  std::string inet6_value();
  /// A UUID's text: version 1 (time-based, which MariaDB may store with its
  /// time fields reordered), 4, or 0; `last_zero`: the last byte (which ends the
  /// stored form too) is 0.
  std::string uuid_text(uint32_t time_low, uint64_t node, bool last_zero);
  std::string uuid_value();

  seeded_random& rnd_;
  bool strict_;
  // Values of a few hundred KB still to draw.
  int big_budget_ = 8;
  bool force_big_ = false;
};

} // namespace shoal::test
