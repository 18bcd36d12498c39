#include "actors/binlog/decoder/json_binary.hpp"

#include <charconv>
#include <cstdio>
#include <cstring>

#include "actors/binlog/decoder/byte_reader.hpp"
#include "actors/binlog/decoder/event_type.hpp"
#include "actors/binlog/decoder/packed_value.hpp"

namespace shoal::binlog {

namespace {

enum json_type : uint8_t {
  small_object = 0x00,
  large_object = 0x01,
  small_array = 0x02,
  large_array = 0x03,
  literal = 0x04,
  int16 = 0x05,
  uint16 = 0x06,
  int32 = 0x07,
  uint32 = 0x08,
  int64 = 0x09,
  uint64 = 0x0a,
  double_ = 0x0b,
  string = 0x0c,
  opaque = 0x0f,
};

constexpr size_t max_depth = 100;

class json_printer {
public:
  explicit json_printer(std::string_view doc) : doc_(doc) {}

  bool print_document() {
    if (doc_.empty()) {
      out_ = "null";
      return true;
    }
    return print_value(static_cast<uint8_t>(doc_[0]), 1, doc_.size() - 1, 0);
  }

  std::string& text() { return out_; }
  std::string& error() { return error_; }

private:
  bool fail(std::string what) {
    error_ = std::move(what);
    return false;
  }

  // Prints the value of `type` whose bytes start at `pos` and may span `len` bytes.
  bool print_value(uint8_t type, size_t pos, size_t len, size_t depth) {
    if (pos > doc_.size() || len > doc_.size() - pos)
      return fail("JSON value offset out of range");
    if (out_.size() > 16 * doc_.size() + 64)
      return fail("JSON values share storage in a loop-like way (text would explode)");
    byte_reader in{doc_.substr(pos, len)};
    switch (type) {
    case small_object:
    case large_object:
    case small_array:
    case large_array:
      if (depth >= max_depth)
        return fail("JSON nested deeper than 100 levels");
      return print_container(type, pos, len, depth + 1);
    case literal:
      return print_literal(in.u8(), in.ok());
    case int16:
      return print_number(static_cast<int16_t>(in.u16()), in.ok());
    case uint16:
      return print_number(in.u16(), in.ok());
    case int32:
      return print_number(static_cast<int32_t>(in.u32()), in.ok());
    case uint32:
      return print_number(in.u32(), in.ok());
    case int64:
      return print_number(static_cast<int64_t>(in.u64()), in.ok());
    case uint64:
      return print_number(in.u64(), in.ok());
    case double_: {
      uint64_t bits = in.u64();
      if (!in.ok())
        return fail("truncated JSON double");
      double d;
      std::memcpy(&d, &bits, sizeof(d));
      return print_double(d);
    }
    case string: {
      auto n = read_varlen(in);
      auto s = in.bytes(n);
      if (!in.ok())
        return fail("truncated JSON string");
      print_string(s);
      return true;
    }
    case opaque: {
      auto column = in.u8();
      auto n = read_varlen(in);
      auto bytes = in.bytes(n);
      if (!in.ok())
        return fail("truncated JSON opaque value");
      return print_opaque(column, bytes);
    }
    default:
      return fail("unknown JSON value type " + std::to_string(type));
    }
  }

  bool print_container(uint8_t type, size_t pos, size_t len, size_t depth) {
    bool large = type == large_object || type == large_array;
    bool object = type == small_object || type == large_object;
    size_t w = large ? 4 : 2;
    byte_reader in{doc_.substr(pos, len)};
    uint64_t count = in.uint_le(w);
    uint64_t size = in.uint_le(w);
    if (!in.ok() || size > len || size < 2 * w)
      return fail("JSON container size out of range");
    size_t key_entry = w + 2;
    size_t value_entry = 1 + w;
    uint64_t header = 2 * w + count * ((object ? key_entry : 0) + value_entry);
    if (count > size || header > size)
      return fail("JSON container header larger than the container");
    out_ += object ? '{' : '[';
    for (uint64_t i = 0; i < count; ++i) {
      if (i > 0)
        out_ += ", ";
      if (object) {
        byte_reader key{doc_.substr(pos + 2 * w + i * key_entry, key_entry)};
        uint64_t key_offset = key.uint_le(w);
        uint64_t key_len = key.u16();
        if (key_offset > size || key_len > size - key_offset)
          return fail("JSON key out of range");
        print_string(doc_.substr(pos + key_offset, key_len));
        out_ += ": ";
      }
      size_t entry = 2 * w + (object ? count * key_entry : 0) + i * value_entry;
      byte_reader value{doc_.substr(pos + entry, value_entry)};
      uint8_t value_type = value.u8();
      bool inlined = value_type == literal || value_type == int16 ||
                     value_type == uint16 ||
                     (large && (value_type == int32 || value_type == uint32));
      if (inlined) {
        if (!print_value(value_type, pos + entry + 1, w, depth))
          return false;
        continue;
      }
      uint64_t offset = value.uint_le(w);
      if (offset >= size || offset < header)
        return fail("JSON value offset out of range");
      if (!print_value(value_type, pos + offset, size - offset, depth))
        return false;
    }
    out_ += object ? '}' : ']';
    return true;
  }

  uint64_t read_varlen(byte_reader& in) {
    uint64_t n = 0;
    for (int i = 0; i < 5; ++i) {
      uint8_t b = in.u8();
      n |= uint64_t{b & 0x7fu} << (7 * i);
      if ((b & 0x80) == 0)
        return n;
    }
    in.fail();
    return 0;
  }

  bool print_literal(uint8_t v, bool ok) {
    if (!ok)
      return fail("truncated JSON literal");
    switch (v) {
    case 0:
      out_ += "null";
      return true;
    case 1:
      out_ += "true";
      return true;
    case 2:
      out_ += "false";
      return true;
    default:
      return fail("unknown JSON literal " + std::to_string(v));
    }
  }

  template <class T> bool print_number(T v, bool ok) {
    if (!ok)
      return fail("truncated JSON number");
    out_ += std::to_string(v);
    return true;
  }

  bool print_double(double d) {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), d);
    std::string s{buf, res.ptr};
    if (s.find_first_of(".eEn") == std::string::npos)
      s += ".0";
    out_ += s;
    return true;
  }

  void print_string(std::string_view s) { out_ += json_quote(s); }

  bool print_opaque(uint8_t column, std::string_view bytes) {
    switch (static_cast<column_type>(column)) {
    case column_type::newdecimal: {
      if (bytes.size() < 2)
        return fail("truncated JSON decimal");
      auto precision = static_cast<uint8_t>(bytes[0]);
      auto scale = static_cast<uint8_t>(bytes[1]);
      if (precision == 0 || precision > 65 || scale > precision ||
          decimal_binary_size(precision, scale) != bytes.size() - 2)
        return fail("invalid JSON decimal");
      auto text = decimal_to_string(bytes.substr(2), precision, scale);
      if (!text)
        return fail("invalid JSON decimal digits");
      out_ += *text;
      return true;
    }
    case column_type::date:
    case column_type::datetime:
    case column_type::timestamp:
    case column_type::time: {
      byte_reader in{bytes};
      auto packed = static_cast<int64_t>(in.u64());
      if (!in.ok())
        return fail("truncated JSON temporal value");
      out_ += '"';
      if (static_cast<column_type>(column) == column_type::time) {
        out_ += format_time(unpack_time(packed), 6);
      } else {
        auto text = format_datetime(unpack_datetime(packed), 6);
        out_ += static_cast<column_type>(column) == column_type::date ? text.substr(0, 10)
                                                                      : text;
      }
      out_ += '"';
      return true;
    }
    default:
      out_ += "\"base64:type" + std::to_string(column) + ":" + base64(bytes) + "\"";
      return true;
    }
  }

  static std::string base64(std::string_view bytes) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
      uint32_t v = (uint32_t{static_cast<uint8_t>(bytes[i])} << 16) |
                   (uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8) |
                   static_cast<uint8_t>(bytes[i + 2]);
      for (int k = 18; k >= 0; k -= 6)
        out += alphabet[(v >> k) & 63];
    }
    if (i < bytes.size()) {
      uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16;
      if (i + 1 < bytes.size())
        v |= uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8;
      out += alphabet[(v >> 18) & 63];
      out += alphabet[(v >> 12) & 63];
      out += i + 1 < bytes.size() ? alphabet[(v >> 6) & 63] : '=';
      out += '=';
    }
    return out;
  }

  std::string_view doc_;
  std::string out_;
  std::string error_;
};

} // namespace

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    default:
      if (u < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", u);
        out += buf;
      } else {
        out += c;
      }
    }
  }
  out += '"';
  return out;
}

decode_result<std::string> json_binary_to_text(std::string_view doc) {
  json_printer printer{doc};
  if (!printer.print_document()) {
    decode_error err;
    err.what = std::move(printer.error());
    return err;
  }
  return std::move(printer.text());
}

} // namespace shoal::binlog
