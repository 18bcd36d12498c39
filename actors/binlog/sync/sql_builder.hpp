// sql_builder: the SQL a partition applier sends to the target for a batch of
// row ops, and the literals it writes values as.
//
// Consecutive ops of one table and kind become one multi-row statement:
//   upsert  -> INSERT INTO `db`.`t` (`a`,`b`) VALUES (..),(..)
//              ON DUPLICATE KEY UPDATE `a`=VALUES(`a`),`b`=VALUES(`b`)
//   delete_ -> DELETE FROM `db`.`t` WHERE `id` IN (..)   (or OR-ed key tuples)
//   insert  -> INSERT INTO `db`.`t` (..) VALUES (..),(..)
// update, update_matching and delete_matching are one statement per row (the
// matching ones with `<=>` on every present column and LIMIT 1). Between two
// such ops, whole-row upserts and deletes of keyed tables are collapsed to the
// last change of each key (that is the row's state after the run) and written
// as one DELETE and one INSERT per table: a batch of N sysbench transactions
// costs a few statements, not 4N.
//
// Every statement fits the target's max_allowed_packet: callers pass
// statement_budget(@@max_allowed_packet of their target session), multi-row
// statements take rows while they fit, and a row whose statement alone is too
// long makes the batch an error that names the row and the setting to raise.
// Bytes cost twice their length as hex literals, so a 16 MiB packet takes
// about 8 MB of BLOB in one row.
//
// Literals need no connection: bytes are written as hex (x'..'), which the
// target stores unchanged in any character set; temporal values as quoted
// strings, TIMESTAMP in UTC (the applier's session uses time_zone '+00:00');
// ENUM and SET as their index and bit mask. The applier's session also sets
// sql_mode NO_AUTO_VALUE_ON_ZERO so zero dates and zero keys are kept.
//
// Pure logic; no actor system, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "messages/binlog_row.hpp"

namespace shoal::binlog {

/// The value as an SQL literal the target stores exactly.
std::string sql_literal(const column_value& value);

/// `name` in backquotes with inner backquotes doubled.
std::string sql_identifier(std::string_view name);

// -- the statement budget ----------------------------------------------------

/// What statement_budget keeps free below max_allowed_packet. The server
/// refuses a packet of max_allowed_packet bytes or more, and a query's packet
/// is one command byte and the SQL text, so the longest statement it takes is
/// max_allowed_packet - 2 bytes (MariaDB 10.11; the 4-byte headers of the
/// 16 MiB pieces of a longer packet do not count). The rest leaves room for
/// the checkpoint statement written in the same transaction (checkpoint_store_sql:
/// under 2.5 KiB with the longest names), should it ever share a packet with a
/// batch statement.
inline constexpr size_t statement_headroom = 4096;

/// The longest statement to send to a server session whose
/// @@max_allowed_packet is `max_allowed_packet`: that less statement_headroom
/// (half of it below 8 KiB; the server's least is 1 KiB).
size_t statement_budget(uint64_t max_allowed_packet);

/// The message for a row whose statement alone (`statement_bytes` long) is
/// longer than `max_statement_bytes` (a statement_budget): `row` (which row of
/// which table, e.g. "row `id`=7 of `db`.`t`"), both sizes, and the
/// max_allowed_packet the target needs.
std::string statement_too_long(const std::string& row, size_t statement_bytes,
                               size_t max_statement_bytes);

// -- statements -------------------------------------------------------------

/// What build_statements makes of a batch.
struct statement_batch {
  /// In order; each at most max_statement_bytes long. Empty when error is set.
  std::vector<std::string> statements;
  /// Empty on success; otherwise why the batch cannot be written (see
  /// statement_too_long): the first row whose statement alone is too long,
  /// named by its source table and key (or its first columns, abbreviated,
  /// when the table has no key). Applying part of a batch would be wrong, so
  /// there are no statements then.
  std::string error;
};

/// The statements that leave the target as applying `ops` one by one in order
/// would (marks are skipped), none longer than `max_statement_bytes` (pass
/// statement_budget of the target session's max_allowed_packet).
statement_batch build_statements(const std::vector<row_op>& ops,
                                 size_t max_statement_bytes);

/// True when an op writes a value a strict target refuses although a source in
/// a non-strict sql_mode holds it: ENUM's empty error value (index 0).
bool needs_lenient_mode(const std::vector<row_op>& ops);

/// `statement` run with the applier's sql_mode minus strictness, for batches
/// where needs_lenient_mode() holds (MariaDB's SET STATEMENT ... FOR).
std::string lenient(const std::string& statement);

} // namespace shoal::binlog
