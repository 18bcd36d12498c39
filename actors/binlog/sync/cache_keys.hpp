// cache_keys: which hot-cache keys a committed row change makes stale
// (`hotkeys.invalidate_from`), so a pipeline drops them on every node.
//
//   auto t = key_template::parse("sku:{id}");           // or an error saying where
//   cache_keys keys{{{"shop.sku", *t}}};
//   auto stale = keys.of(committed_ops);                 // {"sku:42", "sku:43"}
//
// A template is text with `{column}` placeholders; `{{` and `}}` stand for one
// brace. Column names compare case-insensitively, as MySQL's do. Each row change
// yields the key of its before image and of its after image (an UPDATE that
// moves a row to another key makes both stale), rendered from the images'
// values:
//   integers     as decimal digits (unsigned ones as unsigned)
//   DECIMAL      as the server prints it ("12.50")
//   strings      their bytes as stored (CHAR without trailing spaces)
//   DATE, YEAR   "2026-12-07", "2026"
// A NULL in a template column yields no key: no cached value is named by it.
// Other types (floating point, temporal with a time, ENUM, SET, BIT, JSON) are
// refused: their text depends on the reader's session and column definition,
// which the binlog does not carry, so a key made from them could name nothing
// the application caches. A column the image lacks (binlog_row_image=MINIMAL or
// NOBLOB) is an error too: a key that cannot be made is stale data nobody drops.
// Pure logic; no I/O. A cache_keys is used by one thread at a time.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "messages/binlog_row.hpp"
#include "runtime/base/expected.hpp"

namespace shoal::binlog {

/// A parsed key template such as "sku:{id}".
class key_template {
public:
  /// Parses `text`; the error says what is wrong and at which character.
  static expected<key_template, std::string> parse(const std::string& text);

  const std::string& text() const noexcept { return text_; }

  /// The column names of its placeholders, in order, repeats included.
  std::vector<std::string> columns() const;

  struct piece {
    /// Literal text, or a column name when `column` is set.
    std::string text;
    bool column = false;
  };

  const std::vector<piece>& pieces() const noexcept { return pieces_; }

  /// Every key it can render, as literal runs with any text between them (the
  /// pieces of a hotkey::key_pattern): "sku:{id}" gives {"sku:", ""}.
  std::vector<std::string> wildcard_pieces() const;

private:
  std::string text_;
  std::vector<piece> pieces_;
};

/// One `hotkeys.invalidate_from` entry as a pipeline uses it.
struct invalidation_rule {
  /// The source table, `db.table` (before any rename).
  std::string table;
  key_template key;
};

/// The keys made stale by row changes, for one pipeline's rules.
class cache_keys {
public:
  cache_keys() = default;
  explicit cache_keys(std::vector<invalidation_rule> rules);

  bool empty() const noexcept { return rules_.empty(); }

  /// The wildcard_pieces of every rule of table `db`.`table` (of every table of
  /// `db` when `table` is empty; of every rule when both are): what a DDL that
  /// changes whole tables makes stale, since no row names the keys. Names
  /// compare case-insensitively (lower_case_table_names).
  std::vector<std::vector<std::string>> patterns_of(const std::string& db,
                                                    const std::string& table) const;

  /// The keys of every row change in `ops` (marks have none), in op order,
  /// before image first; a key repeated right after itself is listed once.
  /// The error names the table, the column and why no key could be made.
  expected<std::vector<std::string>, std::string> of(const std::vector<row_op>& ops);

private:
  // A rule's placeholders as column indexes of one table schema.
  struct bound {
    const key_template* key;
    std::vector<std::optional<uint32_t>> columns; // per piece; set for placeholders
  };
  const std::vector<bound>* bind(const std::shared_ptr<const table_schema>& table,
                                 std::string& error);

  std::vector<invalidation_rule> rules_;
  // Bound rules per table schema seen (a DDL makes a new schema); the shared_ptr
  // keeps the address from being reused by another schema.
  std::map<const table_schema*,
           std::pair<std::shared_ptr<const table_schema>, std::vector<bound>>>
      bound_;
};

} // namespace shoal::binlog
