#include "actors/binlog/decoder/packed_value.hpp"

#include <cstdio>

namespace shoal::binlog {

namespace {

constexpr size_t digits_per_group = 9;
constexpr uint8_t bytes_for_digits[] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
constexpr uint32_t powers_of_ten[] = {1,      10,      100,      1000,      10000,
                                      100000, 1000000, 10000000, 100000000, 1000000000};

std::string fraction(uint32_t micros, int digits) {
  if (digits <= 0)
    return {};
  char buf[8];
  std::snprintf(buf, sizeof(buf), ".%06u", micros % 1000000);
  return std::string{buf, static_cast<size_t>(1 + (digits > 6 ? 6 : digits))};
}

} // namespace

size_t decimal_binary_size(uint8_t precision, uint8_t scale) {
  size_t intg = precision - scale;
  return intg / digits_per_group * 4 + bytes_for_digits[intg % digits_per_group] +
         scale / digits_per_group * 4 + bytes_for_digits[scale % digits_per_group];
}

std::optional<std::string> decimal_to_string(std::string_view bytes, uint8_t precision,
                                             uint8_t scale) {
  if (scale > precision || bytes.size() != decimal_binary_size(precision, scale) ||
      bytes.empty())
    return std::nullopt;
  bool negative = (static_cast<uint8_t>(bytes[0]) & 0x80) == 0;
  uint8_t mask = negative ? 0xff : 0x00;
  size_t pos = 0;
  auto group = [&](size_t digits) -> std::optional<uint32_t> {
    size_t n = digits == digits_per_group ? 4 : bytes_for_digits[digits];
    uint32_t v = 0;
    for (size_t i = 0; i < n; ++i) {
      uint8_t b = static_cast<uint8_t>(bytes[pos + i]) ^ mask;
      if (pos + i == 0)
        b ^= 0x80;
      v = (v << 8) | b;
    }
    pos += n;
    if (v >= powers_of_ten[digits])
      return std::nullopt;
    return v;
  };
  size_t intg = precision - scale;
  std::string int_digits;
  auto append = [](std::string& out, uint32_t v, size_t width) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%0*u", static_cast<int>(width), v);
    out += buf;
  };
  if (intg % digits_per_group > 0) {
    auto v = group(intg % digits_per_group);
    if (!v)
      return std::nullopt;
    append(int_digits, *v, intg % digits_per_group);
  }
  for (size_t i = 0; i < intg / digits_per_group; ++i) {
    auto v = group(digits_per_group);
    if (!v)
      return std::nullopt;
    append(int_digits, *v, digits_per_group);
  }
  std::string frac_digits;
  for (size_t i = 0; i < scale / digits_per_group; ++i) {
    auto v = group(digits_per_group);
    if (!v)
      return std::nullopt;
    append(frac_digits, *v, digits_per_group);
  }
  if (scale % digits_per_group > 0) {
    auto v = group(scale % digits_per_group);
    if (!v)
      return std::nullopt;
    append(frac_digits, *v, scale % digits_per_group);
  }
  auto first = int_digits.find_first_not_of('0');
  int_digits = first == std::string::npos ? "0" : int_digits.substr(first);
  std::string text = negative ? "-" : "";
  text += int_digits;
  if (scale > 0)
    text += "." + frac_digits;
  return text;
}

datetime_value unpack_datetime(int64_t packed) {
  uint64_t magnitude =
      packed < 0 ? 0 - static_cast<uint64_t>(packed) : static_cast<uint64_t>(packed);
  datetime_value v;
  v.micros = static_cast<uint32_t>(magnitude % (1u << 24));
  uint64_t ymdhms = magnitude >> 24;
  uint64_t ymd = ymdhms >> 17;
  uint64_t ym = ymd >> 5;
  uint64_t hms = ymdhms % (1u << 17);
  v.day = static_cast<uint8_t>(ymd % (1u << 5));
  v.month = static_cast<uint8_t>(ym % 13);
  v.year = static_cast<uint16_t>(ym / 13);
  v.seconds = static_cast<uint8_t>(hms % (1u << 6));
  v.minutes = static_cast<uint8_t>((hms >> 6) % (1u << 6));
  v.hours = static_cast<uint8_t>(hms >> 12);
  return v;
}

time_value unpack_time(int64_t packed) {
  time_value v;
  v.negative = packed < 0;
  uint64_t magnitude =
      packed < 0 ? 0 - static_cast<uint64_t>(packed) : static_cast<uint64_t>(packed);
  v.micros = static_cast<uint32_t>(magnitude % (1u << 24));
  uint64_t hms = magnitude >> 24;
  v.hours = static_cast<uint32_t>((hms >> 12) % (1u << 10));
  v.minutes = static_cast<uint8_t>((hms >> 6) % (1u << 6));
  v.seconds = static_cast<uint8_t>(hms % (1u << 6));
  return v;
}

std::string format_datetime(const datetime_value& v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04u-%02u-%02u %02u:%02u:%02u", unsigned{v.year},
                unsigned{v.month}, unsigned{v.day}, unsigned{v.hours},
                unsigned{v.minutes}, unsigned{v.seconds});
  return buf + fraction(v.micros, digits);
}

std::string format_time(const time_value& v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s%02u:%02u:%02u", v.negative ? "-" : "",
                unsigned{v.hours}, unsigned{v.minutes}, unsigned{v.seconds});
  return buf + fraction(v.micros, digits);
}

} // namespace shoal::binlog
