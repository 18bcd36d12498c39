#include "actors/binlog/sync/target_session.hpp"

#include "actors/binlog/sync/checkpoint.hpp"

namespace shoal::binlog {

namespace {

bool is_mariadb(const mysql_connection& conn);

/// Sets the session up; the answer says whether its row events are still
/// annotated in the target's binlog (see target_session::annotates_rows).
mysql_expected<bool> set_up(mysql_connection& conn) {
  auto r = conn.exec(target_session::session_settings_sql());
  if (!r)
    return r.error();
  // A process frozen or cut off in the middle of a transaction keeps its shared
  // lock on sync_owner until the server drops the session (wait_timeout: 8 h by
  // default), and a new owner's claim waits on that lock. MariaDB ends such a
  // transaction after this many idle seconds; a transaction of shoal's is never
  // idle that long between its statements. Best effort: servers without the
  // variable (MySQL, MariaDB before 10.3) keep their default.
  if (!is_mariadb(conn))
    return false;
  (void)conn.exec("SET SESSION idle_transaction_timeout=30");
  // Needs BINLOG ADMIN (or SUPER); without it the session keeps the server's
  // setting.
  auto off = conn.exec("SET SESSION binlog_annotate_row_events=0");
  if (off)
    return false;
  auto on = conn.query("SELECT @@session.binlog_annotate_row_events");
  return !on || on->rows.empty() || on->rows[0].empty() || !on->rows[0][0] ||
         *on->rows[0][0] != "0";
}

// query_batch leaves its index alone when no statement ran.
constexpr size_t no_statement = static_cast<size_t>(-1);

// MariaDB runs anonymous compound statements (BEGIN NOT ATOMIC ... END) outside
// stored programs; MySQL does not.
bool is_mariadb(const mysql_connection& conn) {
  return conn.server_version().find("MariaDB") != std::string::npos;
}

} // namespace

std::string target_session::session_settings_sql() {
  return "SET SESSION sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,"
         "NO_ENGINE_SUBSTITUTION,ALLOW_INVALID_DATES',"
         " time_zone='+00:00', foreign_key_checks=0, unique_checks=1";
}

mysql_expected<target_session> target_session::open(const mysql_config& config,
                                                    target_identity identity) {
  auto conn = mysql_connection::connect(config);
  if (!conn)
    return conn.error();
  auto annotated = set_up(*conn);
  if (!annotated)
    return annotated.error();
  target_session session{std::move(*conn), std::move(identity)};
  session.compound_statements_ = is_mariadb(session.conn_);
  session.annotates_ = *annotated;
  return session;
}

mysql_expected<mysql_ok> target_session::recover() {
  if (auto r = conn_.reconnect(); !r)
    return r.error();
  compound_statements_ = is_mariadb(conn_);
  auto annotated = set_up(conn_);
  if (!annotated)
    return annotated.error();
  annotates_ = *annotated;
  return mysql_ok{};
}

std::optional<mysql_error> target_session::fence_error(const mysql_result& owner) const {
  uint64_t epoch = 0;
  std::string holder = "nobody";
  if (!owner.rows.empty() && !owner.rows[0].empty()) {
    epoch = std::stoull(owner.rows[0][0].value_or("0"));
    holder = owner.rows[0].size() > 1 ? owner.rows[0][1].value_or("?") : "?";
  }
  if (epoch == identity_.epoch)
    return std::nullopt;
  mysql_error err;
  err.operation = "owner check";
  err.endpoint = conn_.endpoint();
  err.message = "pipeline " + identity_.pipeline + " was claimed by " + holder +
                " (epoch " + std::to_string(epoch) + ") after this process (epoch " +
                std::to_string(identity_.epoch) +
                ") started it; this process stops without writing";
  return err;
}

std::optional<apply_error>
target_session::apply(const std::vector<std::string>& statements) {
  return with_retries([&](apply_error& failure) {
    return conn_.transaction([&](mysql_connection& c) -> mysql_expected<mysql_ok> {
      if (identity_.epoch != 0) {
        auto owner =
            c.query(owner_check_sql(identity_.checkpoint_database, identity_.pipeline));
        if (!owner)
          return owner.error();
        if (auto fenced = fence_error(*owner)) {
          failure.fenced = true;
          return *fenced;
        }
      }
      for (size_t i = 0; i < statements.size(); ++i) {
        if (auto r = c.exec(statements[i]); !r) {
          failure.statement = i;
          return r.error();
        }
      }
      return mysql_ok{};
    });
  });
}

std::optional<apply_error>
target_session::apply_generated(const std::vector<std::string>& statements,
                                size_t max_text_bytes) {
  return with_retries([&](apply_error& failure) {
    auto r = run_generated(statements, max_text_bytes, failure);
    if (!r)
      conn_.rollback();
    return r;
  });
}

mysql_expected<mysql_ok>
target_session::run_generated(const std::vector<std::string>& statements,
                              size_t max_text_bytes, apply_error& failure) {
  const bool fenced_pipeline = identity_.epoch != 0;
  // On MariaDB the fence fails inside the server, before anything after it
  // runs, so the first text can hold the statements and end with COMMIT.
  // Elsewhere (MySQL has no anonymous compound statements) the owner check is
  // read back before any statement runs, as apply() does: a statement failing
  // against the new owner's rows must not hide that this process was fenced.
  const bool fence_in_server = fenced_pipeline && compound_statements_;
  std::string check;
  if (fenced_pipeline)
    check = fence_in_server
                ? owner_fence_sql(identity_.checkpoint_database, identity_.pipeline,
                                  identity_.epoch)
                : owner_check_sql(identity_.checkpoint_database, identity_.pipeline);
  // A text holds its statements, a separator after each, and COMMIT: all of it
  // within the target's packet (max_text_bytes is a statement_budget, 4 KiB under
  // max_allowed_packet).
  constexpr size_t separator = 3;
  constexpr std::string_view commit = "COMMIT";
  const size_t limit = std::min(batch_text_bytes, max_text_bytes);
  std::vector<std::string_view> text{"START TRANSACTION"};
  if (fenced_pipeline)
    text.push_back(check);
  size_t next = 0;
  size_t from = 0;
  size_t head = text.size();
  bool may_fill = !fenced_pipeline || fence_in_server;
  bool commit_sent = false;
  // Appends statements from `next` to `text` while they fit in one text, and
  // COMMIT after the last one.
  auto fill = [&] {
    size_t bytes = commit.size();
    for (auto t : text)
      bytes += t.size() + separator;
    while (next < statements.size() &&
           bytes + statements[next].size() + separator <= limit) {
      bytes += statements[next].size() + separator;
      text.push_back(statements[next++]);
    }
    if (next == statements.size()) {
      text.push_back(commit);
      commit_sent = true;
    }
  };
  if (may_fill)
    fill();
  for (bool first = true;; first = false) {
    size_t failed = no_statement;
    auto r = conn_.query_batch(text, &failed);
    if (!r) {
      if (first && fence_in_server && failed == 1 && r.error().code == 1644)
        return fenced(failure, r.error());
      if (failed != no_statement && failed >= head && failed - head < next - from)
        failure.statement = from + (failed - head);
      return r.error();
    }
    if (first && fenced_pipeline && !fence_in_server)
      if (auto claimed = fence_error((*r)[1])) {
        failure.fenced = true;
        return *claimed;
      }
    if (commit_sent)
      return mysql_ok{};
    // Statements too long for a text go alone, as they are (no copy).
    while (next < statements.size() &&
           statements[next].size() + separator + commit.size() > limit) {
      if (auto big = conn_.exec(statements[next]); !big) {
        failure.statement = next;
        return big.error();
      }
      ++next;
    }
    text.clear();
    head = 0;
    from = next;
    fill();
  }
}

namespace {

// How long a writer waits for the lock: under the session's read timeout, so a
// long wait ends as an answer from the server, not as a lost connection.
std::chrono::seconds writer_wait(const mysql_connection& conn) {
  using std::chrono::seconds;
  return std::max(seconds{1},
                  std::min(seconds{20}, conn.config().read_timeout - seconds{5}));
}

} // namespace

std::optional<apply_error> target_session::run_as_writer(
    const std::function<mysql_expected<mysql_ok>(mysql_connection&)>& work) {
  apply_error failure;
  if (identity_.epoch == 0) {
    if (auto r = work(conn_); !r) {
      failure.error = r.error();
      return failure;
    }
    return std::nullopt;
  }
  auto name = writer_lock_name(identity_.checkpoint_database, identity_.pipeline);
  auto locked = take_writer_lock(conn_, name, writer_wait(conn_));
  if (!locked && !is_connection_lost(locked.error())) {
    // Held that long: by an older owner that took it after this one's claim
    // and stopped (frozen) before its owner check. End it, if still the owner.
    bool fenced = false;
    auto evicted = evict_older_writers(&fenced);
    if (!evicted) {
      failure.error = evicted.error();
      failure.fenced = fenced;
      failure.writer_lock = !fenced;
      return failure;
    }
    locked = take_writer_lock(conn_, name, writer_wait(conn_));
  }
  if (!locked) {
    failure.error = locked.error();
    failure.writer_lock = !is_connection_lost(locked.error());
    return failure;
  }
  auto r = [&]() -> mysql_expected<mysql_ok> {
    auto owner =
        conn_.query(owner_check_sql(identity_.checkpoint_database, identity_.pipeline));
    if (!owner)
      return owner.error();
    if (auto claimed = fence_error(*owner)) {
      failure.fenced = true;
      return *claimed;
    }
    return work(conn_);
  }();
  if (!r) {
    failure.error = r.error();
    return failure;
  }
  // A release that fails (the connection dropped after the work) changes
  // nothing: the server frees the lock when the session ends.
  (void)release_writer_lock(conn_, name);
  return std::nullopt;
}

mysql_expected<uint64_t> target_session::evict_older_writers(bool* fenced) {
  if (identity_.epoch == 0)
    return uint64_t{0};
  auto r = shoal::binlog::evict_older_writers(conn_, identity_.checkpoint_database,
                                              identity_.pipeline, identity_.epoch,
                                              writer_wait(conn_));
  if (!r && fenced)
    *fenced = r.error().message.rfind(owner_fence_message, 0) == 0;
  return r;
}

mysql_error target_session::fenced(apply_error& failure, const mysql_error& signalled) {
  failure.fenced = true;
  conn_.rollback();
  auto owner =
      conn_.query(owner_check_sql(identity_.checkpoint_database, identity_.pipeline));
  if (owner)
    if (auto claimed = fence_error(*owner))
      return *claimed;
  auto err = signalled;
  err.message = "pipeline " + identity_.pipeline +
                " was claimed by another process after this process (epoch " +
                std::to_string(identity_.epoch) +
                ") started it; this process stops without writing";
  return err;
}

} // namespace shoal::binlog
