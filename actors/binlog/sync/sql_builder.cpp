#include "actors/binlog/sync/sql_builder.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <map>
#include <string_view>
#include <type_traits>

#include "runtime/base/overload.hpp"

namespace shoal::binlog {

namespace {

// The hottest loop of a catch-up's statements (7% of the node's samples when
// it appended one digit at a time): written through a pointer.
std::string hex_literal(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2 + 3, '\'');
  char* at = out.data();
  *at++ = 'x';
  ++at; // the opening quote
  for (unsigned char c : bytes) {
    *at++ = digits[c >> 4];
    *at++ = digits[c & 15];
  }
  return out;
}

std::string fraction(uint32_t micros) {
  if (micros == 0)
    return {};
  char buf[16];
  std::snprintf(buf, sizeof buf, ".%06u", micros);
  return buf;
}

std::string qualified(const table_schema& t) {
  return sql_identifier(t.target_db) + "." + sql_identifier(t.target_table);
}

std::string values_tuple(const row_image& image) {
  std::string out = "(";
  bool first = true;
  for (size_t i = 0; i < image.values.size(); ++i) {
    if (!image.present[i])
      continue;
    if (!first)
      out += ',';
    first = false;
    out += sql_literal(image.values[i]);
  }
  out += ')';
  return out;
}

std::string column_list(const table_schema& t, const row_image& image) {
  std::string out = "(";
  bool first = true;
  for (size_t i = 0; i < image.present.size(); ++i) {
    if (!image.present[i])
      continue;
    if (!first)
      out += ',';
    first = false;
    out += sql_identifier(t.columns[i]);
  }
  out += ')';
  return out;
}

std::string key_condition(const table_schema& t, const row_image& image) {
  std::string out;
  for (auto i : t.key) {
    if (!out.empty())
      out += " AND ";
    out += sql_identifier(t.columns[i]) + "=" + sql_literal(image.values[i]);
  }
  return out;
}

std::string matching_condition(const table_schema& t, const row_image& image) {
  std::string out;
  for (size_t i = 0; i < image.present.size(); ++i) {
    if (!image.present[i])
      continue;
    if (!out.empty())
      out += " AND ";
    if (i < t.folds.size() && t.folds[i])
      out += "CAST(" + sql_identifier(t.columns[i]) + " AS BINARY)<=>CAST(" +
             sql_literal(image.values[i]) + " AS BINARY)";
    else
      out += sql_identifier(t.columns[i]) + "<=>" + sql_literal(image.values[i]);
  }
  return out.empty() ? "1" : out;
}

std::string assignments(const table_schema& t, const row_image& image) {
  std::string out;
  for (size_t i = 0; i < image.present.size(); ++i) {
    if (!image.present[i])
      continue;
    if (!out.empty())
      out += ',';
    out += sql_identifier(t.columns[i]) + "=" + sql_literal(image.values[i]);
  }
  return out;
}

// True when `b` can join the multi-row statement that `a` started.
bool same_group(const row_op& a, const row_op& b) {
  if (a.kind != b.kind || a.table != b.table)
    return false;
  switch (a.kind) {
  case op_kind::upsert:
  case op_kind::insert:
    return a.after.present == b.after.present;
  case op_kind::delete_:
    return true;
  default:
    return false;
  }
}

} // namespace

std::string sql_identifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`')
      out += '`';
    out += c;
  }
  out += '`';
  return out;
}

std::string sql_literal(const column_value& value) {
  char buf[64];
  return std::visit(
      overload{
          [](const null_value&) -> std::string { return "NULL"; },
          [](int64_t v) { return std::to_string(v); },
          [](uint64_t v) { return std::to_string(v); },
          [&](float v) -> std::string {
            // The float's exact value as a double, not its shortest float text:
            // the target compares a FLOAT column as a double, so a row is only
            // matched (tables without a key) by this; stored, it rounds back to v.
            std::snprintf(buf, sizeof buf, "%.17g", static_cast<double>(v));
            return buf;
          },
          [&](double v) -> std::string {
            std::snprintf(buf, sizeof buf, "%.17g", v);
            return buf;
          },
          [](const decimal_value& v) { return v.text; },
          [&](const date_value& v) -> std::string {
            std::snprintf(buf, sizeof buf, "'%04u-%02u-%02u'", v.year, v.month, v.day);
            return buf;
          },
          [&](const time_value& v) -> std::string {
            std::snprintf(buf, sizeof buf, "'%s%02u:%02u:%02u", v.negative ? "-" : "",
                          v.hours, v.minutes, v.seconds);
            return buf + fraction(v.micros) + "'";
          },
          [&](const datetime_value& v) -> std::string {
            std::snprintf(buf, sizeof buf, "'%04u-%02u-%02u %02u:%02u:%02u", v.year,
                          v.month, v.day, v.hours, v.minutes, v.seconds);
            return buf + fraction(v.micros) + "'";
          },
          [&](const timestamp_value& v) -> std::string {
            if (v.seconds == 0 && v.micros == 0)
              return "'0000-00-00 00:00:00'";
            std::time_t t = v.seconds;
            std::tm tm{};
            gmtime_r(&t, &tm);
            std::snprintf(buf, sizeof buf, "'%04d-%02d-%02d %02d:%02d:%02d",
                          tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                          tm.tm_min, tm.tm_sec);
            return buf + fraction(v.micros) + "'";
          },
          [](const year_value& v) { return std::to_string(v.year); },
          [](const bytes_value& v) { return hex_literal(v.bytes); },
          [](const enum_value& v) { return std::to_string(v.index); },
          [](const set_value& v) { return std::to_string(v.bits); },
          [](const bit_value& v) { return std::to_string(v.bits); },
          [](const json_value& v) {
            return "CONVERT(" + hex_literal(v.text) + " USING utf8mb4)";
          },
      },
      value);
}

namespace {

// Ops that may be collapsed to the last change of each key: whole-row upserts
// and deletes of keyed tables whose rows of different keys cannot collide (see
// table_schema::single_partition). Collapsing reorders rows of different keys,
// which a second unique key or a case-insensitive key would notice: C frees x,
// A takes x, C changes again; collapsed, A would take x while C still holds it.
bool whole_row(const row_op& op) {
  return op.kind == op_kind::delete_ ||
         (op.kind == op_kind::upsert &&
          std::all_of(op.after.present.begin(), op.after.present.end(),
                      [](bool b) { return b; }));
}

bool collapsible(const row_op& op) {
  return op.kind == op_kind::mark || (!op.table->single_partition && whole_row(op));
}

// Whole-row changes of a table whose keys can collide, and inserts into a
// table without a key: batched into multi-row statements, but in their order.
bool in_order(const row_op& op) {
  return op.kind == op_kind::insert ||
         (op.kind != op_kind::mark && op.table->single_partition && whole_row(op));
}

std::string key_of(const row_op& op) {
  auto& image = op.kind == op_kind::delete_ ? op.before : op.after;
  std::string k;
  for (auto i : op.table->key) {
    k += to_string(image.values[i]);
    k += '\0';
  }
  return k;
}

// The row `op` changes, for messages: its key, or its first columns (each
// abbreviated) when its table has none, and its source table.
std::string row_name(const row_op& op) {
  auto& t = *op.table;
  bool after = op.kind == op_kind::upsert || op.kind == op_kind::insert;
  auto& image = after ? op.after : op.before;
  std::string columns;
  auto add = [&](size_t i) {
    auto value = to_string(image.values[i]);
    if (value.size() > 40)
      value = value.substr(0, 32) + "...";
    columns += (columns.empty() ? "" : ", ") + sql_identifier(t.columns[i]) + "=" + value;
  };
  if (t.has_key()) {
    for (auto i : t.key)
      add(i);
  } else {
    for (size_t i = 0, shown = 0; i < image.present.size() && shown < 4; ++i)
      if (image.present[i]) {
        add(i);
        ++shown;
      }
    columns = "without a key (" + columns + ")";
  }
  auto name = "row " + columns + " of " + sql_identifier(t.source_db) + "." +
              sql_identifier(t.source_table);
  if (t.source_db != t.target_db || t.source_table != t.target_table)
    name += " (" + qualified(t) + " on the target)";
  return name;
}

// Appends statements of at most `bound` bytes to `out`; the first row that
// does not fit alone sets `error`, after which nothing is added.
class statement_writer {
public:
  statement_writer(size_t bound, std::vector<std::string>& out)
      : bound_(bound), out_(out) {}

  const std::string& error() const { return error_; }

  /// `ops` in order, consecutive rows of one table and kind in one statement.
  void sequential(const std::vector<const row_op*>& ops);

  /// The last change of every key of `run`, deletes first: the rows differ, so
  /// their order does not matter, and each table needs two statements.
  void collapsed(const std::vector<const row_op*>& run);

private:
  // Statement `head`, then the parts of ops[i], ops[i+1], ... of one group
  // (`part` of each, joined by `separator`) while they fit with `tail`.
  // Returns the index after the last op taken.
  template <class Part>
  size_t multi_row(const std::vector<const row_op*>& ops, size_t i, std::string head,
                   std::string_view separator, Part part, std::string_view tail);

  // A statement of one row.
  void single(const row_op& op, std::string sql);

  bool fits(const row_op& op, size_t bytes) {
    if (bytes <= bound_)
      return true;
    if (error_.empty())
      error_ = statement_too_long(row_name(op), bytes, bound_);
    return false;
  }

  // Longest statement.
  size_t bound_;
  std::vector<std::string>& out_;
  std::string error_;
};

template <class Part>
size_t statement_writer::multi_row(const std::vector<const row_op*>& ops, size_t i,
                                   std::string head, std::string_view separator,
                                   Part part, std::string_view tail) {
  auto& first = *ops[i];
  auto sql = std::move(head) + part(first);
  if (!fits(first, sql.size() + tail.size()))
    return ops.size();
  size_t j = i + 1;
  for (; j < ops.size() && same_group(first, *ops[j]); ++j) {
    auto next = part(*ops[j]);
    if (sql.size() + separator.size() + next.size() + tail.size() > bound_)
      break;
    sql += separator;
    sql += next;
  }
  sql += tail;
  out_.push_back(std::move(sql));
  return j;
}

void statement_writer::single(const row_op& op, std::string sql) {
  if (fits(op, sql.size()))
    out_.push_back(std::move(sql));
}

void statement_writer::sequential(const std::vector<const row_op*>& ops) {
  size_t i = 0;
  while (i < ops.size() && error_.empty()) {
    auto& op = *ops[i];
    if (op.kind == op_kind::mark) {
      ++i;
      continue;
    }
    auto& t = *op.table;
    switch (op.kind) {
    case op_kind::upsert:
    case op_kind::insert: {
      std::string update;
      if (op.kind == op_kind::upsert) {
        for (size_t c = 0; c < op.after.present.size(); ++c) {
          if (!op.after.present[c])
            continue;
          update += update.empty() ? " ON DUPLICATE KEY UPDATE " : ",";
          auto name = sql_identifier(t.columns[c]);
          update += name + "=VALUES(" + name + ")";
        }
      }
      i = multi_row(
          ops, i,
          "INSERT INTO " + qualified(t) + " " + column_list(t, op.after) + " VALUES ",
          ",", [](const row_op& o) { return values_tuple(o.after); }, update);
      break;
    }
    case op_kind::delete_:
      if (t.key.size() == 1) {
        auto k = t.key[0];
        i = multi_row(
            ops, i,
            "DELETE FROM " + qualified(t) + " WHERE " + sql_identifier(t.columns[k]) +
                " IN (",
            ",", [k](const row_op& o) { return sql_literal(o.before.values[k]); }, ")");
      } else {
        i = multi_row(
            ops, i, "DELETE FROM " + qualified(t) + " WHERE ", " OR ",
            [&t](const row_op& o) { return "(" + key_condition(t, o.before) + ")"; }, "");
      }
      break;
    case op_kind::update:
      if (auto set = assignments(t, op.after); !set.empty())
        single(op, "UPDATE " + qualified(t) + " SET " + set + " WHERE " +
                       key_condition(t, op.before));
      ++i;
      break;
    case op_kind::update_matching:
      if (auto set = assignments(t, op.after); !set.empty())
        single(op, "UPDATE " + qualified(t) + " SET " + set + " WHERE " +
                       matching_condition(t, op.before) + " LIMIT 1");
      ++i;
      break;
    case op_kind::delete_matching:
      single(op, "DELETE FROM " + qualified(t) + " WHERE " +
                     matching_condition(t, op.before) + " LIMIT 1");
      ++i;
      break;
    case op_kind::mark:
      ++i;
      break;
    }
  }
}

void statement_writer::collapsed(const std::vector<const row_op*>& run) {
  std::map<std::pair<const table_schema*, std::string>, size_t> last;
  for (size_t i = 0; i < run.size(); ++i)
    if (run[i]->kind != op_kind::mark)
      last[{run[i]->table.get(), key_of(*run[i])}] = i;
  std::vector<size_t> keep;
  for (auto& kv : last)
    keep.push_back(kv.second);
  std::sort(keep.begin(), keep.end(), [&](size_t a, size_t b) {
    auto& x = *run[a];
    auto& y = *run[b];
    if (x.table != y.table)
      return x.table < y.table;
    if (x.kind != y.kind)
      return x.kind == op_kind::delete_;
    return a < b;
  });
  std::vector<const row_op*> ordered;
  for (auto i : keep)
    ordered.push_back(run[i]);
  sequential(ordered);
}

} // namespace

size_t statement_budget(uint64_t max_allowed_packet) {
  auto packet = static_cast<size_t>(max_allowed_packet);
  return packet >= 2 * statement_headroom ? packet - statement_headroom : packet / 2;
}

std::string statement_too_long(const std::string& row, size_t statement_bytes,
                               size_t max_statement_bytes) {
  // The smallest max_allowed_packet whose budget holds the statement, in whole MiB.
  auto packet = std::max(statement_bytes + statement_headroom, 2 * statement_headroom);
  auto mib = (packet + (1u << 20) - 1) >> 20;
  return row + " needs a statement of " + std::to_string(statement_bytes) +
         " bytes, but the target takes at most " + std::to_string(max_statement_bytes) +
         " (its max_allowed_packet less " + std::to_string(statement_headroom) +
         "): raise max_allowed_packet on the target to at least " +
         std::to_string(mib << 20) + " (" + std::to_string(mib) +
         "M) with SET GLOBAL, which new connections take, and in its config file";
}

statement_batch build_statements(const std::vector<row_op>& ops,
                                 size_t max_statement_bytes) {
  statement_batch batch;
  statement_writer writer{max_statement_bytes, batch.statements};
  std::vector<const row_op*> run;
  std::vector<const row_op*> ordered;
  for (auto& op : ops) {
    if (op.kind == op_kind::mark)
      continue;
    if (collapsible(op)) {
      writer.sequential(ordered);
      ordered.clear();
      run.push_back(&op);
      continue;
    }
    writer.collapsed(run);
    run.clear();
    if (in_order(op)) {
      ordered.push_back(&op);
      continue;
    }
    writer.sequential(ordered);
    ordered.clear();
    writer.sequential({&op});
  }
  writer.collapsed(run);
  writer.sequential(ordered);
  if (!writer.error().empty()) {
    batch.statements.clear();
    batch.error = writer.error();
  }
  return batch;
}

bool needs_lenient_mode(const std::vector<row_op>& ops) {
  auto has_zero_enum = [](const row_image& image) {
    for (size_t i = 0; i < image.values.size(); ++i)
      if (image.present[i])
        if (auto e = std::get_if<enum_value>(&image.values[i]); e && e->index == 0)
          return true;
    return false;
  };
  return std::any_of(ops.begin(), ops.end(), [&](const row_op& op) {
    // An upsert's before image (table_schema::keep_before_images) is not written.
    return has_zero_enum(op.after) ||
           (op.kind != op_kind::upsert && has_zero_enum(op.before));
  });
}

std::string lenient(const std::string& statement) {
  return "SET STATEMENT sql_mode='NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION,"
         "ALLOW_INVALID_DATES' FOR " +
         statement;
}

} // namespace shoal::binlog
