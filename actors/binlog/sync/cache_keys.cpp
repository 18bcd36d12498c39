#include "actors/binlog/sync/cache_keys.hpp"

#include <cstdio>
#include <strings.h>

namespace shoal::binlog {

expected<key_template, std::string> key_template::parse(const std::string& text) {
  key_template t;
  t.text_ = text;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty())
      t.pieces_.push_back({std::move(literal), false});
    literal.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal += '}';
        ++i;
        continue;
      }
      return fail("a '}' at character " + std::to_string(i + 1) +
                  " closes no placeholder (write '}}' for a brace)");
    }
    if (c != '{') {
      literal += c;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      ++i;
      continue;
    }
    auto end = text.find('}', i + 1);
    if (end == std::string::npos)
      return fail("the '{' at character " + std::to_string(i + 1) +
                  " is not closed (write '{{' for a brace)");
    auto name = text.substr(i + 1, end - i - 1);
    if (name.empty() || name.find('{') != std::string::npos)
      return fail("the placeholder at character " + std::to_string(i + 1) +
                  " does not name a column");
    flush();
    t.pieces_.push_back({std::move(name), true});
    i = end;
  }
  flush();
  if (t.columns().empty())
    return fail(std::string{"names no column: write the key with {column} placeholders, "
                            "e.g. \"sku:{id}\""});
  return t;
}

std::vector<std::string> key_template::columns() const {
  std::vector<std::string> out;
  for (auto& p : pieces_)
    if (p.column)
      out.push_back(p.text);
  return out;
}

std::vector<std::string> key_template::wildcard_pieces() const {
  std::vector<std::string> out{""};
  bool after_column = false;
  for (auto& p : pieces_) {
    if (!p.column)
      out.back() += p.text;
    else if (!after_column)
      out.emplace_back();
    after_column = p.column;
  }
  return out;
}

cache_keys::cache_keys(std::vector<invalidation_rule> rules) : rules_(std::move(rules)) {}

std::vector<std::vector<std::string>>
cache_keys::patterns_of(const std::string& db, const std::string& table) const {
  std::vector<std::vector<std::string>> out;
  for (auto& r : rules_) {
    auto dot = r.table.find('.');
    if (!db.empty() &&
        (dot != db.size() || strncasecmp(r.table.c_str(), db.c_str(), dot)))
      continue;
    if (!table.empty() && strcasecmp(r.table.c_str() + dot + 1, table.c_str()))
      continue;
    out.push_back(r.key.wildcard_pieces());
  }
  return out;
}

namespace {

const char* type_name(const column_value& v) {
  static const char* names[] = {
      "NULL",     "integer",   "integer", "FLOAT",  "DOUBLE", "DECIMAL", "DATE", "TIME",
      "DATETIME", "TIMESTAMP", "YEAR",    "string", "ENUM",   "SET",     "BIT",  "JSON"};
  return names[v.index()];
}

// The key text of `v`; nullopt for NULL. Sets `error` for a type keys are not
// made from.
std::optional<std::string> key_text(const column_value& v, std::string& error) {
  if (std::holds_alternative<null_value>(v))
    return std::nullopt;
  if (auto* i = std::get_if<int64_t>(&v))
    return std::to_string(*i);
  if (auto* u = std::get_if<uint64_t>(&v))
    return std::to_string(*u);
  if (auto* d = std::get_if<decimal_value>(&v))
    return d->text;
  if (auto* b = std::get_if<bytes_value>(&v))
    return b->bytes;
  if (auto* y = std::get_if<year_value>(&v))
    return y->year == 0 ? std::string{"0000"} : std::to_string(y->year);
  if (auto* d = std::get_if<date_value>(&v)) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04u-%02u-%02u", unsigned{d->year},
                  unsigned{d->month}, unsigned{d->day});
    return std::string{buf};
  }
  error = std::string{"is a "} + type_name(v) +
          " column: cache keys are made from integer, DECIMAL, string, DATE and YEAR "
          "columns only";
  return std::nullopt;
}

} // namespace

const std::vector<cache_keys::bound>*
cache_keys::bind(const std::shared_ptr<const table_schema>& table, std::string& error) {
  if (auto i = bound_.find(table.get()); i != bound_.end())
    return &i->second.second;
  if (bound_.size() >= 1024) // schemas replaced by DDL: drop the old ones
    bound_.clear();
  auto name = table->source_db + "." + table->source_table;
  std::vector<bound> out;
  for (auto& r : rules_) {
    if (strcasecmp(r.table.c_str(), name.c_str()) != 0)
      continue;
    bound b{&r.key, {}};
    for (auto& p : r.key.pieces()) {
      if (!p.column) {
        b.columns.emplace_back();
        continue;
      }
      std::optional<uint32_t> at;
      for (size_t c = 0; c < table->columns.size(); ++c)
        if (strcasecmp(table->columns[c].c_str(), p.text.c_str()) == 0)
          at = static_cast<uint32_t>(c);
      if (!at) {
        std::string cols;
        for (auto& c : table->columns)
          cols += (cols.empty() ? "" : ", ") + c;
        error = "cache key \"" + r.key.text() + "\" of " + name +
                ": the table has no column " + p.text + " (its columns: " + cols + ")";
        return nullptr;
      }
      if (*at < table->generated.size() && table->generated[*at]) {
        error =
            "cache key \"" + r.key.text() + "\" of " + name + ": column " + p.text +
            " is generated, and the pipeline does not carry generated columns' values";
        return nullptr;
      }
      b.columns.push_back(at);
    }
    out.push_back(std::move(b));
  }
  auto [i, _] = bound_.emplace(table.get(), std::make_pair(table, std::move(out)));
  return &i->second.second;
}

expected<std::vector<std::string>, std::string>
cache_keys::of(const std::vector<row_op>& ops) {
  std::vector<std::string> keys;
  if (rules_.empty())
    return keys;
  std::string error;
  for (auto& op : ops) {
    if (op.kind == op_kind::mark || !op.table)
      continue;
    auto* rules = bind(op.table, error);
    if (!rules)
      return fail(error);
    if (rules->empty())
      continue;
    auto where = [&](const bound& b, const std::string& column) {
      return "cache key \"" + b.key->text() + "\" of " + op.table->source_db + "." +
             op.table->source_table + " at " + op.key.at.to_string() + ": column " +
             column + " ";
    };
    // Renders `image`; columns it lacks come from `fallback` (an after image
    // lacks the columns an UPDATE left unchanged under binlog_row_image=MINIMAL).
    auto render = [&](const bound& b, const row_image& image,
                      const row_image* fallback) -> std::optional<std::string> {
      std::string key;
      auto& pieces = b.key->pieces();
      for (size_t i = 0; i < pieces.size(); ++i) {
        if (!pieces[i].column) {
          key += pieces[i].text;
          continue;
        }
        auto c = *b.columns[i];
        const row_image* from = nullptr;
        if (c < image.present.size() && image.present[c])
          from = &image;
        else if (fallback && c < fallback->present.size() && fallback->present[c])
          from = fallback;
        if (!from) {
          error = where(b, pieces[i].text) +
                  "is not in the row image (binlog_row_image=MINIMAL or NOBLOB on the "
                  "source leaves it out; FULL, or a key over primary key columns, "
                  "makes the key)";
          return std::nullopt;
        }
        std::string type_error;
        auto text = key_text(from->values[c], type_error);
        if (!type_error.empty()) {
          error = where(b, pieces[i].text) + type_error;
          return std::nullopt;
        }
        if (!text)
          return std::nullopt; // NULL: no key
        key += *text;
      }
      return key;
    };
    auto add = [&](std::optional<std::string> key) {
      if (key && (keys.empty() || keys.back() != *key))
        keys.push_back(std::move(*key));
    };
    for (auto& b : *rules) {
      bool before = !op.before.present.empty();
      bool after = !op.after.present.empty();
      if (before) {
        add(render(b, op.before, nullptr));
        if (!error.empty())
          return fail(error);
      }
      if (after) {
        add(render(b, op.after, before ? &op.before : nullptr));
        if (!error.empty())
          return fail(error);
      }
    }
  }
  return keys;
}

} // namespace shoal::binlog
