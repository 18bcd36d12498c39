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
// apply_generated() does the same in as few round trips as its statements fit
// (one for a small transaction on MariaDB, where the check fails inside the
// server: owner_fence_sql).
//
// Blocking; one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
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
  /// run_as_writer could not take the writer lock (the error says who holds it);
  /// nothing ran.
  bool writer_lock = false;
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

  /// apply() for statements shoal generated (sql_builder's, checkpoint writes),
  /// each one whole statement: sent as multi-statement texts of up to
  /// batch_text_bytes, so a small transaction is one round trip (START
  /// TRANSACTION, the owner fence, its statements, COMMIT) instead of one per
  /// statement. The fence (owner_fence_sql) fails inside the server, so nothing
  /// after it runs for a fenced process; on MySQL the owner check is read back
  /// first (one more round trip). Longer statements go alone. Never for text
  /// from the source (DDL): it may hold a `;` of its own.
  /// No text, START and COMMIT included, is longer than `max_text_bytes` (pass
  /// the session's statement_budget).
  std::optional<apply_error> apply_generated(const std::vector<std::string>& statements,
                                             size_t max_text_bytes);

  /// Runs `work` on this session for statements that commit by themselves (DDL,
  /// the snapshot's copy), under the pipeline's writer lock and after the owner
  /// check (checkpoint.hpp, "the writer lock"). A fenced process gets
  /// `fenced` and `work` does not run. A lock held past the wait (by an older
  /// owner that took it after this one's claim) is taken from its holder as at
  /// the claim, once. Nothing else is retried.
  std::optional<apply_error>
  run_as_writer(const std::function<mysql_expected<mysql_ok>(mysql_connection&)>& work);

  /// For a pipeline that just claimed its epoch: ends the session of an older
  /// owner that holds the writer lock (evict_older_writers); how many it ended.
  /// `fenced`, when given, says whether it failed because this process is no
  /// longer the owner.
  mysql_expected<uint64_t> evict_older_writers(bool* fenced = nullptr);

  /// Whether the owner fence runs inside the server with COMMIT in the same text
  /// (anonymous compound statements: MariaDB) or is read back first (MySQL).
  /// Set from the server's version at open() and recover(); tests switch it to
  /// cover both.
  void set_fence_in_server(bool on) { compound_statements_ = on; }

  /// The most bytes of statements apply_generated joins into one text.
  static constexpr size_t batch_text_bytes = 64 * 1024;

  /// Whether this session's row events carry their statement's text in the
  /// target's binlog (Annotate_rows). shoal turns that off on MariaDB: its batch
  /// statements are not what the source ran, and their text (hex literals, 64
  /// KiB texts) made the target's binlog about half as large again and cost the
  /// target ~10% of its apply rate. Setting it needs BINLOG ADMIN (or SUPER);
  /// without that the server's setting stays, and this says so.
  bool annotates_rows() const { return annotates_; }

  void set_epoch(uint64_t epoch) { identity_.epoch = epoch; }
  uint64_t epoch() const { return identity_.epoch; }

  mysql_connection& connection() { return conn_; }

private:
  target_session(mysql_connection conn, target_identity identity)
      : conn_(std::move(conn)), identity_(std::move(identity)) {}

  /// The fencing error when the owner check's result names another epoch.
  std::optional<mysql_error> fence_error(const mysql_result& owner) const;

  /// The fencing error after owner_fence_sql signalled: rolls back and names
  /// the new holder.
  mysql_error fenced(apply_error& failure, const mysql_error& signalled);

  /// One attempt of apply_generated; the caller rolls back on an error.
  mysql_expected<mysql_ok> run_generated(const std::vector<std::string>& statements,
                                         size_t max_text_bytes, apply_error& failure);

  /// Runs `attempt` (one transaction, rolled back when it fails) again while it
  /// fails on a deadlock or a lock wait timeout, up to 20 times.
  template <class Attempt> std::optional<apply_error> with_retries(Attempt&& attempt) {
    constexpr int max_conflicts = 20;
    for (int n = 0;; ++n) {
      apply_error failure;
      auto result = attempt(failure);
      if (result)
        return std::nullopt;
      failure.error = result.error();
      if (!failure.fenced && is_transaction_conflict(failure.error) && n < max_conflicts)
        continue;
      return failure;
    }
  }

  mysql_connection conn_;
  target_identity identity_;
  bool annotates_ = false;
  // The target runs anonymous compound statements (MariaDB): the owner fence
  // can travel with COMMIT.
  bool compound_statements_ = false;
};

} // namespace shoal::binlog
