#include "actors/binlog/sync/change_event.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string_view>

#include "actors/binlog/decoder/event_type.hpp"
#include "runtime/base/overload.hpp"

namespace shoal::binlog {

namespace {

using nlohmann::json;

std::string base64(std::string_view bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto at = [&](size_t k) {
    return static_cast<uint32_t>(static_cast<uint8_t>(bytes[k]));
  };
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += alphabet[n >> 6 & 63];
    out += alphabet[n & 63];
  }
  if (i < bytes.size()) {
    uint32_t n = at(i) << 16 | (i + 1 < bytes.size() ? at(i + 1) << 8 : 0);
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += i + 1 < bytes.size() ? alphabet[n >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

/// Whether `bytes` is well-formed UTF-8 of at most `max_bytes` bytes a character
/// (3 for utf8mb3, 4 for utf8mb4), without surrogates or overlong forms.
bool valid_utf8(std::string_view bytes, int max_bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    auto c = static_cast<uint8_t>(bytes[i]);
    int len = c < 0x80         ? 1
              : (c >> 5) == 6  ? 2
              : (c >> 4) == 14 ? 3
              : (c >> 3) == 30 ? 4
                               : 0;
    if (len == 0 || len > max_bytes || i + len > bytes.size())
      return false;
    uint32_t cp = len == 1 ? c : c & (0x7f >> len);
    for (int k = 1; k < len; ++k) {
      auto d = static_cast<uint8_t>(bytes[i + k]);
      if ((d & 0xc0) != 0x80)
        return false;
      cp = cp << 6 | (d & 0x3f);
    }
    static constexpr uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += static_cast<size_t>(len);
  }
  return true;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | cp >> 6);
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xe0 | cp >> 12);
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

/// MySQL's latin1 is Windows-1252, with the five bytes cp1252 leaves undefined
/// mapped to the C1 controls of the same value.
std::string latin1_to_utf8(std::string_view bytes) {
  static constexpr std::array<uint16_t, 32> c1 = {
      0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
      0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
      0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
      0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178};
  std::string out;
  out.reserve(bytes.size());
  for (char ch : bytes) {
    auto c = static_cast<uint8_t>(ch);
    append_utf8(out, c >= 0x80 && c < 0xa0 ? c1[c - 0x80] : c);
  }
  return out;
}

std::string two(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02u", v % 100);
  return buf;
}

/// ".f" with `fsp` digits of `micros`; all six when the column's digits are not
/// known and the value has a fraction, so nothing is cut.
std::string fraction(uint32_t micros, uint8_t fsp) {
  if (fsp == 0 && micros == 0)
    return {};
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06u", micros % 1000000);
  return "." + std::string{buf, fsp == 0 || fsp > 6 ? 6u : fsp};
}

std::string date_text(unsigned year, unsigned month, unsigned day) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04u-%02u-%02u", year % 10000, month % 100, day % 100);
  return buf;
}

/// The UTC calendar date of a day count since 1970-01-01 (Howard Hinnant's
/// civil_from_days).
void civil_from_days(int64_t days, unsigned& year, unsigned& month, unsigned& day) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  auto doe = static_cast<unsigned>(days - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  auto y = static_cast<int64_t>(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<unsigned>(y + (month <= 2 ? 1 : 0));
}

/// A float with the shortest digits that read back as the same float.
json float_number(float v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc{})
    return static_cast<double>(v);
  double d = 0;
  std::from_chars(buf, end, d);
  return d;
}

/// Text in character set `cs` as UTF-8.
expected<std::string, std::string> to_utf8(const std::string& bytes,
                                           const std::string& cs) {
  if (cs == "utf8mb4" || cs == "utf8mb3" || cs == "utf8" || cs == "ascii") {
    int max = cs == "ascii" ? 1 : cs == "utf8mb4" ? 4 : 3;
    if (!valid_utf8(bytes, max))
      return fail("bytes that are not valid " + cs);
    return bytes;
  }
  if (cs == "latin1")
    return latin1_to_utf8(bytes);
  return fail("text in character set " + cs +
              ", which change events do not convert (utf8mb4, utf8mb3, ascii, latin1 "
              "and binary are)");
}

expected<json, std::string> bytes_text(const std::string& bytes, const column_format& f) {
  if (f.json) {
    auto doc = json::parse(bytes, nullptr, false);
    if (!doc.is_discarded())
      return doc;
    // A JSON column of MariaDB without its CHECK may hold any text.
  }
  if (f.charset.empty() || f.charset == "binary")
    return json(base64(bytes));
  auto text = to_utf8(bytes, f.charset);
  if (!text)
    return fail(text.error());
  return json(std::move(*text));
}

} // namespace

expected<std::vector<column_format>, std::string>
formats_of(const table_map& tm, const std::function<std::string(uint32_t)>& charset_of) {
  auto where = "`" + tm.schema + "`.`" + tm.table + "`";
  std::vector<column_format> out;
  out.reserve(tm.columns.size());
  for (size_t i = 0; i < tm.columns.size(); ++i) {
    auto& c = tm.columns[i];
    if (!c.name)
      return fail("the binlog names no columns of " + where +
                  " (binlog_row_metadata is not FULL); change events take names and "
                  "types from the binlog: SET GLOBAL binlog_row_metadata = 'FULL' on the "
                  "source");
    column_format f;
    f.name = *c.name;
    auto type = static_cast<column_type>(c.real_type);
    switch (type) {
    case column_type::varchar:
    case column_type::var_string:
    case column_type::string:
    case column_type::tiny_blob:
    case column_type::medium_blob:
    case column_type::long_blob:
    case column_type::blob:
    case column_type::enum_:
    case column_type::set: {
      if (!c.charset)
        return fail("the binlog gives no character set for column `" + f.name + "` of " +
                    where + " (binlog_row_metadata is not FULL)");
      f.charset = *c.charset == binary_collation ? "binary" : charset_of(*c.charset);
      if (f.charset.empty())
        return fail("column `" + f.name + "` of " + where + " has collation id " +
                    std::to_string(*c.charset) + ", which the source does not list");
      if (type != column_type::enum_ && type != column_type::set)
        break;
      if (c.enum_values.empty())
        return fail("the binlog gives no members for column `" + f.name + "` of " +
                    where + " (binlog_row_metadata is not FULL)");
      for (auto& m : c.enum_values) {
        auto text = f.charset == "binary" ? expected<std::string, std::string>{m}
                                          : to_utf8(m, f.charset);
        if (!text)
          return fail("a member of column `" + f.name + "` of " + where + " is " +
                      text.error());
        f.members.push_back(std::move(*text));
      }
      break;
    }
    case column_type::json:
      f.json = true;
      break;
    case column_type::timestamp2:
    case column_type::datetime2:
    case column_type::time2:
      f.fsp = static_cast<uint8_t>(c.length);
      break;
    default:
      break;
    }
    out.push_back(std::move(f));
  }
  return out;
}

expected<json, std::string> change_value(const column_value& value,
                                         const column_format& f) {
  return std::visit(
      overload{
          [](const null_value&) -> expected<json, std::string> { return json(nullptr); },
          [](int64_t v) -> expected<json, std::string> { return json(v); },
          [](uint64_t v) -> expected<json, std::string> { return json(v); },
          [](float v) -> expected<json, std::string> { return float_number(v); },
          [](double v) -> expected<json, std::string> { return json(v); },
          [](const decimal_value& v) -> expected<json, std::string> {
            return json(v.text);
          },
          [](const date_value& v) -> expected<json, std::string> {
            return json(date_text(v.year, v.month, v.day));
          },
          [&f](const time_value& v) -> expected<json, std::string> {
            char buf[16];
            std::snprintf(buf, sizeof buf, "%s%02u:", v.negative ? "-" : "", v.hours);
            return json(buf + two(v.minutes) + ":" + two(v.seconds) +
                        fraction(v.micros, f.fsp));
          },
          [&f](const datetime_value& v) -> expected<json, std::string> {
            return json(date_text(v.year, v.month, v.day) + "T" + two(v.hours) + ":" +
                        two(v.minutes) + ":" + two(v.seconds) +
                        fraction(v.micros, f.fsp));
          },
          [&f](const timestamp_value& v) -> expected<json, std::string> {
            if (v.seconds == 0 && v.micros == 0)
              return json("0000-00-00T00:00:00" + fraction(0, f.fsp) + "Z");
            unsigned y = 0, m = 0, d = 0;
            civil_from_days(v.seconds / 86400, y, m, d);
            auto s = v.seconds % 86400;
            return json(date_text(y, m, d) + "T" + two(s / 3600) + ":" +
                        two(s / 60 % 60) + ":" + two(s % 60) + fraction(v.micros, f.fsp) +
                        "Z");
          },
          [](const year_value& v) -> expected<json, std::string> { return json(v.year); },
          [&f](const bytes_value& v) { return bytes_text(v.bytes, f); },
          [&f](const enum_value& v) -> expected<json, std::string> {
            if (v.index == 0)
              return json("");
            if (v.index > f.members.size())
              return fail("ENUM index " + std::to_string(v.index) + " past its " +
                          std::to_string(f.members.size()) + " members");
            return json(f.members[v.index - 1]);
          },
          [&f](const set_value& v) -> expected<json, std::string> {
            std::string out;
            for (size_t i = 0; i < 64; ++i) {
              if (!(v.bits >> i & 1))
                continue;
              if (i >= f.members.size())
                return fail("SET bit " + std::to_string(i) + " past its " +
                            std::to_string(f.members.size()) + " members");
              if (!out.empty())
                out += ',';
              out += f.members[i];
            }
            return json(out);
          },
          [](const bit_value& v) -> expected<json, std::string> { return json(v.bits); },
          [](const json_value& v) -> expected<json, std::string> {
            auto doc = json::parse(v.text, nullptr, false);
            if (doc.is_discarded())
              return fail(std::string{"a JSON document that does not parse"});
            return doc;
          },
      },
      value);
}

namespace {

const char* op_code(change_op op) {
  switch (op) {
  case change_op::insert:
    return "c";
  case change_op::update:
    return "u";
  case change_op::delete_:
    return "d";
  case change_op::read:
    return "r";
  }
  return "?";
}

// Appends `text` as a JSON string. Names (columns, tables, the pipeline) and
// positions are UTF-8 already: only quotes, backslashes and control
// characters need escaping.
void put_string(std::string& out, std::string_view text) {
  out += '"';
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
}

// Appends `"name":` (after a comma unless it is the object's first member).
void put_name(std::string& out, std::string_view name, bool first = false) {
  if (!first)
    out += ',';
  put_string(out, name);
  out += ':';
}

void put_source(std::string& out, const change_source& s) {
  out += "{\"connector\":\"shoal\"";
  put_name(out, "name");
  put_string(out, s.pipeline);
  put_name(out, "server_id");
  out += std::to_string(s.server_id);
  put_name(out, "db");
  put_string(out, s.db);
  if (!s.table.empty()) {
    put_name(out, "table");
    put_string(out, s.table);
  }
  if (!s.at.empty()) {
    put_name(out, "file");
    put_string(out, s.at.file);
    put_name(out, "pos");
    out += std::to_string(s.at.pos);
    put_name(out, "row");
    out += std::to_string(s.row);
  }
  put_name(out, "gtid");
  if (s.gtid.empty())
    out += "null";
  else
    put_string(out, s.gtid);
  put_name(out, "ts_ms");
  out += std::to_string(s.ts_ms);
  put_name(out, "snapshot");
  out += s.snapshot ? "true" : "false";
  out += '}';
}

/// Appends the image's present columns (or the key's, when `only` is given), in
/// table order, as an object; the error names the column.
std::optional<std::string> put_image(std::string& out,
                                     const std::vector<column_format>& columns,
                                     const row_image& image,
                                     const std::vector<uint32_t>* only,
                                     const change_source& source) {
  out += '{';
  bool first = true;
  auto add = [&](size_t i) -> std::optional<std::string> {
    if (i >= image.present.size() || !image.present[i] || i >= image.values.size())
      return std::nullopt;
    auto& f = columns.at(i);
    auto v = change_value(image.values[i], f);
    if (!v)
      return "column `" + f.name + "` of `" + source.db + "`.`" + source.table +
             "` holds " + v.error();
    put_name(out, f.name, first);
    first = false;
    out += v->dump();
    return std::nullopt;
  };
  if (only) {
    for (auto i : *only)
      if (auto e = add(i))
        return e;
  } else {
    for (size_t i = 0; i < columns.size(); ++i)
      if (auto e = add(i))
        return e;
  }
  out += '}';
  return std::nullopt;
}

} // namespace

expected<std::string, std::string>
change_event(change_op op, const std::vector<column_format>& columns,
             const std::vector<uint32_t>& key, const row_image& before,
             const row_image& after, const change_source& source) {
  if (before.values.size() > columns.size() || after.values.size() > columns.size())
    return fail("`" + source.db + "`.`" + source.table + "` has " +
                std::to_string(columns.size()) +
                " described columns but the row image has more");
  bool has_before = op == change_op::update || op == change_op::delete_;
  bool has_after = op != change_op::delete_;
  std::string out;
  out.reserve(384);
  try {
    out += "{\"op\":\"";
    out += op_code(op);
    out += "\",\"key\":";
    if (key.empty()) {
      out += "null";
    } else if (auto e =
                   put_image(out, columns, has_after ? after : before, &key, source)) {
      return fail(*e);
    }
    for (auto [name, wanted, image] : {std::tuple{"before", has_before, &before},
                                       std::tuple{"after", has_after, &after}}) {
      put_name(out, name);
      if (!wanted)
        out += "null";
      else if (auto e = put_image(out, columns, *image, nullptr, source))
        return fail(*e);
    }
    put_name(out, "source");
    put_source(out, source);
    put_name(out, "transaction");
    if (source.transaction_id.empty()) {
      out += "null";
    } else {
      out += '{';
      put_name(out, "id", true);
      put_string(out, source.transaction_id);
      put_name(out, "total_order");
      out += std::to_string(source.total_order);
      if (source.data_collection_order != 0) {
        put_name(out, "data_collection_order");
        out += std::to_string(source.data_collection_order);
      }
      out += '}';
    }
    out += '}';
  } catch (const json::exception& e) {
    return fail("`" + source.db + "`.`" + source.table + "`: " + e.what());
  }
  return out;
}

std::string ddl_event(const std::string& statement, const change_source& source) {
  std::string out = "{\"op\":\"ddl\",\"ddl\":";
  // A statement's text is in the connection's character set, which the binlog
  // does not keep: bytes that are not UTF-8 are replaced rather than refused.
  out += json(statement).dump(-1, ' ', false, json::error_handler_t::replace);
  put_name(out, "source");
  put_source(out, source);
  out += '}';
  return out;
}

} // namespace shoal::binlog
