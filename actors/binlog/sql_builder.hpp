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
// Literals need no connection: bytes are written as hex (x'..'), which the
// target stores unchanged in any character set; temporal values as quoted
// strings, TIMESTAMP in UTC (the applier's session uses time_zone '+00:00');
// ENUM and SET as their index and bit mask. The applier's session also sets
// sql_mode NO_AUTO_VALUE_ON_ZERO so zero dates and zero keys are kept.
//
// Pure logic; no actor system, no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "actors/binlog/row_op.hpp"

namespace shoal::binlog {

/// The value as an SQL literal the target stores exactly.
std::string sql_literal(const column_value& value);

/// `name` in backquotes with inner backquotes doubled.
std::string sql_identifier(std::string_view name);

/// The statements that leave the target as applying `ops` one by one in order
/// would (marks are skipped). A multi-row statement grows up to about
/// `max_statement_bytes`.
std::vector<std::string> build_statements(const std::vector<row_op>& ops,
                                          size_t max_statement_bytes = 1 << 22);

/// True when an op writes a value a strict target refuses although a source in
/// a non-strict sql_mode holds it: ENUM's empty error value (index 0).
bool needs_lenient_mode(const std::vector<row_op>& ops);

/// `statement` run with the applier's sql_mode minus strictness, for batches
/// where needs_lenient_mode() holds (MariaDB's SET STATEMENT ... FOR).
std::string lenient(const std::string& statement);

} // namespace shoal::binlog
