// target_session: one connection of a pipeline to its target, always in the
// session settings shoal applies with, and fenced by the pipeline's epoch.
//
//   auto s = target_session::open(cfg, {"shoal", "orders", epoch});
//   auto r = s->apply({"INSERT ...", checkpoint_store_sql(...)});
//   if (!r && is_connection_lost(r.error().error)) s->recover();  // then reload
//
// Session settings (session_settings_sql): UTC time zone (TIMESTAMP literals are
// UTC), no foreign key checks (the source checked them; partitions apply out of
// cross-table order), and a strict sql_mode, so a value the target would clamp,
// truncate or turn into NULL is an error instead: whatever the decoder got
// wrong stops the pipeline rather than diverging. The mode keeps what a source
// can legitimately hold (zero dates, invalid dates of ALLOW_INVALID_DATES, a
// zero AUTO_INCREMENT value).
//
// Every apply() is one transaction that first reads the pipeline's epoch under
// a shared lock (owner_check_sql): if another process claimed the pipeline
// since this one started, nothing is written and the error says who.
//
// Blocking; one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/adapters/mysql_connection.hpp"

namespace shoal::binlog {

/// Which pipeline a session writes for, and the epoch it claimed.
struct target_identity {
  std::string checkpoint_database;
  std::string pipeline;
  /// 0 before the pipeline claimed ownership: apply() then checks nothing.
  uint64_t epoch = 0;
};

/// Why an apply() did not commit.
struct apply_error {
  mysql_error error;
  /// Index of the statement that failed, when one did (not for BEGIN/COMMIT).
  std::optional<size_t> statement;
  /// Another process owns the pipeline now: stop, never retry.
  bool fenced = false;
};

class target_session {
public:
  /// Connects and sets the session up.
  static mysql_expected<target_session> open(const mysql_config& config,
                                             target_identity identity);

  /// The statement that sets shoal's session variables.
  static std::string session_settings_sql();

  /// Reconnects and sets the session up again; fails unless both succeed, so
  /// nothing ever runs on a session without its settings.
  mysql_expected<mysql_ok> recover();

  /// Runs `statements` in one transaction after the owner check; rolls back on
  /// any error. Deadlocks and lock wait timeouts are retried here (the
  /// transaction was rolled back whole); a lost connection is returned (the
  /// commit may or may not have happened: the caller reloads its checkpoint).
  std::optional<apply_error> apply(const std::vector<std::string>& statements);

  void set_epoch(uint64_t epoch) { identity_.epoch = epoch; }
  uint64_t epoch() const { return identity_.epoch; }

  mysql_connection& connection() { return conn_; }

private:
  target_session(mysql_connection conn, target_identity identity)
      : conn_(std::move(conn)), identity_(std::move(identity)) {}

  mysql_connection conn_;
  target_identity identity_;
};

} // namespace shoal::binlog
