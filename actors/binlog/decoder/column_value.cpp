#include "actors/binlog/decoder/column_value.hpp"

#include <charconv>
#include <cstdio>

#include "actors/binlog/decoder/packed_value.hpp"

namespace shoal::binlog {

namespace {

std::string quote(const std::string& bytes) {
  std::string out = "'";
  for (char c : bytes) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    }
  }
  return out + "'";
}

template <class T> std::string shortest(T v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string{buf, res.ptr};
}

std::string micros_suffix(uint32_t micros) {
  return micros == 0 ? std::string{}
                     : format_time(time_value{false, 0, 0, 0, micros}, 6).substr(8);
}

struct printer {
  std::string operator()(const null_value&) const { return "NULL"; }
  std::string operator()(int64_t v) const { return std::to_string(v); }
  std::string operator()(uint64_t v) const { return std::to_string(v); }
  std::string operator()(float v) const { return shortest(v); }
  std::string operator()(double v) const { return shortest(v); }
  std::string operator()(const decimal_value& v) const { return v.text; }
  std::string operator()(const date_value& v) const {
    char buf[24];
    std::snprintf(buf, sizeof(buf), "'%04u-%02u-%02u'", unsigned{v.year},
                  unsigned{v.month}, unsigned{v.day});
    return buf;
  }
  std::string operator()(const time_value& v) const {
    return "'" + format_time(v, v.micros == 0 ? 0 : 6) + "'";
  }
  std::string operator()(const datetime_value& v) const {
    return "'" + format_datetime(v, v.micros == 0 ? 0 : 6) + "'";
  }
  std::string operator()(const timestamp_value& v) const {
    return std::to_string(v.seconds) + micros_suffix(v.micros);
  }
  std::string operator()(const year_value& v) const { return std::to_string(v.year); }
  std::string operator()(const bytes_value& v) const { return quote(v.bytes); }
  std::string operator()(const enum_value& v) const { return std::to_string(v.index); }
  std::string operator()(const set_value& v) const { return std::to_string(v.bits); }
  std::string operator()(const bit_value& v) const {
    std::string out = "b'";
    for (int i = v.width - 1; i >= 0; --i)
      out += ((v.bits >> i) & 1) ? '1' : '0';
    return out + "'";
  }
  std::string operator()(const json_value& v) const { return quote(v.text); }
};

} // namespace

std::string to_string(const column_value& value) {
  return std::visit(printer{}, value);
}

} // namespace shoal::binlog
