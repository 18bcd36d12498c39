// ddl_plan: what the pipeline does with one DDL statement from the binlog.
//
//   auto plan = plan_ddl(statement, default_schema, filter, copy_routines);
//   switch (plan.action) { ... }   // ignore, skip (log + count), apply, stop
//
// Decides from the statement and the pipeline's filter alone:
// - TEMPORARY tables, tables and databases outside the filter: ignored;
// - accounts (users, roles, servers): skipped, they are not data;
// - triggers, events, procedures, functions, packages: skipped unless the
//   pipeline copies routines (a trigger on the target would fire again on rows
//   that already carry its effect; an event would run twice);
// - CREATE/DROP DATABASE rewritten with IF [NOT] EXISTS under the target name;
// - a statement that names a table of a renamed database or table (the target
//   would get it on the wrong object), or tables both inside and outside the
//   filter: stop, with what to do;
// - everything else: applied in the target database of the statement's default
//   schema, with the objects it touches named for the before/after check.
// Pure logic; no I/O.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "actors/binlog/decoder/table_filter.hpp"
#include "actors/binlog/sync/ddl_statement.hpp"

namespace shoal::binlog {

struct ddl_plan {
  enum class action : uint8_t {
    /// Not the pipeline's business (outside the filter, TEMPORARY).
    ignore,
    /// Deliberately not applied: logged and counted; `reason` says why.
    skip,
    /// Run `sql` on the target (after `USE use_db` when set).
    apply,
    /// Cannot be applied faithfully: the pipeline stops; `reason` says why.
    stop,
  };
  action what = action::ignore;
  std::string reason;
  std::string sql;
  std::string use_db;
  /// What the statement touches on the target, {db, name}; name empty for a
  /// database.
  std::vector<std::pair<std::string, std::string>> touched;
  /// The parsed statement.
  ddl_statement parsed;
};

ddl_plan plan_ddl(const std::string& statement, const std::string& default_schema,
                  const table_filter& filter, bool copy_routines);

} // namespace shoal::binlog
